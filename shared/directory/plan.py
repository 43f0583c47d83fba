"""Planning a team's directory sync: pure, from what was fetched and what the
team holds now, to the changes and the safety fuse's verdict.

Rules (owners never touched; manual members left alone):
- a user in one or more mapped groups gets the highest of their roles; not
  yet a member: added; directory-managed with another role: updated;
- a directory-managed member in no mapped group any more: removed;
- a directory member with no matching account: pending (joins at sign-in);
- a mapping whose group could not be fetched completely makes the whole
  team's run additive: no removal and no downgrade is derived (held);
- the fuse blocks the run when a group comes back empty while members hold
  their role through it, when removals exceed the count threshold, or when
  more than one removal is also above the percentage of managed members.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal
from uuid import UUID

from shared.directory.errors import Provider

ROLE_RANK: Mapping[str, int] = {"viewer": 1, "member": 2, "admin": 3, "owner": 4}


@dataclass(frozen=True, slots=True)
class GroupKey:
    """A group in a directory."""

    provider: Provider
    tenant: str
    group_id: str


@dataclass(frozen=True, slots=True)
class GroupState:
    """A complete membership of a group: user id in the directory -> email (Google)."""

    members: Mapping[str, str | None]
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class GroupFailure:
    """The group could not be fetched completely this run."""

    code: str
    message: str


Fetched = Mapping[GroupKey, GroupState | GroupFailure]


@dataclass(frozen=True, slots=True)
class MappingRow:
    id: UUID
    provider: Provider
    tenant: str
    group_id: str
    role: str

    @property
    def key(self) -> GroupKey:
        return GroupKey(self.provider, self.tenant, self.group_id)


@dataclass(frozen=True, slots=True)
class Managed:
    """A directory-managed membership as recorded."""

    role: str
    mapping_ids: tuple[UUID, ...]


class IdentityIndex:
    """Directory member -> Supabase user, from `directory_identity_keys()` rows."""

    def __init__(self, rows: Iterable[tuple[UUID, str, str | None, str, str | None]]) -> None:
        self._azure: dict[tuple[str, str], UUID] = {}
        self._google_id: dict[str, UUID] = {}
        self._google_email: dict[str, UUID] = {}
        for user_id, provider, tenant, member_id, email in rows:
            if provider == "azure" and tenant:
                self._azure.setdefault((tenant, member_id), user_id)
            elif provider == "google":
                self._google_id.setdefault(member_id, user_id)
                if email:
                    self._google_email.setdefault(email, user_id)

    def user(self, key: GroupKey, member_id: str, email: str | None) -> UUID | None:
        if key.provider == "azure":
            return self._azure.get((key.tenant, member_id))
        found = self._google_id.get(member_id)
        if found is None and email:
            found = self._google_email.get(email.lower())
        return found


@dataclass(frozen=True, slots=True)
class Grant:
    role: str
    mapping_ids: tuple[UUID, ...]


@dataclass(frozen=True, slots=True)
class PendingPerson:
    provider: Provider
    tenant: str
    member_id: str
    email: str | None
    role: str
    mapping_ids: tuple[UUID, ...]


@dataclass(frozen=True, slots=True)
class Change:
    user_id: UUID
    role: str
    """The role after the change (removals: the role the member had)."""
    previous: str | None = None
    mapping_ids: tuple[UUID, ...] = ()


@dataclass(frozen=True, slots=True)
class Note:
    user_id: UUID
    role: str
    reason: str


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    message: str
    mapping_id: UUID | None = None


@dataclass(slots=True)
class Plan:
    """What a run would change in one team, and whether the fuse lets it."""

    add: list[Change] = field(default_factory=list)
    update: list[Change] = field(default_factory=list)
    remove: list[Change] = field(default_factory=list)
    refresh: list[Change] = field(default_factory=list)
    """Managed members whose role stays but whose granting mappings changed."""
    pending: list[PendingPerson] = field(default_factory=list)
    held: list[Note] = field(default_factory=list)
    skipped: list[Note] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    fuse: list[Problem] = field(default_factory=list)
    """Why the fuse blocks the run (empty: it does not)."""
    all_failed: bool = False

    @property
    def status(self) -> Literal["applied", "blocked", "failed"]:
        if self.all_failed:
            return "failed"
        return "blocked" if self.fuse else "applied"

    @property
    def changes(self) -> int:
        return len(self.add) + len(self.update) + len(self.remove)


@dataclass(frozen=True, slots=True)
class Thresholds:
    max_removals: int
    max_removal_percent: float


def _better(a: Grant | None, role: str, mapping_id: UUID) -> Grant:
    if a is None:
        return Grant(role, (mapping_id,))
    best = role if ROLE_RANK[role] > ROLE_RANK[a.role] else a.role
    return Grant(best, (*a.mapping_ids, mapping_id))


def plan_team(
    mappings: Iterable[MappingRow],
    fetched: Fetched,
    identities: IdentityIndex,
    members: Mapping[UUID, str],
    managed: Mapping[UUID, Managed],
    thresholds: Thresholds,
) -> Plan:
    """The team's plan. `members`: every member and role; `managed`: the sync's ones."""
    plan = Plan()
    desired: dict[UUID, Grant] = {}
    pending: dict[tuple[Provider, str, str], tuple[str | None, Grant]] = {}
    mapping_list = list(mappings)
    failed = 0
    for mapping in mapping_list:
        state = fetched.get(mapping.key)
        if state is None:
            state = GroupFailure("not_fetched", "the group was not fetched this run")
        if isinstance(state, GroupFailure):
            failed += 1
            plan.problems.append(Problem(state.code, state.message, mapping.id))
            continue
        holders = [u for u, m in managed.items() if mapping.id in m.mapping_ids]
        if not state.members and holders:
            why = "was deleted" if state.deleted else "came back empty"
            plan.fuse.append(
                Problem(
                    "empty_group",
                    f"group {mapping.group_id} {why} while {len(holders)} member(s) hold "
                    "their role through it; nothing is removed until it has members again "
                    "or an owner forces the run",
                    mapping.id,
                )
            )
        for member_id, email in state.members.items():
            user = identities.user(mapping.key, member_id, email)
            if user is None:
                pkey = (mapping.provider, mapping.tenant, member_id)
                email_before, grant = pending.get(pkey, (email, None))
                pending[pkey] = (email_before or email, _better(grant, mapping.role, mapping.id))
            else:
                desired[user] = _better(desired.get(user), mapping.role, mapping.id)

    plan.all_failed = bool(mapping_list) and failed == len(mapping_list)
    partial = failed > 0
    for (provider, tenant, member_id), (email, grant) in sorted(pending.items()):
        plan.pending.append(
            PendingPerson(provider, tenant, member_id, email, grant.role, grant.mapping_ids)
        )

    for user, grant in sorted(desired.items(), key=lambda kv: str(kv[0])):
        current = members.get(user)
        if current is None:
            plan.add.append(Change(user, grant.role, None, grant.mapping_ids))
        elif current == "owner":
            plan.skipped.append(Note(user, current, "owner: never changed by directory sync"))
        elif user not in managed:
            plan.skipped.append(Note(user, current, "manual member: keeps their role"))
        elif current != grant.role:
            if partial and ROLE_RANK[grant.role] < ROLE_RANK[current]:
                plan.held.append(Note(user, current, "downgrade held: a group failed to fetch"))
            else:
                plan.update.append(Change(user, grant.role, current, grant.mapping_ids))
        elif set(managed[user].mapping_ids) != set(grant.mapping_ids):
            plan.refresh.append(Change(user, grant.role, current, grant.mapping_ids))

    for user, record in sorted(managed.items(), key=lambda kv: str(kv[0])):
        if user in desired:
            continue
        current = members.get(user)
        if current is None:
            continue
        if current == "owner":
            plan.skipped.append(Note(user, current, "owner: never changed by directory sync"))
        elif partial:
            plan.held.append(Note(user, current, "removal held: a group failed to fetch"))
        else:
            plan.remove.append(Change(user, current, None, record.mapping_ids))

    removals, base = len(plan.remove), max(1, len(managed))
    if removals > thresholds.max_removals:
        plan.fuse.append(
            Problem(
                "too_many_removals",
                f"{removals} removals exceed the limit of {thresholds.max_removals} "
                "(DIRECTORY_FUSE_MAX_REMOVALS)",
            )
        )
    share = 100.0 * removals / base
    if removals > 1 and share > thresholds.max_removal_percent:
        plan.fuse.append(
            Problem(
                "removal_share",
                f"{removals} removals are {share:.0f}% of {len(managed)} directory-managed "
                f"members, above {thresholds.max_removal_percent:g}% "
                "(DIRECTORY_FUSE_MAX_REMOVAL_PERCENT)",
            )
        )
    return plan
