"""SSRF refusals: schemes, credentials in URLs, loopback, private, link-local (the
metadata endpoint), IPv6 and IPv4-mapped forms, and DNS names resolving to any of
them, at save time and at connection time."""

import re

import httpx
import pytest

from localdev.alertsink import AlertSink
from shared.alerts.transport import UnsafeTarget, address_refusal, check_url, guarded_client

PUBLIC = "93.184.216.34"


def resolver(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise UnsafeTarget(f"{host} does not resolve")
        return table[host]

    return resolve


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "a loopback address"),
        ("127.8.9.10", "a loopback address"),
        ("10.0.0.1", "a private address"),
        ("10.255.255.255", "a private address"),
        ("172.16.5.4", "a private address"),
        ("192.168.1.1", "a private address"),
        ("169.254.169.254", "a link-local address"),
        ("0.0.0.0", "the unspecified address"),
        ("100.64.0.1", "not a public address"),
        ("224.0.0.1", "a multicast address"),
        ("::1", "a loopback address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("::ffff:10.1.2.3", "a private address"),
        ("fe80::1", "a link-local address"),
        ("fd00::1", "a private address"),
        ("::", "the unspecified address"),
    ],
)
def test_non_public_addresses_are_refused(address: str, kind: str) -> None:
    assert address_refusal(address, allow_loopback=False) == kind
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(UnsafeTarget, match="refused"):
        check_url(f"https://{host}/hook", allow_loopback=False)


@pytest.mark.parametrize("address", [PUBLIC, "2606:4700:4700::1111", "8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert address_refusal(address, allow_loopback=False) is None


@pytest.mark.parametrize(
    "target", ["127.0.0.1", "10.0.0.7", "169.254.169.254", "::1", "::ffff:169.254.169.254"]
)
def test_dns_names_resolving_to_refused_addresses(target: str) -> None:
    resolve = resolver({"hooks.evil.example": [PUBLIC, target]})
    with pytest.raises(UnsafeTarget, match=re.escape(f"hooks.evil.example resolves to {target}")):
        check_url("https://hooks.evil.example/x", allow_loopback=False, resolve=resolve)


def test_a_public_name_passes_and_gives_its_host() -> None:
    resolve = resolver({"discord.com": [PUBLIC]})
    assert check_url("https://discord.com/api/webhooks/1/a", allow_loopback=False,
                     resolve=resolve) == "discord.com"  # fmt: skip


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://discord.com/api/webhooks/1/a", "must start with https://"),
        ("ftp://discord.com/x", "must start with https://"),
        ("https://user:pw@discord.com/x", "user name or password"),
        ("https:///nohost", "no host"),
        ("https://discord.com:99999/x", "not a valid URL"),
        ("https://nowhere.invalid/x", "does not resolve"),
        ("https://discord.com/api/webhooks/1/a b", "spaces or control characters"),
        ("https://discord.com/api/webhooks/1/a\n", "spaces or control characters"),
        ("https://disc\x00ord.com/x", "spaces or control characters"),
    ],
)
def test_malformed_or_insecure_urls(url: str, message: str) -> None:
    with pytest.raises(UnsafeTarget, match=message):
        check_url(url, allow_loopback=False, resolve=resolver({"discord.com": [PUBLIC]}))


def test_the_development_setting_allows_loopback_only() -> None:
    assert check_url("http://127.0.0.1:8080/x", allow_loopback=True) == "127.0.0.1"
    assert address_refusal("::1", allow_loopback=True) is None
    for address in ("10.0.0.1", "169.254.169.254", "192.168.0.1"):
        with pytest.raises(UnsafeTarget, match="refused"):
            check_url(f"http://{address}/x", allow_loopback=True)


def test_the_connection_itself_is_guarded_against_rebinding() -> None:
    """A name that passed at save time but now resolves to loopback is refused when
    connecting; with loopback allowed the same request reaches the sink."""
    with AlertSink() as sink:
        rebinding = resolver({"hooks.example": ["127.0.0.1"]})
        url = f"http://hooks.example:{sink.port}/api/webhooks/1/x"
        with guarded_client(allow_loopback=False, timeout_s=5, resolve=rebinding) as client:
            with pytest.raises(UnsafeTarget, match=r"resolves to 127\.0\.0\.1, a loopback"):
                client.post(url, content=b"{}")
            with pytest.raises(UnsafeTarget, match=r"127\.0\.0\.1 is a loopback"):
                client.post(sink.url("/x"), content=b"{}")
        assert sink.received() == []
        with guarded_client(allow_loopback=True, timeout_s=5, resolve=rebinding) as client:
            assert client.post(url, content=b"{}").status_code == 204
        assert [r.path for r in sink.received()] == ["/api/webhooks/1/x"]


def test_redirects_are_not_followed() -> None:
    with guarded_client(allow_loopback=True, timeout_s=5) as client:
        assert client.follow_redirects is False
        assert isinstance(client, httpx.Client)
