"""Connecting a channel's owner account: start, callback, list, disconnect.

Start (owners and admins of a team that tracks the channel; the team's MFA
rule applies): a PKCE verifier is sealed into an attempt row, and the
platform's authorization URL carries a signed state naming that attempt.

Callback (the platform redirects the owner's browser here; no bearer token):
the state must verify, be unexpired and unused (it is consumed first, so a
replay fails even if the first try failed later); the user must still be an
owner or admin and the team must still track the channel; the code is
exchanged (with the verifier where the platform takes PKCE); the scopes must
be the ones asked for; and the authorizing account must own the channel.
Only then are the connection (audited, as the user) and its sealed tokens
written. Any refusal leaves nothing behind but the consumed attempt.

Disconnect revokes the tokens at the platform, then deletes them.
"""

import functools
import logging
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar
from uuid import UUID

from shared.auth import AccessClaims
from shared.config import Settings
from shared.connections import store
from shared.connections.models import (
    CallbackQuery,
    ConnectionPublic,
    ConnectionsPublic,
    ConnectionStarted,
)
from shared.connections.providers import Providers
from shared.connections.state import InvalidState, State, sign, verify
from shared.crypto import CredentialError, SecretBox
from shared.db import Database
from shared.errors import Conflict, Forbidden, NotFound, Unavailable, Unprocessable
from shared.platforms import errors as platform_errors
from shared.platforms.oauth import InvalidGrant, OwnerOAuth, TokenSet, pkce_pair
from shared.platforms.registry import Platform, spec
from shared.teams.access import database_rules, membership, on_behalf_of, require
from shared.teams.models import ROLE_RANK

logger = logging.getLogger(__name__)
CALL_BUDGET_S = 20.0
T = TypeVar("T")


def start_connection(
    db: Database,
    claims: AccessClaims,
    team_id: UUID,
    channel_id: UUID,
    settings: Settings,
    providers: Providers,
) -> ConnectionStarted:
    """The authorization URL to send the channel's owner to."""
    with db.user(claims.raw) as conn:
        require(membership(conn, team_id), claims, "admin", action="connect channels")
        channel = store.tracked_channel(conn, team_id, channel_id)
    if channel is None:
        raise NotFound("the team does not track a channel with this id")
    provider = _provider(providers, channel.platform)
    box = _box(settings)
    verifier, challenge = pkce_pair()
    now = providers.clock()
    attempt_id = uuid.uuid4()
    expires = now + timedelta(seconds=settings.connection_state_ttl_s)
    with db.service() as conn:
        store.insert_attempt(
            conn,
            store.Attempt(
                id=attempt_id,
                team_id=team_id,
                channel_id=channel_id,
                user_id=claims.sub,
                platform=channel.platform,
                verifier=box.seal(verifier, attempt_id),
                expires_at=expires,
                used_at=None,
            ),
        )
    state = sign(
        State(attempt_id, team_id, channel_id, claims.sub, channel.platform, expires), settings
    )
    url = provider.authorization_url(
        state=state,
        redirect_uri=settings.connections_callback_url,
        challenge=challenge if provider.endpoints.pkce else None,
    )
    return ConnectionStarted(
        authorization_url=url,
        expires_at=expires,
        platform=channel.platform,
        scopes=list(provider.endpoints.scopes),
    )


def complete_connection(
    db: Database, query: CallbackQuery, settings: Settings, providers: Providers
) -> ConnectionPublic:
    """The callback: verify the state, exchange the code, check ownership, store."""
    state = verify(query.state, settings, now=providers.clock())
    with db.service() as conn:
        attempt = store.consume_attempt(conn, state.attempt_id)
    if attempt is None:
        raise InvalidState("this authorization is unknown or was abandoned; start connecting again")
    if attempt.used_at is not None:
        raise Conflict("this authorization link was already used; start connecting again")
    if (attempt.team_id, attempt.channel_id, attempt.user_id, attempt.platform) != (
        state.team_id,
        state.channel_id,
        state.user_id,
        state.platform,
    ):
        raise InvalidState("the state does not match its authorization; start connecting again")
    name = spec(attempt.platform).display_name
    if query.error:
        detail = f": {query.error_description}" if query.error_description else ""
        raise Unprocessable(f"{name} did not authorize the connection ({query.error}{detail})")
    if not query.code:
        raise Unprocessable("the callback carries no authorization code; start connecting again")

    with db.service() as conn:
        role = store.member_role(conn, attempt.team_id, attempt.user_id)
        platform_channel_id = store.still_tracked(conn, attempt.team_id, attempt.channel_id)
    if role is None or ROLE_RANK[role] < ROLE_RANK["admin"]:
        raise Forbidden("only the team's owners and admins connect channels")
    if platform_channel_id is None:
        raise NotFound("the team no longer tracks this channel")

    provider = _provider(providers, attempt.platform)
    box = _box(settings)
    try:
        verifier = box.open(attempt.verifier, attempt.id)
    except CredentialError as exc:
        raise Unavailable("this server's encryption key changed; start connecting again") from exc
    deadline = time.monotonic() + CALL_BUDGET_S
    granted = _call(
        name,
        lambda: provider.exchange(
            query.code or "",
            redirect_uri=settings.connections_callback_url,
            verifier=verifier,
            deadline=deadline,
        ),
        refused=f"{name} refused the authorization code (used or expired); start connecting again",
    )
    connect = spec(attempt.platform).connect
    assert connect is not None
    # Scopes first: without them the ownership check itself may be refused.
    missing = [s for s in connect.required_scopes if s not in granted.scopes]
    if granted.scopes and missing:
        _revoke_quietly(provider, granted)
        raise Unprocessable(
            f"the connection needs every permission it asks for; missing: {', '.join(missing)}. "
            "Connect again and leave them all ticked"
        )
    account = _call(
        name,
        lambda: provider.owner(granted.access_token, deadline=deadline),
        refused=f"{name} refused the token it just issued; start connecting again",
    )
    scopes = tuple(dict.fromkeys((*granted.scopes, *account.scopes)))
    missing = [s for s in connect.required_scopes if s not in scopes]
    if missing:
        _revoke_quietly(provider, granted)
        raise Unprocessable(
            f"the connection needs every permission it asks for; missing: {', '.join(missing)}. "
            "Connect again and leave them all ticked"
        )
    if platform_channel_id not in account.channel_ids:
        _revoke_quietly(provider, granted)
        raise Forbidden(
            f"the {name} account you signed in with ({account.account_id or 'no channel'}) does "
            f"not own this channel ({platform_channel_id}); sign in with the channel's own account"
        )

    now = providers.clock()
    with db.service() as conn, database_rules():
        # The audit trail names the user who authorized.
        on_behalf_of(conn, {"sub": str(attempt.user_id), "role": "authenticated"})
        connection_id = store.upsert_connection(
            conn,
            team_id=attempt.team_id,
            channel_id=attempt.channel_id,
            platform=attempt.platform,
            account_id=account.account_id,
            scopes=scopes,
            user_id=attempt.user_id,
        )
        store.store_tokens(
            conn,
            connection_id,
            box.seal(granted.access_token, connection_id),
            box.seal(granted.refresh_token, connection_id) if granted.refresh_token else None,
            granted.expires_at,
            at=now,
            validated=True,
        )
        row = store.connection_row(conn, connection_id)
    logger.info(
        "channel connected",
        extra={"platform": attempt.platform.value, "connection_id": str(connection_id)},
    )
    return ConnectionPublic.model_validate(row)


def list_connections(db: Database, claims: AccessClaims, team_id: UUID) -> ConnectionsPublic:
    with db.user(claims.raw) as conn:
        membership(conn, team_id)
        rows = store.list_connections(conn, team_id)
    data = [ConnectionPublic.model_validate(r) for r in rows]
    return ConnectionsPublic(data=data, count=len(data))


def disconnect(
    db: Database,
    claims: AccessClaims,
    team_id: UUID,
    channel_id: UUID,
    settings: Settings,
    providers: Providers,
) -> None:
    """Revoke the tokens at the platform, then delete the connection (owners, admins)."""
    with db.user(claims.raw) as conn:
        require(membership(conn, team_id), claims, "admin", action="disconnect channels")
    with db.service() as conn:
        stored = store.connection_for(conn, team_id, channel_id)
    if stored is None:
        raise NotFound("the team has no connection for this channel")
    provider = providers.oauth.get(stored.platform)
    tokens = _open_quietly(settings, stored)
    if provider is not None and tokens:
        name = spec(stored.platform).display_name
        deadline = time.monotonic() + CALL_BUDGET_S
        for token in tokens:
            # Nothing is deleted while the platform cannot be told: retry later.
            _call(name, functools.partial(provider.revoke, token, deadline=deadline), refused="")
    with db.service() as conn, database_rules():
        on_behalf_of(conn, claims.raw)
        store.delete_connection(conn, stored.connection_id)


def _open_quietly(settings: Settings, stored: store.StoredTokens) -> list[str]:
    try:
        box = SecretBox.from_settings(settings)
        tokens = [box.open(stored.access, stored.connection_id)]
        if stored.refresh is not None:
            tokens.append(box.open(stored.refresh, stored.connection_id))
    except CredentialError:
        logger.warning("disconnect: tokens do not open; deleting without revoking")
        return []
    return tokens


def _revoke_quietly(provider: OwnerOAuth, granted: TokenSet) -> None:
    """A grant we refuse is handed back (best effort: the refusal stands either way)."""
    try:
        provider.revoke(granted.access_token, deadline=time.monotonic() + 5)
    except platform_errors.PlatformError:
        logger.info("could not revoke a refused grant", extra={"platform": provider.platform.value})


def _provider(providers: Providers, platform: Platform) -> OwnerOAuth:
    declared = spec(platform)
    if declared.connect is None:
        raise Unprocessable(f"{declared.display_name} channels cannot be connected")
    provider = providers.oauth.get(platform)
    if provider is None:
        raise Unavailable(
            f"connecting {declared.display_name} channels is not configured on this server; "
            "ask its operator"
        )
    return provider


def _box(settings: Settings) -> SecretBox:
    try:
        return SecretBox.from_settings(settings)
    except CredentialError as exc:
        logger.error("CREDENTIALS_ENCRYPTION_KEY is missing or invalid")
        raise Unavailable(
            "this server cannot store tokens (no encryption key configured); ask its operator"
        ) from exc


def _call(name: str, call: Callable[[], T], *, refused: str) -> T:
    """A platform call, its failures as service errors a person can act on."""
    try:
        return call()
    except InvalidGrant as exc:
        raise Unprocessable(refused or f"{name} refused: {exc.message}") from None
    except platform_errors.AuthError as exc:
        logger.error(
            "platform refused this server's OAuth client", extra={"platform": exc.platform.value}
        )
        raise Unavailable(f"{name} refused this server's OAuth client; ask its operator") from exc
    except platform_errors.PlatformError as exc:
        logger.warning("connection call failed: %s", exc)
        raise Unavailable(
            f"{name} did not answer usefully ({exc.message}); try again in a minute"
        ) from exc
