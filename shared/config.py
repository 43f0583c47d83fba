"""One `Settings` for the whole app, read from the environment.

On Azure the environment is the Function App's application settings; locally it
is the `Values` of `local.settings.json` (the Functions host and
`python -m localdev host` export them). Read settings through the cached
`get_settings()`; tests override by clearing its cache or by passing a
`Settings` explicitly.
"""

from functools import lru_cache
from typing import Annotated

from pydantic import BeforeValidator, Field, PostgresDsn, SecretStr
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _comma_list(value: object) -> object:
    """`a, b` from the environment as ["a", "b"], lower-cased (ids and domains)."""
    if isinstance(value, str):
        return [part.strip().lower() for part in value.split(",") if part.strip()]
    return value


CommaList = Annotated[list[str], NoDecode, BeforeValidator(_comma_list)]


def _blank_is_none(value: object) -> object:
    """An empty value in local.settings.json means unset, not an invalid value."""
    return None if isinstance(value, str) and not value.strip() else value


class Settings(BaseSettings):
    """Application configuration."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    database_url: PostgresDsn | None = None
    """PostgreSQL URL of the Supabase database. In production use the pooler in
    transaction mode (port 6543); prepared statements are disabled for it."""

    database_pool_min_size: int = Field(default=0, ge=0, le=50)
    """Connections kept open per worker process. 0 suits the Consumption plan."""

    database_pool_max_size: int = Field(default=8, ge=1, le=100)
    """Upper bound of connections per worker process."""

    database_connect_timeout_s: float = Field(default=10.0, gt=0, le=120)
    """How long to wait for a pooled connection before giving up."""

    database_statement_timeout_ms: int = Field(default=30_000, ge=0)
    """Server-side `statement_timeout` for every connection; 0 disables it."""

    supabase_url: str | None = None
    """Base URL of the Supabase project, e.g. https://abc.supabase.co."""

    supabase_jwt_secret: SecretStr | None = None
    """Legacy shared HS256 secret of older Supabase projects; unset: only the project's
    asymmetric signing keys (JWKS) are accepted."""

    supabase_jwks_cache_s: int = Field(default=600, ge=0, le=86_400)
    """How long the project's JWKS is cached (an unknown key id refetches it once)."""

    supabase_service_role_key: SecretStr | None = None
    """The project's service-role (secret) API key: the backend's access to Supabase Auth's
    admin API (inviting an address with no account) and to Storage (CSV exports). Never
    sent to clients; unset, those answer 503."""

    exports_bucket: str = Field(default="exports", pattern="^[a-z0-9][a-z0-9._-]{1,62}$")
    """Private Storage bucket the CSV exports go to, one folder per team; migration
    20261124120400_realtime_storage.sql creates `exports` and its policies."""

    export_url_ttl_s: int = Field(default=3_600, ge=60, le=7 * 86_400)
    """Lifetime of the signed download URL an export returns."""

    # --- teams -----------------------------------------------------------------

    invitation_accept_url: str = "http://localhost:3000/invitations/accept"
    """The frontend page that accepts an invitation; the link is `<url>?token=<token>`."""

    invitation_ttl_hours: int = Field(default=168, ge=1, le=720)
    """How long an invitation can be accepted."""

    invitations_per_team_per_hour: int = Field(default=50, ge=1, le=10_000)
    """Invitations one team may send in any hour (429 beyond; counted in the database)."""

    invitations_per_inviter_per_hour: int = Field(default=30, ge=1, le=10_000)
    """Invitations one person may send in any hour, over all their teams (429 beyond)."""

    # --- platform APIs -------------------------------------------------------
    # Base URLs default to the real APIs; `python -m localdev sandbox` prints the
    # values that point the same clients at the local platform sandbox.

    twitch_client_id: str | None = None
    """Twitch application client id (app access token by client credentials)."""

    twitch_client_secret: SecretStr | None = None
    """Twitch application client secret."""

    twitch_auth_url: str = "https://id.twitch.tv/oauth2"
    """Twitch OAuth base; the token endpoint is `<base>/token`."""

    twitch_api_url: str = "https://api.twitch.tv/helix"
    """Twitch Helix base: `<base>/streams`, `<base>/users`, `<base>/channels/followers`."""

    youtube_api_key: SecretStr | None = None
    """YouTube Data API v3 key."""

    youtube_api_url: str = "https://www.googleapis.com/youtube/v3"
    """YouTube Data API base: `<base>/videos`, `<base>/channels`."""

    youtube_feed_url: str = "https://www.youtube.com/feeds/videos.xml"
    """Quota-free channel feed, read as `<url>?channel_id=UC...`."""

    rumble_api_url: str = "https://rumble.com/-livestream-api/get-data"
    """Rumble Livestream API, read as `<url>?key=<owner key>`."""

    kick_client_id: str | None = None
    """Kick application client id (app access token by client credentials)."""

    kick_client_secret: SecretStr | None = None
    """Kick application client secret."""

    kick_auth_url: str = "https://id.kick.com"
    """Kick's OAuth server; the token endpoint is `<base>/oauth/token`."""

    kick_api_url: str = "https://api.kick.com/public/v1"
    """Kick public API base: `<base>/livestreams`, `<base>/channels`."""

    platform_timeout_s: float = Field(default=10.0, gt=0, le=120)
    """Per-request timeout for platform API calls."""

    platform_max_attempts: int = Field(default=4, ge=1, le=10)
    """Attempts per platform request, the first included, within the caller's time budget."""

    # --- monitor ---------------------------------------------------------------

    monitor_schedule: str = "0 * * * * *"
    """NCRONTAB schedule of the monitor timer (the function reads %MONITOR_SCHEDULE%)."""

    monitor_time_budget_s: float = Field(default=45.0, gt=0, le=540)
    """Wall-clock budget of one cycle's platform calls; below the function timeout."""

    monitor_grace_period_s: int = Field(default=600, ge=0, le=86_400)
    """A restart within this many seconds continues the session; also the longest gap
    across which a viewer count is held for hours watched."""

    monitor_shard_size: int = Field(default=1_000, ge=1, le=1_000)
    """Due channels above this are split into shards processed by the queue function
    (at most 1,000: a shard's channel ids travel in one 64 KiB queue message)."""

    monitor_queue_name: str = Field(
        default="monitor-shards", pattern="^[a-z0-9]([a-z0-9-]{1,61})[a-z0-9]$"
    )
    """Azure Storage queue carrying monitor shards (poison: `<name>-poison`)."""

    monitor_concurrency_twitch: int = Field(default=8, ge=1, le=64)
    """Concurrent Twitch requests per cycle (one app token's rate bucket is shared)."""

    # 16 each: measured with make bench-monitor on 2 cores, a cycle over 10,000
    # channels is CPU-bound at about 2 ms of Python per request, and 32 made it
    # no faster, only opened twice the connections to the platforms.
    monitor_concurrency_youtube: int = Field(default=16, ge=1, le=128)
    """Concurrent YouTube requests per cycle (feeds dominate)."""

    monitor_concurrency_rumble: int = Field(default=16, ge=1, le=128)
    """Concurrent Rumble requests per cycle (one per owner key)."""

    monitor_concurrency_kick: int = Field(default=8, ge=1, le=64)
    """Concurrent Kick requests per cycle (Kick publishes no rate limit: one app token,
    paced down when it answers 429)."""

    youtube_feed_interval_s: int = Field(default=300, ge=60, le=86_400)
    """How often each YouTube channel feed is read (staggered across cycles)."""

    youtube_daily_quota_units: int = Field(default=10_000, ge=1, le=100_000_000)
    """The YouTube Data API units the monitor may spend per Pacific day (the project's
    quota); the governor spreads them over the day."""

    youtube_quota_reserve_units: int = Field(default=500, ge=0, le=100_000_000)
    """Units of the daily budget kept back for other uses (the teams API resolving
    channels); spent by the monitor only slowly, once the rest is gone."""

    youtube_upcoming_interval_s: int = Field(default=900, ge=60, le=86_400)
    """How often candidate videos of a channel not live (upcoming broadcasts) are
    re-checked; live channels are checked at their plan's sample interval."""

    stats_interval_s: int = Field(default=3_600, ge=300, le=604_800)
    """How often followers/subscribers are sampled per channel."""

    # --- push (webhooks) ---------------------------------------------------------
    # Push tells the monitor about a stream within seconds; polling stays for
    # viewer counts and as the safety sweep (README "Push detection").

    push_callback_base_url: str | None = None
    """Public HTTPS base of this app (`https://<app>.azurewebsites.net`): callbacks are
    `<base>/api/push/<platform>`. Unset: no subscriptions are made, the monitor polls."""

    twitch_eventsub_secret: SecretStr | None = None
    """EventSub webhook secret (10-100 ASCII characters), given to every subscription and
    used to verify Twitch-Eventsub-Message-Signature. Unset: the callback answers 503."""

    youtube_websub_secret: SecretStr | None = None
    """WebSub `hub.secret` (X-Hub-Signature HMAC-SHA1). Unset: the callback answers 503."""

    youtube_websub_hub_url: str = "https://pubsubhubbub.appspot.com/subscribe"
    """The WebSub hub's subscribe endpoint."""

    youtube_websub_topic_url: str = "https://www.youtube.com/xml/feeds/videos.xml"
    """The WebSub topic base; a channel's topic is `<url>?channel_id=UC...`."""

    youtube_websub_lease_s: int = Field(default=432_000, ge=3_600, le=864_000)
    """The lease asked of the hub (it grants about 5 days)."""

    kick_webhook_public_key: str | None = None
    """Kick's webhook public key (PEM), pinned; unset: fetched from `<KICK_API_URL>/public-key`
    and cached."""

    push_schedule: str = "*/5 * * * * *"
    """NCRONTAB schedule of the push timer (%PUSH_SCHEDULE%): applies received deliveries."""

    push_subscriptions_schedule: str = "0 */10 * * * *"
    """NCRONTAB schedule of the subscription manager (%PUSH_SUBSCRIPTIONS_SCHEDULE%)."""

    push_sweep_interval_s: int = Field(default=600, ge=60, le=86_400)
    """With push healthy, every channel is still polled once in this interval (staggered):
    the safety sweep that catches missed deliveries. The default for every platform whose
    push source does not declare its own (YouTube: YOUTUBE_PUSH_SWEEP_INTERVAL_S)."""

    youtube_push_sweep_interval_s: int = Field(default=1_800, ge=60, le=86_400)
    """YouTube's own safety sweep with WebSub healthy: every covered channel's feed is read
    once in this interval (staggered). Longer than PUSH_SWEEP_INTERVAL_S because a feed
    read is a request per channel (Get Streams answers 100 channels a request) and
    broadcasts are announced (pushed) well before they start: a sweep this long still
    finds a scheduled broadcast whose notification was lost before it goes live."""

    push_quiet_after_s: int = Field(default=3_600, ge=60, le=604_800)
    """A platform with subscriptions but no delivery for this long is polled in full again."""

    push_max_channels: int | None = Field(default=None, ge=0)
    """Cap on channels subscribed per platform (beyond any platform budget); None: no cap."""

    # --- retention ---------------------------------------------------------------

    retention_schedule: str = "0 17 3 * * *"
    """NCRONTAB schedule of the retention timer (the function reads %RETENTION_SCHEDULE%):
    creates the coming days' sample partitions, drops the raw samples no team's plan keeps."""

    # --- analytics -------------------------------------------------------------

    analytics_refresh_schedule: str = "0 */5 * * * *"
    """NCRONTAB schedule of the leaderboard refresh timer (%ANALYTICS_REFRESH_SCHEDULE%)."""

    azure_storage_connection: str | None = Field(default=None, alias="AzureWebJobsStorage")
    """The Functions host's storage account; also carries the monitor's shard queue.
    `UseDevelopmentStorage=true` means Azurite on 127.0.0.1."""

    # --- billing (Stripe) -----------------------------------------------------

    stripe_secret_key: SecretStr | None = None
    """Stripe secret API key (`sk_test_...` in test mode). Unset: billing answers 503."""

    stripe_webhook_secret: SecretStr | None = None
    """Signing secret of the webhook endpoint (`whsec_...`). Unset: the webhook answers 503."""

    stripe_api_url: str = "https://api.stripe.com"
    """Stripe API base URL (tests and local development may point it elsewhere)."""

    stripe_price_pro: str | None = None
    """Stripe price id (`price_...`) that puts a team on the pro plan."""

    stripe_price_business: str | None = None
    """Stripe price id (`price_...`) that puts a team on the business plan."""

    billing_success_url: str = "http://localhost:3000/billing/success"
    """Where Checkout sends the customer after paying (`{CHECKOUT_SESSION_ID}` allowed)."""

    billing_cancel_url: str = "http://localhost:3000/billing/cancel"
    """Where Checkout sends the customer who backs out."""

    billing_portal_return_url: str = "http://localhost:3000/billing"
    """Where the customer portal's "return" link leads."""

    billing_grace_period_days: int = Field(default=7, ge=0, le=60)
    """Paid features stay on this many days after a failed payment, then the team is on free."""

    stripe_reconcile_schedule: str = "0 30 3 * * *"
    """NCRONTAB schedule of the billing reconciliation timer (%STRIPE_RECONCILE_SCHEDULE%)."""

    # --- directory sync (Entra ID, Google Workspace) ---------------------------

    directory_schedule: str = "0 20 * * * *"
    """NCRONTAB schedule of the directory sync timer (%DIRECTORY_SCHEDULE%). Keep it well
    under 7 days: Graph delta links expire after that and cost a full resync."""

    directory_time_budget_s: float = Field(default=240.0, gt=0, le=540)
    """Wall-clock budget of one sync's directory calls (timer and "sync now")."""

    directory_timeout_s: float = Field(default=20.0, gt=0, le=120)
    """Per-request timeout for Microsoft Graph, Google and their token endpoints."""

    directory_max_attempts: int = Field(default=4, ge=1, le=10)
    """Attempts per directory request, the first included (429, 5xx, timeouts)."""

    directory_retry_after_cap_s: float = Field(default=60.0, ge=0, le=600)
    """A longer `Retry-After` is not waited for: the run reports the group as failed."""

    directory_fuse_max_removals: int = Field(default=10, ge=0, le=100_000)
    """Safety fuse: a team's run that would remove more members than this is blocked."""

    directory_fuse_max_removal_percent: float = Field(default=25.0, ge=0, le=100)
    """Safety fuse: more than one removal that is also above this share of the team's
    directory-managed members blocks the run."""

    directory_run_retention_days: int = Field(default=30, ge=1, le=3_660)
    """Sync runs older than this are deleted by the timer."""

    entra_client_id: str | None = None
    """Application (client) id of the Entra app registration that reads groups."""

    entra_client_secret: SecretStr | None = None
    """A client secret of that app; or use ENTRA_CLIENT_CERTIFICATE."""

    entra_client_certificate: SecretStr | None = None
    """PEM of the app's certificate and its private key (wins over the secret)."""

    entra_tenant_ids: CommaList = Field(default_factory=list)
    """Tenant ids (comma-separated) that granted the app admin consent; mappings name
    one of them."""

    entra_authority_host: str = "https://login.microsoftonline.com"
    """Microsoft identity platform host; the authority is `<host>/<tenant id>`."""

    graph_api_url: str = "https://graph.microsoft.com/v1.0"
    """Microsoft Graph base: `<base>/groups/delta`."""

    google_service_account_json: SecretStr | None = None
    """The service account's JSON key (domain-wide delegation enabled)."""

    google_delegated_admin: str | None = None
    """The Workspace admin the service account impersonates (the token's subject)."""

    google_workspace_domains: CommaList = Field(default_factory=list)
    """Workspace domains (comma-separated) the delegation covers; mappings name one."""

    google_directory_api_url: str = "https://admin.googleapis.com/admin/directory/v1"
    """Admin SDK Directory base: `<base>/groups/{groupKey}/members`."""

    # --- alerts ----------------------------------------------------------------

    alerts_schedule: str = "*/10 * * * * *"
    """NCRONTAB schedule of the alert delivery timer (%ALERTS_SCHEDULE%); each run sends
    what is due for up to `alerts_delivery_budget_s`, looking again every half second."""

    alerts_delivery_budget_s: float = Field(default=8.0, gt=0, le=540)
    """How long one delivery run keeps sending and looking for new alerts."""

    # 64: make bench-alerts on 2 cores (300 destinations, 80 ms each request) had a p95
    # of 11 s at 16 and under 5 s at 64; the senders mostly wait on the network.
    alerts_concurrency: int = Field(default=64, ge=1, le=256)
    """Destinations sent to in parallel (one sender at a time per destination)."""

    alerts_timeout_s: float = Field(default=10.0, gt=0, le=60)
    """Per-request timeout for an alert destination."""

    alerts_max_attempts: int = Field(default=8, ge=1, le=50)
    """Attempts per alert before it is marked failed (backoff 5 s doubling, at most 1 h)."""

    alerts_disable_after_auth_failures: int = Field(default=3, ge=1, le=100)
    """Consecutive 401/403/404 answers after which a destination is switched off (audited)."""

    alerts_max_age_s: int = Field(default=86_400, ge=60, le=7 * 86_400)
    """An alert still undelivered this long after its change is dropped, not sent late."""

    alerts_allow_loopback: bool = False
    """Local development and tests only: allow http:// and loopback destination addresses
    (private, link-local and other non-public addresses stay refused)."""

    credentials_encryption_key: SecretStr | None = None
    """Base64 of 32 random bytes: AES-256-GCM key sealing channel credentials (Rumble keys)."""

    # --- connected channels (owners' OAuth) -----------------------------------

    connections_callback_url: str = "http://localhost:7071/api/connections/callback"
    """This app's OAuth callback (`GET /api/connections/callback`), registered as a redirect
    URI with Twitch and Google."""

    connections_return_url: str | None = None
    """Frontend page the callback sends the browser back to (`?status=connected&connection_id=`
    or `?status=error&detail=`); unset: the callback answers JSON."""

    connection_state_ttl_s: int = Field(default=600, ge=60, le=3_600)
    """How long an authorization URL (its signed, single-use state) can be completed."""

    connections_schedule: str = "0 */15 * * * *"
    """NCRONTAB schedule of the token upkeep timer (refresh before expiry, Twitch's hourly
    validation)."""

    connection_refresh_margin_s: int = Field(default=1_800, ge=60, le=86_400)
    """Access tokens expiring within this many seconds are refreshed by the upkeep timer."""

    google_oauth_client_id: str | None = None
    """OAuth client id of the Google Cloud project (web application) owners connect to."""

    google_oauth_client_secret: SecretStr | None = None
    """That OAuth client's secret."""

    google_authorize_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    """Google's authorization endpoint."""

    google_token_url: str = "https://oauth2.googleapis.com/token"
    """Google's token endpoint (code exchange, refresh)."""

    google_revoke_url: str = "https://oauth2.googleapis.com/revoke"
    """Google's token revocation endpoint."""

    youtube_analytics_url: str = "https://youtubeanalytics.googleapis.com/v2"
    """YouTube Analytics API base: `<base>/reports`."""

    analytics_import_schedule: str = "0 40 9 * * *"
    """NCRONTAB schedule of the daily YouTube Analytics import (09:40 UTC, after Pacific
    midnight)."""

    analytics_import_settling_days: int = Field(default=4, ge=3, le=30)
    """Trailing days re-read and upserted every import: figures arrive 48 to 72 hours late."""

    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR|CRITICAL)$")
    """Level for StreamTrack's own loggers."""

    # --- operations (telemetry, health, read replica) ---------------------------

    applicationinsights_connection_string: str | None = None
    """Application Insights connection string (the template sets it). Set: traces, metrics
    and logs go there through azure-monitor-opentelemetry; unset: no exporter at all. Not
    a credential here: the component takes Entra-authenticated telemetry only."""

    azure_client_id: str | None = None
    """Client id of the user-assigned managed identity. With it, telemetry authenticates
    to Application Insights as that identity (the component's local auth is off)."""

    database_read_url: Annotated[PostgresDsn | None, BeforeValidator(_blank_is_none)] = None
    """Optional read replica. Set: the read-only API paths (CSV exports) read from it,
    in read-only transactions; everything else, and every write, uses DATABASE_URL."""

    health_timeout_s: float = Field(default=1.5, gt=0, le=10)
    """Budget of `GET /api/health`'s checks together (the database connect included):
    a check that has not answered by then is reported as timed out."""

    health_monitor_stale_s: Annotated[int | None, BeforeValidator(_blank_is_none)] = Field(
        default=None, ge=60, le=86_400
    )
    """Age of the last successful monitor cycle past which health is degraded; unset:
    three periods of MONITOR_SCHEDULE plus MONITOR_TIME_BUDGET_S."""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
