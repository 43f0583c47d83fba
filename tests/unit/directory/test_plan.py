"""The planner and its safety fuse, on plain data."""

import uuid

from shared.directory.plan import (
    GroupFailure,
    GroupKey,
    GroupState,
    IdentityIndex,
    Managed,
    MappingRow,
    Thresholds,
    plan_team,
)

TENANT = "9f2c4a57-3d1e-4b8a-9c6d-2e7f1a0b3c45"
OPS = MappingRow(uuid.uuid4(), "azure", TENANT, "2e5807ce-58f3-4a94-9b37-1a2b2e085957", "member")
LEADS = MappingRow(uuid.uuid4(), "azure", TENANT, "3e5807ce-58f3-4a94-9b37-1a2b2e085957", "admin")
LOOSE = Thresholds(max_removals=100, max_removal_percent=100)


def people(n: int) -> list[tuple[uuid.UUID, str]]:
    return [(uuid.uuid4(), f"{uuid.uuid4()}") for _ in range(n)]


def index(pairs: list[tuple[uuid.UUID, str]]) -> IdentityIndex:
    return IdentityIndex([(u, "azure", TENANT, oid, None) for u, oid in pairs])


def state(*oids: str) -> GroupState:
    return GroupState(dict.fromkeys(oids))


def test_adds_updates_removes_and_remembers_the_pending() -> None:
    (a, oa), (b, ob), (c, oc), (d, od) = people(4)
    newcomer = "99999999-0000-4000-8000-000000000000"
    fetched = {OPS.key: state(oa, ob, newcomer), LEADS.key: state(ob)}
    members = {a: "viewer", b: "member", c: "member", d: "owner"}
    managed = {a: Managed("viewer", (OPS.id,)), b: Managed("member", (OPS.id,)),
               c: Managed("member", (OPS.id,))}  # fmt: skip

    plan = plan_team([OPS, LEADS], fetched, index([(a, oa), (b, ob), (c, oc), (d, od)]),
                     members, managed, LOOSE)  # fmt: skip

    assert [(x.user_id, x.previous, x.role) for x in plan.update] == sorted(
        [(a, "viewer", "member"), (b, "member", "admin")], key=lambda t: str(t[0])
    )
    assert [x.user_id for x in plan.remove] == [c]
    assert [(p.member_id, p.role) for p in plan.pending] == [(newcomer, "member")]
    assert plan.status == "applied"


def test_owners_and_manual_members_are_never_touched() -> None:
    (owner, oo), (manual, om) = people(2)
    plan = plan_team(
        [LEADS],
        {LEADS.key: state(oo, om)},
        index([(owner, oo), (manual, om)]),
        {owner: "owner", manual: "viewer"},
        {},
        LOOSE,
    )
    assert plan.changes == 0
    assert {n.reason.split(":")[0] for n in plan.skipped} == {"owner", "manual member"}


def test_a_failed_group_derives_no_removal_or_downgrade() -> None:
    (a, oa), (b, ob), (c, oc) = people(3)
    fetched = {OPS.key: state(oa), LEADS.key: GroupFailure("unavailable", "Graph is down")}
    members = {a: "admin", b: "member", c: "member"}
    managed = {a: Managed("admin", (LEADS.id,)), b: Managed("member", (OPS.id,)),
               c: Managed("member", (OPS.id,))}  # fmt: skip

    plan = plan_team([OPS, LEADS], fetched, index([(a, oa), (b, ob), (c, oc)]),
                     members, managed, LOOSE)  # fmt: skip

    assert plan.remove == []
    assert plan.update == []
    assert {n.user_id for n in plan.held} == {a, b, c}
    assert [p.code for p in plan.problems] == ["unavailable"]
    assert plan.status == "applied"  # what could be known is applied: nothing here


def test_every_group_failing_is_a_failed_run() -> None:
    plan = plan_team([OPS], {OPS.key: GroupFailure("unauthorized", "no consent")},
                     index([]), {}, {}, LOOSE)  # fmt: skip
    assert plan.status == "failed"


def test_a_group_that_comes_back_empty_trips_the_fuse() -> None:
    (a, oa), (b, ob) = people(2)
    plan = plan_team([OPS], {OPS.key: state()}, index([(a, oa), (b, ob)]),
                     {a: "member", b: "member"},
                     {a: Managed("member", (OPS.id,)), b: Managed("member", (OPS.id,))},
                     LOOSE)  # fmt: skip
    assert plan.status == "blocked"
    assert [f.code for f in plan.fuse] == ["empty_group"]
    assert len(plan.remove) == 2  # the plan still shows what would happen


def test_a_new_empty_group_holding_no_one_does_not_trip() -> None:
    plan = plan_team([OPS], {OPS.key: state()}, index([]), {}, {}, LOOSE)
    assert plan.status == "applied"
    assert plan.fuse == []


def test_removal_thresholds_count_and_share() -> None:
    crowd = people(20)
    members = {u: "member" for u, _ in crowd}
    managed = {u: Managed("member", (OPS.id,)) for u, _ in crowd}
    keep = [o for _, o in crowd[:14]]  # six leave

    by_count = plan_team([OPS], {OPS.key: state(*keep)}, index(crowd), members, managed,
                         Thresholds(max_removals=5, max_removal_percent=100))  # fmt: skip
    by_share = plan_team([OPS], {OPS.key: state(*keep)}, index(crowd), members, managed,
                         Thresholds(max_removals=100, max_removal_percent=25))  # fmt: skip
    within = plan_team([OPS], {OPS.key: state(*keep)}, index(crowd), members, managed,
                       Thresholds(max_removals=6, max_removal_percent=30))  # fmt: skip

    assert [f.code for f in by_count.fuse] == ["too_many_removals"]
    assert [f.code for f in by_share.fuse] == ["removal_share"]
    assert within.fuse == []
    assert len(within.remove) == 6


def test_one_removal_never_trips_the_share_rule() -> None:
    (a, oa), (b, ob) = people(2)
    plan = plan_team([OPS], {OPS.key: state(oa)}, index([(a, oa), (b, ob)]),
                     {a: "member", b: "member"},
                     {a: Managed("member", (OPS.id,)), b: Managed("member", (OPS.id,))},
                     Thresholds(max_removals=10, max_removal_percent=10))  # fmt: skip
    assert plan.fuse == []
    assert [x.user_id for x in plan.remove] == [b]


def test_google_members_match_by_id_or_verified_email() -> None:
    by_id, by_mail = uuid.uuid4(), uuid.uuid4()
    group = MappingRow(uuid.uuid4(), "google", "example.com", "ops@example.com", "viewer")
    identities = IdentityIndex([
        (by_id, "google", None, "1001", None),
        (by_mail, "google", None, "elsewhere", "cleo@example.com"),
    ])  # fmt: skip
    fetched = {
        GroupKey("google", "example.com", "ops@example.com"): GroupState(
            {"1001": "ana@example.com", "1003": "Cleo@example.com", "1009": "zed@example.com"}
        )
    }

    plan = plan_team([group], fetched, identities, {}, {}, LOOSE)

    assert {c.user_id for c in plan.add} == {by_id, by_mail}
    assert [p.email for p in plan.pending] == ["zed@example.com"]
