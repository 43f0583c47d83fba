"""Sending to a URL a team typed in, without letting it reach our own network (SSRF).

A destination URL must be `https://` (plain `http://` only with
`alerts_allow_loopback`, for local development) with no credentials in it.
Its host is resolved and every address it resolves to must be public: a
loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local
(169.254/16 with the cloud metadata endpoint, fe80::/10), shared, reserved,
multicast or unspecified address is refused, IPv4-mapped IPv6 addresses
included. `alerts_allow_loopback` lets loopback through (the local alert
sink) and nothing else.

The check runs twice: when the URL is saved (`check_url`, a 422 that says
why) and at every connection (`GuardedBackend`), which resolves the name
itself and connects to the address it checked, so a name that resolves to
a public address at save time and to 127.0.0.1 later (DNS rebinding) is
still refused. The client never follows redirects and ignores proxy
variables.
"""

import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

Resolver = Callable[[str, int], list[str]]
"""host, port -> the addresses it resolves to."""


class UnsafeTarget(Exception):
    """A destination URL or address this server will not send to; the message says why."""


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeTarget(f"{host} does not resolve") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def address_refusal(address: str, *, allow_loopback: bool) -> str | None:
    """What kind of address `address` is when it may not be sent to ("a loopback
    address"), or None when it is a public address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global or ip.is_reserved:
        return "not a public address"
    return None


def check_addresses(host: str, addresses: Iterable[str], *, allow_loopback: bool) -> list[str]:
    """The addresses, if every one is allowed; UnsafeTarget naming the first that is not."""
    found = list(addresses)
    if not found:
        raise UnsafeTarget(f"{host} does not resolve")
    for address in found:
        refusal = address_refusal(address, allow_loopback=allow_loopback)
        if refusal is None:
            continue
        if address == host:
            raise UnsafeTarget(f"refused: {address} is {refusal}")
        raise UnsafeTarget(f"refused: {host} resolves to {address}, {refusal}")
    return found


def check_url(url: str, *, allow_loopback: bool, resolve: Resolver = system_resolver) -> str:
    """The URL's host when it may be sent to; UnsafeTarget saying why not otherwise."""
    if any(c.isspace() or not c.isprintable() for c in url):
        raise UnsafeTarget("the URL must not contain spaces or control characters")
    try:
        httpx.URL(url)
        parts = urlsplit(url)
        port = parts.port
    except (ValueError, httpx.InvalidURL) as exc:
        raise UnsafeTarget(f"not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and allow_loopback):
        raise UnsafeTarget("the URL must start with https://")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("the URL must not carry a user name or password")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeTarget("the URL has no host")
    port = port or (443 if scheme == "https" else 80)
    try:
        ipaddress.ip_address(host)
        addresses = [host]
    except ValueError:
        addresses = resolve(host, port)
    check_addresses(host, addresses, allow_loopback=allow_loopback)
    return host


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, connecting only to addresses `address_refusal` allows."""

    def __init__(self, *, allow_loopback: bool, resolve: Resolver = system_resolver) -> None:
        self.allow_loopback = allow_loopback
        self.resolve = resolve

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            ipaddress.ip_address(host)
            addresses = [host]
        except ValueError:
            addresses = self.resolve(host, port)
        checked = check_addresses(host, addresses, allow_loopback=self.allow_loopback)
        # The checked address itself: the name is not resolved a second time.
        # TLS still verifies the certificate against the URL's host name.
        return super().connect_tcp(checked[0], port, timeout, local_address, socket_options)

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise UnsafeTarget("unix sockets are not a destination")


class GuardedTransport(httpx.HTTPTransport):
    """An httpx transport whose connections go through `GuardedBackend`."""

    def __init__(
        self,
        *,
        allow_loopback: bool,
        resolve: Resolver = system_resolver,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int = 64,
    ) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(trust_env=False),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=30.0,
            network_backend=GuardedBackend(allow_loopback=allow_loopback, resolve=resolve),
        )


def guarded_client(
    *, allow_loopback: bool, timeout_s: float, resolve: Resolver = system_resolver
) -> httpx.Client:
    """The client alerts are sent with: guarded connections, no redirects, no proxies."""
    return httpx.Client(
        transport=GuardedTransport(allow_loopback=allow_loopback, resolve=resolve),
        timeout=timeout_s,
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": "StreamTrack-Alerts/1"},
    )
