"""Entra ID: MSAL's token calls and Graph's group delta, faked at HTTP."""

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from shared.config import Settings
from shared.directory.errors import (
    DeltaExpired,
    DirectoryAuthError,
    DirectoryUnavailable,
    InvalidDirectoryResponse,
    Throttled,
)
from shared.directory.fetch import chunks, fetch_entra
from shared.directory.graph import EntraTokens, GraphDirectory
from shared.directory.plan import GroupFailure, GroupKey, GroupState
from shared.directory.retry import RetryPolicy
from tests.factories.directory import (
    EMPTY_GROUP,
    FIRST_DELTA,
    OPS_GROUP,
    SKIP,
    TENANT,
    USER_A,
    USER_B,
    USER_C,
    USER_D,
    DirectoryFake,
    reply,
)

GROUPS = sorted([OPS_GROUP, EMPTY_GROUP])


def settings(**values: str) -> Settings:
    base = {
        "entra_client_id": "00000000-0000-4000-8000-00000000c1d0",
        "entra_client_secret": "test-only-entra-secret",
        "entra_tenant_ids": TENANT,
    }
    return Settings(**{**base, **values})


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def fake() -> DirectoryFake:
    return DirectoryFake().standard_graph()


def graph(fake: DirectoryFake, waits: list[float], **policy: float) -> GraphDirectory:
    http = fake.client()
    tokens = EntraTokens(settings(), http)
    retry = RetryPolicy(sleep=waits.append, jitter=lambda low, high: high, **policy)  # type: ignore[arg-type]
    return GraphDirectory(http, tokens.token, retry)


def test_a_full_round_follows_next_links_and_merges_a_group_split_over_pages(
    fake: DirectoryFake, waits: list[float]
) -> None:
    round_ = graph(fake, waits).delta_round(TENANT, GROUPS)

    assert round_.full
    assert round_.pages == 2
    assert round_.delta_link.endswith(f"$deltatoken={FIRST_DELTA}")
    ops = round_.groups[OPS_GROUP]
    assert [m for m, removed in ops.entries if not removed] == [USER_A, USER_B, USER_C]
    assert round_.groups[EMPTY_GROUP].entries == []  # a group without members@delta is empty
    assert round_.ignored == 2  # the nested group and the device
    first = fake.sent("graph")[0]
    query = parse_qs(urlsplit(str(first.url)).query)
    assert query["$select"] == ["members"]
    assert query["$filter"] == [" or ".join(f"id eq '{g}'" for g in GROUPS)]
    assert first.headers["Authorization"].startswith("Bearer eyJ0eXAi")
    second = fake.sent("graph")[1]
    assert str(second.url).endswith(f"$skiptoken={SKIP}")


def test_msal_asks_the_tenant_authority_for_an_app_token(
    fake: DirectoryFake, waits: list[float]
) -> None:
    graph(fake, waits).delta_round(TENANT, GROUPS)

    token_calls = fake.sent("entra-token")
    assert len(token_calls) == 1  # cached by MSAL for both Graph pages
    assert f"/{TENANT}/oauth2/v2.0/token" in str(token_calls[0].url)
    form = parse_qs(token_calls[0].content.decode())
    assert form["grant_type"] == ["client_credentials"]
    assert form["scope"] == ["https://graph.microsoft.com/.default"]
    assert form["client_id"] == ["00000000-0000-4000-8000-00000000c1d0"]


def test_a_refused_client_secret_is_an_auth_error_naming_the_reason(
    fake: DirectoryFake, waits: list[float]
) -> None:
    fake.on("entra-token", reply("graph", "token_invalid_client", 401))

    with pytest.raises(DirectoryAuthError, match="invalid_client: AADSTS7000215"):
        graph(fake, waits).delta_round(TENANT, GROUPS)
    assert not fake.sent("graph")


def test_changes_from_a_delta_link_carry_removed_members(
    fake: DirectoryFake, waits: list[float]
) -> None:
    fake.on(("graph", FIRST_DELTA), reply("graph", "delta_changes"))
    link = f"https://graph.microsoft.com/v1.0/groups/delta?$deltatoken={FIRST_DELTA}"

    round_ = graph(fake, waits).delta_round(TENANT, GROUPS, link)

    assert not round_.full
    assert round_.groups[OPS_GROUP].entries == [(USER_B, True), (USER_D, False)]


def test_fetch_applies_removals_to_the_stored_copy(fake: DirectoryFake, waits: list[float]) -> None:
    fake.on(("graph", FIRST_DELTA), reply("graph", "delta_changes"))
    link = f"https://graph.microsoft.com/v1.0/groups/delta?$deltatoken={FIRST_DELTA}"
    copies = {
        OPS_GROUP: GroupState(dict.fromkeys([USER_A, USER_B, USER_C])),
        EMPTY_GROUP: GroupState({}),
    }

    result = fetch_entra(graph(fake, waits), TENANT, GROUPS, copies, {tuple(GROUPS): link})

    ops = result.states[GroupKey("azure", TENANT, OPS_GROUP)]
    assert isinstance(ops, GroupState)
    assert set(ops.members) == {USER_A, USER_C, USER_D}
    assert result.states[GroupKey("azure", TENANT, EMPTY_GROUP)] == GroupState({})
    assert result.links[tuple(GROUPS)] == (
        "https://graph.microsoft.com/v1.0/groups/delta?$deltatoken="
        "3Bv8t2dQ0kHhmmDhHzCY0Hs6snoIHJCSIfCHdqKdWNZ2VX3kErpyna9GygROwBk-round2",
        False,
    )


@pytest.mark.parametrize(
    ("status", "headers"),
    [(410, {"Location": "https://graph.microsoft.com/v1.0/groups/delta"}), (400, {})],
)
def test_an_expired_delta_link_means_a_full_resync(
    fake: DirectoryFake, waits: list[float], status: int, headers: dict[str, str]
) -> None:
    fake.on(("graph", "stale"), reply("graph", "error_sync_state_not_found", status, **headers))
    stale = "https://graph.microsoft.com/v1.0/groups/delta?$deltatoken=stale"
    copies = {OPS_GROUP: GroupState(dict.fromkeys([USER_D])), EMPTY_GROUP: GroupState({})}

    client = graph(fake, waits)
    with pytest.raises(DeltaExpired):
        client.delta_round(TENANT, GROUPS, stale)
    result = fetch_entra(client, TENANT, GROUPS, copies, {tuple(GROUPS): stale})

    ops = result.states[GroupKey("azure", TENANT, OPS_GROUP)]
    assert isinstance(ops, GroupState)
    assert set(ops.members) == {USER_A, USER_B, USER_C}  # the copy replaced, not patched
    assert result.links[tuple(GROUPS)][1] is True
    assert not waits  # an expired link is not retried, it is restarted


def test_429_waits_retry_after_then_succeeds(fake: DirectoryFake, waits: list[float]) -> None:
    fake.on(
        ("graph", "start"),
        reply("graph", "error_throttled", 429, **{"Retry-After": "7"}),
        reply("graph", "delta_full_page1"),
    )

    round_ = graph(fake, waits).delta_round(TENANT, GROUPS)

    assert waits == [7.0]
    assert round_.pages == 2
    assert len(fake.sent("graph")) == 3


def test_a_retry_after_beyond_the_cap_is_not_waited(
    fake: DirectoryFake, waits: list[float]
) -> None:
    fake.on(("graph", "start"), reply("graph", "error_throttled", 429, **{"Retry-After": "3600"}))

    with pytest.raises(Throttled) as caught:
        graph(fake, waits, retry_after_cap_s=60).delta_round(TENANT, GROUPS)

    assert caught.value.retry_after == 3600
    assert caught.value.request_id == "a1b2c3d4-0000-4000-8000-000000000429"
    assert waits == []


def test_a_page_that_keeps_failing_fails_the_round_and_every_group_of_it(
    fake: DirectoryFake, waits: list[float]
) -> None:
    fake.on(("graph", SKIP), reply("graph", "error_service_unavailable", 503))

    result = fetch_entra(graph(fake, waits), TENANT, GROUPS, {}, {})

    assert all(isinstance(s, GroupFailure) for s in result.states.values())
    assert {s.code for s in result.states.values() if isinstance(s, GroupFailure)} == {
        "unavailable"
    }
    assert result.links == {}
    assert len(waits) == 3  # four attempts on the second page


def test_forbidden_names_the_permission(fake: DirectoryFake, waits: list[float]) -> None:
    fake.on(("graph", "start"), reply("graph", "error_forbidden", 403))

    with pytest.raises(DirectoryAuthError, match=r"GroupMember\.Read\.All"):
        graph(fake, waits).delta_round(TENANT, GROUPS)


def test_a_group_missing_from_a_full_round_is_a_failure_not_empty(
    fake: DirectoryFake, waits: list[float]
) -> None:
    unknown = "11111111-2222-4333-8444-555555555555"
    groups = sorted([OPS_GROUP, EMPTY_GROUP, unknown])

    result = fetch_entra(graph(fake, waits), TENANT, groups, {}, {})

    missing = result.states[GroupKey("azure", TENANT, unknown)]
    assert isinstance(missing, GroupFailure)
    assert missing.code == "group_not_found"


def test_a_link_outside_graph_never_gets_the_token(fake: DirectoryFake, waits: list[float]) -> None:
    page = reply("graph", "delta_full_page1").json()
    page["@odata.nextLink"] = "https://attacker.example/groups/delta?$skiptoken=x"
    fake.on(("graph", "start"), httpx.Response(200, json=page))

    with pytest.raises(InvalidDirectoryResponse, match="left Graph"):
        graph(fake, waits).delta_round(TENANT, GROUPS)


@pytest.mark.parametrize(
    "body",
    [
        {"value": []},  # neither link
        {"value": [{"members@delta": []}], "@odata.deltaLink": "https://graph.microsoft.com/x"},
        {"value": "nope", "@odata.deltaLink": "https://graph.microsoft.com/x"},
    ],
)
def test_a_malformed_page_is_an_invalid_response(
    fake: DirectoryFake, waits: list[float], body: object
) -> None:
    fake.on(("graph", "start"), httpx.Response(200, json=body))

    with pytest.raises(InvalidDirectoryResponse):
        graph(fake, waits).delta_round(TENANT, GROUPS)


def test_transport_errors_are_retried_then_unavailable(waits: list[float]) -> None:
    fake = DirectoryFake()

    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    fake.on(("graph", "start"), boom)
    with pytest.raises(DirectoryUnavailable):
        graph(fake, waits).delta_round(TENANT, GROUPS)
    assert len(waits) == 3


def test_filters_hold_at_most_50_ids() -> None:
    ids = [f"{i:08x}-0000-4000-8000-000000000000" for i in range(120)]
    sets = chunks(ids)
    assert [len(s) for s in sets] == [50, 50, 20]
    assert sorted(g for s in sets for g in s) == sorted(ids)
    with pytest.raises(ValueError, match="1 to 50"):
        GraphDirectory(httpx.Client(), lambda t: "x", RetryPolicy()).first_url(ids[:51])


def test_a_certificate_credential_sends_a_signed_assertion() -> None:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "streamtrack-directory")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    pem = (
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    ).decode()
    fake = DirectoryFake().standard_graph()
    tokens = EntraTokens(settings(entra_client_certificate=pem), fake.client())

    assert tokens.token(TENANT).startswith("eyJ0eXAi")
    form = parse_qs(fake.sent("entra-token")[0].content.decode())
    assert form["client_assertion_type"] == [
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    ]
    assert "client_secret" not in form
