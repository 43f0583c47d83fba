"""Google Workspace: the delegated service-account token and members.list,
faked at HTTP."""

from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from shared.config import Settings
from shared.directory.errors import (
    DirectoryAuthError,
    DirectoryNotConfigured,
    GroupNotFound,
    Throttled,
)
from shared.directory.fetch import fetch_google
from shared.directory.google import SCOPE, GoogleDirectory, GoogleTokens
from shared.directory.plan import GroupFailure, GroupKey, GroupState
from shared.directory.retry import RetryPolicy
from tests.factories.directory import (
    GOOGLE_DOMAIN,
    GOOGLE_GROUP,
    GOOGLE_PAGE2,
    DirectoryFake,
    reply,
    service_account_json,
)

KEY = service_account_json()


def settings() -> Settings:
    return Settings(
        google_service_account_json=KEY,
        google_delegated_admin="admin@example.com",
        google_workspace_domains=GOOGLE_DOMAIN,
    )


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def fake() -> DirectoryFake:
    return DirectoryFake().standard_google()


def directory(fake: DirectoryFake, waits: list[float]) -> GoogleDirectory:
    http = fake.client()
    tokens = GoogleTokens(settings(), http)
    policy = RetryPolicy(sleep=waits.append, jitter=lambda low, high: high)
    return GoogleDirectory(http, tokens.token, policy)


def test_members_are_paged_and_only_active_users_count(
    fake: DirectoryFake, waits: list[float]
) -> None:
    members = directory(fake, waits).members(GOOGLE_GROUP)

    assert members == {
        "114006485839284103001": "ana@example.com",
        "114006485839284103002": "ben@example.com",  # once, though listed twice (derived)
        "114006485839284103003": "cleo@example.com",
    }
    first, second = fake.sent("google")
    assert urlsplit(str(first.url)).path == (f"/admin/directory/v1/groups/{GOOGLE_GROUP}/members")
    query = parse_qs(urlsplit(str(first.url)).query)
    assert query == {"maxResults": ["200"], "includeDerivedMembership": ["true"]}
    assert parse_qs(urlsplit(str(second.url)).query)["pageToken"] == [GOOGLE_PAGE2]
    assert first.headers["Authorization"] == "Bearer ya29.c.b0AXv0zTPfakeDelegatedAdminToken"


def test_the_token_is_a_delegated_jwt_bearer_grant(fake: DirectoryFake, waits: list[float]) -> None:
    directory(fake, waits).members(GOOGLE_GROUP)

    (call,) = fake.sent("google-token")
    form = parse_qs(call.content.decode())
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    claims = jwt.decode(form["assertion"][0], options={"verify_signature": False})
    assert claims["sub"] == "admin@example.com"
    assert claims["scope"] == SCOPE
    assert claims["iss"] == "directory-sync@streamtrack-test.iam.gserviceaccount.com"


def test_missing_delegation_is_an_auth_error(fake: DirectoryFake, waits: list[float]) -> None:
    fake.on("google-token", reply("google", "token_unauthorized_client", 401))

    with pytest.raises(DirectoryAuthError, match="domain-wide delegation"):
        directory(fake, waits).members(GOOGLE_GROUP)


def test_user_rate_limit_403_backs_off_and_retries(fake: DirectoryFake, waits: list[float]) -> None:
    fake.on(
        ("google", GOOGLE_GROUP, ""),
        reply("google", "error_rate_limit", 403),
        reply("google", "members_page1"),
    )

    assert len(directory(fake, waits).members(GOOGLE_GROUP)) == 3
    assert waits == [0.5]


def test_rate_limit_that_persists_is_throttled(fake: DirectoryFake, waits: list[float]) -> None:
    fake.on(("google", GOOGLE_GROUP, ""), reply("google", "error_rate_limit", 403))

    with pytest.raises(Throttled):
        directory(fake, waits).members(GOOGLE_GROUP)
    assert len(waits) == 3


def test_a_failed_second_page_fails_the_group_it_is_never_partial(
    fake: DirectoryFake, waits: list[float]
) -> None:
    fake.on(("google", GOOGLE_GROUP, GOOGLE_PAGE2), reply("google", "error_not_authorized", 403))

    result = fetch_google(directory(fake, waits), GOOGLE_DOMAIN, [GOOGLE_GROUP])

    state = result.states[GroupKey("google", GOOGLE_DOMAIN, GOOGLE_GROUP)]
    assert isinstance(state, GroupFailure)
    assert state.code == "unauthorized"


def test_unknown_group_and_empty_group(fake: DirectoryFake, waits: list[float]) -> None:
    fake.on(("google", "nobody@example.com", ""), reply("google", "error_not_found", 404))
    fake.on(("google", "empty@example.com", ""), reply("google", "members_empty"))
    client = directory(fake, waits)

    with pytest.raises(GroupNotFound):
        client.members("nobody@example.com")
    result = fetch_google(client, GOOGLE_DOMAIN, ["empty@example.com"])
    assert result.states[GroupKey("google", GOOGLE_DOMAIN, "empty@example.com")] == GroupState({})


def test_a_bad_key_is_a_configuration_error() -> None:
    with pytest.raises(DirectoryNotConfigured):
        GoogleTokens(
            Settings(google_service_account_json="{}", google_delegated_admin="a@example.com"),
            DirectoryFake().client(),
        )
    with pytest.raises(DirectoryNotConfigured):
        GoogleTokens(Settings(), DirectoryFake().client())
