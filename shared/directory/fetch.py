"""Fetching the mapped groups of one directory (an Entra tenant, a Workspace
domain) into complete memberships, or a failure per group.

Entra: one delta chain per set of up to 50 group ids. With a stored link
and a complete copy of every group of the set, the round's changes are
applied to the copy in order (added, then perhaps removed, on later pages);
without, or when Graph says the link expired (410 / syncStateNotFound), a
full round from scratch replaces the copy. A group a full round does not
return at all is a failure (unknown id, or no consent), never "empty".

Google: members.list of each group, whole, every run.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.directory.errors import DeltaExpired, DirectoryError, GroupNotFound
from shared.directory.google import GoogleDirectory
from shared.directory.graph import MAX_FILTER_IDS, DeltaRound, GraphDirectory
from shared.directory.plan import GroupFailure, GroupKey, GroupState

logger = logging.getLogger(__name__)

ChunkKey = tuple[str, ...]


@dataclass(slots=True)
class TenantFetch:
    """One directory's groups after a fetch, and the delta links to keep."""

    states: dict[GroupKey, GroupState | GroupFailure] = field(default_factory=dict)
    links: dict[ChunkKey, tuple[str, bool]] = field(default_factory=dict)
    """Chunk -> (delta link, whether it came from a full round)."""
    requests: int = 0


def chunks(group_ids: list[str]) -> list[ChunkKey]:
    """The tenant's group ids, sorted, in sets of at most 50: one delta chain each."""
    ordered = sorted(set(group_ids))
    return [tuple(ordered[i : i + MAX_FILTER_IDS]) for i in range(0, len(ordered), MAX_FILTER_IDS)]


def failure(error: DirectoryError) -> GroupFailure:
    return GroupFailure(error.code, str(error))


def fetch_entra(
    graph: GraphDirectory,
    tenant: str,
    group_ids: list[str],
    copies: Mapping[str, GroupState | None],
    links: Mapping[ChunkKey, str],
    *,
    deadline: float | None = None,
) -> TenantFetch:
    """Every mapped group of the tenant, from its delta chain or a full round."""
    result = TenantFetch()
    for chunk in chunks(group_ids):
        link = links.get(chunk)
        if link is not None and any(copies.get(g) is None for g in chunk):
            link = None  # a copy is missing: only a full round can rebuild it
        try:
            try:
                round_ = graph.delta_round(tenant, list(chunk), link, deadline=deadline)
            except DeltaExpired:
                if link is None:
                    raise
                logger.info(
                    "graph: delta link of tenant %s expired; full round",
                    tenant,
                    extra={"tenant": tenant, "groups": len(chunk)},
                )
                round_ = graph.delta_round(tenant, list(chunk), None, deadline=deadline)
        except DirectoryError as exc:
            logger.warning(
                "graph: groups of tenant %s not fetched: %s",
                tenant,
                exc,
                extra={"tenant": tenant, "groups": len(chunk)},
            )
            for group_id in chunk:
                result.states[GroupKey("azure", tenant, group_id)] = failure(exc)
            continue
        result.requests += round_.pages
        result.links[chunk] = (round_.delta_link, round_.full)
        _apply_round(result, tenant, chunk, round_, copies)
    return result


def _apply_round(
    result: TenantFetch,
    tenant: str,
    chunk: ChunkKey,
    round_: DeltaRound,
    copies: Mapping[str, GroupState | None],
) -> None:
    for group_id in chunk:
        key = GroupKey("azure", tenant, group_id)
        changes = round_.groups.get(group_id)
        if round_.full and changes is None:
            missing = GroupNotFound(
                f"Graph did not return group {group_id}: check its object id and that the "
                "app has GroupMember.Read.All with admin consent in this tenant",
                provider="azure",
            )
            result.states[key] = failure(missing)
            continue
        base = {} if round_.full else dict((copies.get(group_id) or GroupState({})).members)
        if changes is not None:
            for member_id, removed in changes.entries:
                if removed:
                    base.pop(member_id, None)
                else:
                    base[member_id] = None
            if changes.deleted:
                base = {}
        result.states[key] = GroupState(base, deleted=bool(changes and changes.deleted))


def fetch_google(
    google: GoogleDirectory, domain: str, group_ids: list[str], *, deadline: float | None = None
) -> TenantFetch:
    """Every mapped group of the Workspace domain, read whole."""
    result = TenantFetch()
    for group_id in sorted(set(group_ids)):
        key = GroupKey("google", domain, group_id)
        try:
            result.states[key] = GroupState(google.members(group_id, deadline=deadline))
        except DirectoryError as exc:
            logger.warning(
                "google: group %s of %s not fetched: %s",
                group_id,
                domain,
                exc,
                extra={"domain": domain},
            )
            result.states[key] = failure(exc)
    return result
