"""Directory sync end to end on the real database: mappings through the API,
runs against the Graph and Google fakes, the fuse, dry runs, access lost at
once, and the pending join at sign-in through the token hook."""

import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from azure.functions.decorators.function_app import Function

from shared.auth import get_token_verifier
from shared.config import Settings, get_settings
from shared.db import Database, reset_database
from shared.directory import sync
from shared.directory.sync import Clients, SyncRequest, run_sync
from tests.factories.directory import (
    FIRST_DELTA,
    GOOGLE_DOMAIN,
    GOOGLE_GROUP,
    OPS_GROUP,
    USER_A,
    USER_B,
    USER_C,
    USER_D,
    DirectoryFake,
    directory_env,
    reply,
)
from tests.factories.teams import Crew, make_crew
from tests.factories.users import create_identity, create_user, url_as
from tests.integration.teams_support import Api, api_env

pytestmark = pytest.mark.integration


@pytest.fixture
def fake() -> DirectoryFake:
    return DirectoryFake().standard_graph().standard_google()


TENANT = str(uuid.uuid4())


@pytest.fixture(autouse=True)
def tenant() -> str:
    """A tenant of each test's own: delta chains and identities of other tests never mix in."""
    global TENANT  # the helpers below read it
    TENANT = str(uuid.uuid4())
    return TENANT


@pytest.fixture
def settings(
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    database: Database,
    fake: DirectoryFake,
    tenant: str,
) -> Iterator[Settings]:
    env = {**api_env(), **directory_env(), "DATABASE_URL": database_url, "ENTRA_TENANT_IDS": tenant}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    get_token_verifier.cache_clear()
    reset_database()
    current = get_settings()
    # "Sync now" builds its clients from settings: point them at the fake.
    monkeypatch.setattr(
        sync.Clients,
        "from_settings",
        classmethod(lambda cls, s, http=None, **kw: clients_for(fake, s)),
    )
    yield current
    with database.service() as conn:  # the next test starts from no directory state
        for table in ("directory_mappings", "directory_members", "directory_pending",
                      "directory_groups", "directory_delta_links"):  # fmt: skip
            conn.execute(f"delete from public.{table}")
    reset_database()
    get_settings.cache_clear()
    get_token_verifier.cache_clear()


def clients_for(fake: DirectoryFake, settings: Settings) -> Clients:
    from shared.directory.retry import RetryPolicy

    return Clients(
        fake.client(),
        settings,
        RetryPolicy.from_settings(settings, sleep=lambda s: None, jitter=lambda a, b: 0.0),
    )


@pytest.fixture
def api(settings: Settings, app_functions: dict[str, Function]) -> Api:
    return Api(app_functions)


def azure_identity(database_url: str, user: uuid.UUID, oid: str, tenant: str | None = None) -> None:
    pairwise = f"pairwise-{uuid.uuid4()}"  # Entra's per-application sub: not the oid
    data = {"sub": pairwise, "custom_claims": {"tid": tenant or TENANT, "oid": oid}}
    create_identity(database_url, user, "azure", pairwise, data)


def google_identity(database_url: str, user: uuid.UUID, sub: str, email: str) -> None:
    data = {"sub": sub, "email": email, "email_verified": True}
    create_identity(database_url, user, "google", sub, data)


@pytest.fixture
def crew(database: Database, database_url: str) -> Crew:
    crew = make_crew(database)
    azure_identity(database_url, crew.owner, "0f000000-0000-4000-8000-000000000001")
    return crew


def people(database: Database, database_url: str) -> dict[str, uuid.UUID]:
    users = {}
    for name, oid in (("a", USER_A), ("b", USER_B), ("c", USER_C)):
        users[name] = create_user(database)
        azure_identity(database_url, users[name], oid)
    return users


def roles(database: Database, team_id: uuid.UUID) -> dict[uuid.UUID, str]:
    with database.service() as conn:
        rows = conn.execute(
            "select user_id, role::text from public.team_members where team_id = %s", (team_id,)
        ).fetchall()
    return dict(rows)


def map_ops(api: Api, crew: Crew, role: str = "member") -> dict[str, Any]:
    response = api(
        "POST",
        f"/api/teams/{crew.team_id}/directory/mappings",
        crew.owner,
        body={"provider": "azure", "tenant": TENANT.upper(), "group_id": OPS_GROUP, "role": role},
    )
    assert response.status == 201, response.json
    return response.json  # type: ignore[no-any-return]


def timer(database: Database, settings: Settings, fake: DirectoryFake) -> list[sync.TeamOutcome]:
    return run_sync(database, settings, SyncRequest(), clients_for(fake, settings))


def outcome_of(outcomes: list[sync.TeamOutcome], team_id: uuid.UUID) -> sync.TeamOutcome:
    return next(o for o in outcomes if o.team_id == team_id)


def test_the_team_follows_the_group(
    api: Api,
    crew: Crew,
    database: Database,
    database_url: str,
    settings: Settings,
    fake: DirectoryFake,
) -> None:
    users = people(database, database_url)
    mapping = map_ops(api, crew)
    assert mapping["tenant"] == TENANT

    first = outcome_of(timer(database, settings, fake), crew.team_id)
    assert first.status == "applied"
    team = roles(database, crew.team_id)
    assert {team[users[n]] for n in "abc"} == {"member"}

    # B leaves the group, D (no account yet) joins it.
    fake.on(("graph", FIRST_DELTA), reply("graph", "delta_changes"))
    assert api("GET", f"/api/teams/{crew.team_id}", users["b"]).status == 200
    second = outcome_of(timer(database, settings, fake), crew.team_id)
    assert second.status == "applied"
    assert users["b"] not in roles(database, crew.team_id)
    # Access is gone with the sync's commit: RLS reads team_members, not the token.
    response = api("GET", f"/api/teams/{crew.team_id}", users["b"])
    assert response.status == 404
    with database.user({"sub": str(users["b"]), "role": "authenticated"}) as conn:
        visible = conn.execute(
            "select count(*) from public.teams where id = %s", (crew.team_id,)
        ).fetchone()
    assert visible == (0,)

    runs = api("GET", f"/api/teams/{crew.team_id}/directory/runs", crew.owner).json
    assert [r["status"] for r in runs["data"]] == ["applied", "applied"]
    assert runs["data"][0]["summary"]["removed"] == 1
    assert runs["data"][0]["plan"]["remove"][0]["user_id"] == str(users["b"])
    pending = api("GET", f"/api/teams/{crew.team_id}/directory/pending", crew.owner).json
    assert [p["member_id"] for p in pending["data"]] == [USER_D]

    with database.service() as conn:
        actors = conn.execute(
            "select distinct actor from public.audit_log where team_id = %s "
            "and action in ('team_members.insert', 'team_members.delete') and target_id = any(%s)",
            (crew.team_id, [str(u) for u in users.values()]),
        ).fetchall()
    assert actors == [("directory-sync",)]

    # D signs up with Entra: the token hook, run as Supabase Auth runs it (logged
    # in as supabase_auth_admin), joins them at once.
    newcomer = create_user(database)
    azure_identity(database_url, newcomer, USER_D)
    event = {"user_id": str(newcomer), "claims": {"sub": str(newcomer)},
             "authentication_method": "oauth"}  # fmt: skip
    with psycopg.connect(url_as(database_url, "supabase_auth_admin"), autocommit=True) as conn:
        answer = conn.execute(
            "select current_user, public.custom_access_token_hook(%s::jsonb)",
            (json.dumps(event),),
        ).fetchone()
    assert answer is not None
    assert answer[0] == "supabase_auth_admin"
    assert answer[1]["claims"]["directory_roles"] == {str(crew.team_id): "member"}
    assert roles(database, crew.team_id)[newcomer] == "member"


def test_an_emptied_group_trips_the_fuse_and_an_owner_can_force_it(
    api: Api,
    crew: Crew,
    database: Database,
    database_url: str,
    settings: Settings,
    fake: DirectoryFake,
) -> None:
    users = people(database, database_url)
    map_ops(api, crew)
    timer(database, settings, fake)
    before = roles(database, crew.team_id)

    fake.on(("graph", FIRST_DELTA), reply("graph", "delta_all_removed"))
    fake.on(("graph", "emptied-round"), reply("graph", "delta_no_changes"))
    blocked = outcome_of(timer(database, settings, fake), crew.team_id)
    assert blocked.status == "blocked"
    assert roles(database, crew.team_id) == before

    # Dry run: the plan, nothing applied.
    dry = api("POST", f"/api/teams/{crew.team_id}/directory/sync", crew.owner,
              body={"dry_run": True})  # fmt: skip
    assert dry.status == 201, dry.json
    assert dry.json["status"] == "planned"
    assert {e["user_id"] for e in dry.json["plan"]["remove"]} == {str(u) for u in users.values()}
    assert roles(database, crew.team_id) == before

    again = api("POST", f"/api/teams/{crew.team_id}/directory/sync", crew.owner, body={})
    assert again.status == 409  # one manual run a minute
    with database.service() as conn:
        conn.execute(
            "update public.directory_sync_runs set started_at = started_at - interval '2 min', "
            "finished_at = finished_at - interval '2 min' where team_id = %s",
            (crew.team_id,),
        )
    forced = api("POST", f"/api/teams/{crew.team_id}/directory/sync", crew.owner,
                 body={"force": True})  # fmt: skip
    assert forced.status == 201, forced.json
    assert forced.json["status"] == "applied"
    assert not set(users.values()) & set(roles(database, crew.team_id))
    assert crew.owner in roles(database, crew.team_id)  # owners are never touched


def test_a_failed_fetch_removes_no_one(
    api: Api,
    crew: Crew,
    database: Database,
    database_url: str,
    settings: Settings,
    fake: DirectoryFake,
) -> None:
    users = people(database, database_url)
    map_ops(api, crew)
    timer(database, settings, fake)
    fake.on(("graph", FIRST_DELTA), reply("graph", "error_service_unavailable", 503))

    outcome = outcome_of(timer(database, settings, fake), crew.team_id)

    assert outcome.status == "failed"
    assert set(users.values()) <= set(roles(database, crew.team_id))


def test_google_groups_match_by_verified_identity(
    api: Api,
    crew: Crew,
    database: Database,
    database_url: str,
    settings: Settings,
    fake: DirectoryFake,
) -> None:
    google_identity(database_url, crew.owner, "114000000000000000999", f"boss@{GOOGLE_DOMAIN}")
    ana = create_user(database)
    google_identity(database_url, ana, "114006485839284103001", "ana@example.com")
    response = api(
        "POST",
        f"/api/teams/{crew.team_id}/directory/mappings",
        crew.owner,
        body={"provider": "google", "tenant": GOOGLE_DOMAIN, "group_id": GOOGLE_GROUP,
              "role": "viewer"},
    )  # fmt: skip
    assert response.status == 201, response.json

    outcome = outcome_of(timer(database, settings, fake), crew.team_id)

    assert outcome.status == "applied"
    assert roles(database, crew.team_id)[ana] == "viewer"
    assert {p.email for p in outcome.plan.pending} == {"ben@example.com", "cleo@example.com"}


@pytest.mark.parametrize(
    ("who", "body", "status"),
    [
        ("admin", {}, 403),
        ("outsider", {}, 404),
        ("owner", {"tenant": "00000000-0000-4000-8000-000000000000"}, 422),
        ("owner", {"role": "owner"}, 422),
        ("owner", {"group_id": "not-a-guid"}, 422),
    ],
)
def test_mapping_refusals(
    api: Api, crew: Crew, who: str, body: dict[str, str], status: int
) -> None:
    payload = {"provider": "azure", "tenant": TENANT, "group_id": OPS_GROUP, **body}
    response = api(
        "POST", f"/api/teams/{crew.team_id}/directory/mappings", crew.user(who), body=payload
    )
    assert response.status == status, response.json
    assert response.is_problem


def test_an_owner_who_never_signed_in_with_the_tenant_cannot_map_it(
    api: Api, database: Database
) -> None:
    crew = make_crew(database)  # no Entra identity
    response = api(
        "POST",
        f"/api/teams/{crew.team_id}/directory/mappings",
        crew.owner,
        body={"provider": "azure", "tenant": TENANT, "group_id": OPS_GROUP},
    )
    assert response.status == 403
    assert "sign in with an Entra account" in response.json["detail"]


def test_mfa_teams_need_aal2_for_mapping_changes(
    api: Api, database: Database, database_url: str
) -> None:
    crew = make_crew(database, require_mfa=True)
    azure_identity(database_url, crew.owner, "0f000000-0000-4000-8000-0000000000aa")
    path = f"/api/teams/{crew.team_id}/directory/mappings"
    body = {"provider": "azure", "tenant": TENANT, "group_id": OPS_GROUP}
    assert api("POST", path, crew.owner, body=body).status == 403
    created = api("POST", path, crew.owner, body=body, aal="aal2")
    assert created.status == 201
    mapping = f"{path}/{created.json['id']}"
    assert api("PATCH", mapping, crew.owner, body={"role": "viewer"}).status == 403
    assert api("PATCH", mapping, crew.owner, body={"role": "viewer"}, aal="aal2").status == 200
    assert api("GET", path, crew.owner).json["count"] == 1
    assert api("DELETE", mapping, crew.owner, aal="aal2").status == 204
