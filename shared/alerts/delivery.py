"""Sending the alert outbox: claim, send, record — at least once, at most one resend.

One delivery run (`Deliverer.run`, the timer's job) repeats `run_once` until
its budget is spent, looking for new alerts every `idle_s` when none is due:

1. **Claim** (one short transaction): destinations with due alerts get a lease
   (`alert_destination_secrets.lease_until`): one sender per destination at a
   time, so its rate limits hold across workers. Their due alerts (at most
   `per_destination` each) are claimed by moving `next_attempt_at` past the
   lease and counting the attempt. A worker that dies after sending and
   before recording leaves them claimed: they come due again when the lease
   ends and are sent once more (generic webhooks carry the same `webhook-id`).
2. **Send**, destinations in parallel (`concurrency` threads), each one's
   alerts in order and in batches (`messages.BATCH`), paced by its limits:
   Slack one message a second per webhook; Discord's `X-RateLimit-Remaining:
   0` waits `X-RateLimit-Reset-After` before the next one; a 429 waits
   `Retry-After` / `X-RateLimit-Reset-After` / the body's `retry_after`
   (slept when under half a second; else the destination pauses, its sender
   moves on, and the alerts come due when the wait is over, the attempt not
   counted).
3. **Record** each destination's outcome in its own transaction: delivered;
   retried with backoff (5 s doubling, at most 1 h, jittered) after 5xx,
   timeouts and transport errors; failed after `max_attempts` or on a 4xx
   that says the message itself is wrong; 401/403/404/410 count as auth
   failures, and after `disable_after` in a row the destination is switched
   off, its pending alerts are dropped and the team's audit log records why
   (actor `alert-delivery`).

Alerts for a destination that was switched off or deleted, of a rule that
was deleted, or older than `max_age_s` are dropped, not sent late.
"""

import logging
import random
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import psycopg
from psycopg.rows import namedtuple_row

from shared import telemetry
from shared.alerts import messages
from shared.alerts.messages import Alert
from shared.alerts.targets import Target, open_target
from shared.alerts.transport import UnsafeTarget
from shared.config import Settings
from shared.crypto import CredentialError, Sealed, SecretBox
from shared.db import Database, DatabaseError
from shared.platforms.retry import retry_after_of

logger = logging.getLogger(__name__)
ACTOR = "alert-delivery"
AUTH_STATUSES = frozenset({401, 403, 404, 410})
SLACK_INTERVAL_S = 1.0
DROP_EVERY_S = 5.0
"""How often a run drops what can no longer be delivered (deleted, switched off, too old)."""


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """Retries, pacing and limits of the sender."""

    max_attempts: int = 8
    backoff_initial_s: float = 5.0
    backoff_max_s: float = 3600.0
    lease_s: float = 60.0
    disable_after: int = 3
    max_age_s: int = 86_400
    inline_wait_cap_s: float = 0.5
    """A rate-limit wait up to this long is slept by the sender; a longer one pauses the
    destination and frees the sender (the alerts come due again when the wait is over)."""
    per_destination: int = 50
    max_destinations: int = 256
    concurrency: int = 64
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    jitter: Callable[[float, float], float] = random.uniform

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> "DeliveryPolicy":
        values: dict[str, Any] = {
            "max_attempts": settings.alerts_max_attempts,
            "disable_after": settings.alerts_disable_after_auth_failures,
            "max_age_s": settings.alerts_max_age_s,
            "concurrency": settings.alerts_concurrency,
        }
        return cls(**{**values, **overrides})

    def backoff(self, attempt: int) -> float:
        """Seconds before attempt `attempt + 1`: doubling, capped, half of it jittered."""
        ceiling = min(self.backoff_max_s, self.backoff_initial_s * 2 ** max(0, attempt - 1))
        return float(ceiling / 2 + self.jitter(0.0, ceiling / 2))


@dataclass(slots=True)
class DeliveryReport:
    """What delivery runs did, for logs, tests and the benchmark."""

    requests: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    dropped: int = 0
    disabled: int = 0
    rate_limited: int = 0
    claimed: int = 0

    def add(self, other: "DeliveryReport") -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True, slots=True)
class _Destination:
    id: UUID
    team_id: UUID
    kind: str
    sealed: Sealed
    auth_failures: int


@dataclass(slots=True)
class _Outcome:
    """The fate of one batch of alerts."""

    ids: list[int]
    status: str
    """delivered | retry | failed | limited (a 429: due again after its wait, the attempt
    given back) | unsent (not tried this run: the attempt is given back)"""
    delay_s: float = 0.0
    status_code: int | None = None
    error: str | None = None
    auth_failure: bool = False
    """401/403/404/410, or an address refused: counts towards switching it off."""


@dataclass(slots=True)
class _DestinationResult:
    outcomes: list[_Outcome] = field(default_factory=list)
    paused_s: float = 0.0
    auth_failures: int | None = None
    """The new count, when this run changed it."""
    disable_reason: str | None = None
    requests: int = 0
    rate_limited: int = 0


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Deliverer:
    """Claims, sends and records alerts; one per process (its HTTP pool is shared)."""

    def __init__(
        self,
        db: Database,
        box: SecretBox,
        client: httpx.Client,
        policy: DeliveryPolicy | None = None,
        *,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.db = db
        self.box = box
        self.client = client
        self.policy = policy or DeliveryPolicy()
        self.clock = clock
        self._pool = ThreadPoolExecutor(self.policy.concurrency, thread_name_prefix="alerts")
        self._next_drop = 0.0

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    # --- the loop -------------------------------------------------------------------

    def run(self, budget_s: float, *, idle_s: float = 0.5) -> DeliveryReport:
        """Send what is due, and what becomes due, until `budget_s` is spent.

        Destinations are claimed as senders free up (never more than `concurrency`
        in flight, so no lease waits in a queue), not in rounds: a slow destination
        holds up only itself."""
        policy = self.policy
        deadline = policy.monotonic() + budget_s
        total = DeliveryReport()
        in_flight: set[Future[DeliveryReport]] = set()
        while True:
            finished = {f for f in in_flight if f.done()}
            for future in finished:
                total.add(future.result())
            in_flight -= finished
            left = deadline - policy.monotonic()
            if left <= 0:
                break
            free = policy.concurrency - len(in_flight)
            claimed = 0
            # Claim in batches (a quarter of the senders free, or all idle): each
            # claim is a transaction over the outbox's due rows.
            if free >= max(1, policy.concurrency // 4) or not in_flight:
                report, futures = self._claim_and_submit(free, deadline)
                total.add(report)
                in_flight |= futures
                claimed = len(futures)
            if claimed == 0:
                if in_flight:
                    wait(in_flight, timeout=min(idle_s, left), return_when=FIRST_COMPLETED)
                else:
                    policy.sleep(min(idle_s, left))
        for future in in_flight:  # they stop at the deadline too
            total.add(future.result())
        return total

    def run_once(self, *, deadline: float | None = None) -> DeliveryReport:
        """One claim, send and record round; returns what it did."""
        end = deadline if deadline is not None else self.policy.monotonic() + 60.0
        report, futures = self._claim_and_submit(self.policy.max_destinations, end)
        for future in futures:
            report.add(future.result())
        return report

    def _claim_and_submit(
        self, limit: int, deadline: float
    ) -> tuple[DeliveryReport, set[Future[DeliveryReport]]]:
        report = DeliveryReport()
        with self.db.service() as conn:
            now = self.policy.monotonic()
            if now >= self._next_drop:
                report.dropped += self._drop_undeliverable(conn)
                self._next_drop = now + DROP_EVERY_S
            destinations, alerts = self._claim(conn, limit)
        report.claimed = sum(len(v) for v in alerts.values())
        futures = {
            self._pool.submit(self._deliver_destination, d, alerts.get(d.id, []), deadline)
            for d in destinations
        }
        return report, futures

    # --- claim ----------------------------------------------------------------------

    def _drop_undeliverable(self, conn: psycopg.Connection[Any]) -> int:
        cur = conn.execute(
            """
            update public.alert_deliveries a set
              status = 'dropped',
              last_error = case
                when a.destination_id is null then 'the destination was deleted'
                when a.rule_id is null then 'the rule was deleted'
                when a.created_at < now() - make_interval(secs => %(max_age)s)
                  then 'not delivered in time; dropped instead of sent late'
                else 'the destination is switched off' end
            where a.status = 'pending'
              and a.next_attempt_at <= now()
              and (a.destination_id is null or a.rule_id is null
                   or a.created_at < now() - make_interval(secs => %(max_age)s)
                   or exists (select 1 from public.alert_destinations d
                              where d.id = a.destination_id and not d.enabled))
            """,
            {"max_age": self.policy.max_age_s},
        )
        return cur.rowcount

    def _claim(
        self, conn: psycopg.Connection[Any], limit: int
    ) -> tuple[list[_Destination], dict[UUID, list[Alert]]]:
        policy = self.policy
        with conn.cursor(row_factory=namedtuple_row) as cur:
            rows: list[Any] = cur.execute(
                """
                with due as (
                  select distinct a.destination_id
                  from public.alert_deliveries a
                  where a.status = 'pending' and a.next_attempt_at <= now()
                ), picked as (
                  select s.destination_id
                  from public.alert_destination_secrets s
                  join due on due.destination_id = s.destination_id
                  where (s.lease_until is null or s.lease_until < now())
                    and (s.paused_until is null or s.paused_until <= now())
                  order by s.destination_id
                  limit %(max)s
                  for update of s skip locked
                )
                update public.alert_destination_secrets s
                set lease_until = now() + make_interval(secs => %(lease)s)
                from picked, public.alert_destinations d
                where s.destination_id = picked.destination_id and d.id = s.destination_id
                returning s.destination_id, d.team_id, d.kind::text as kind, s.ciphertext,
                          s.nonce, s.key_version, s.auth_failures
                """,
                {"max": limit, "lease": policy.lease_s},
            ).fetchall()
            destinations = [
                _Destination(r.destination_id, r.team_id, r.kind,
                             Sealed(r.ciphertext, r.nonce, r.key_version), r.auth_failures)
                for r in rows
            ]  # fmt: skip
            if not destinations:
                return [], {}
            claimed: list[Any] = cur.execute(
                """
                with ranked as (
                  select a.id, row_number() over (partition by a.destination_id
                                                  order by a.id) as n
                  from public.alert_deliveries a
                  where a.status = 'pending' and a.next_attempt_at <= now()
                    and a.destination_id = any(%(ids)s::uuid[])
                ), locked as (
                  select a.id from public.alert_deliveries a
                  join ranked r on r.id = a.id
                  where r.n <= %(per)s
                  for update of a skip locked
                )
                update public.alert_deliveries a
                set next_attempt_at = now() + make_interval(secs => %(lease)s),
                    attempts = a.attempts + 1
                from locked where a.id = locked.id
                returning a.id, a.destination_id, a.event::text as event, a.payload,
                          a.template, a.occurred_at, a.rule_id, a.attempts
                """,
                {
                    "ids": [d.id for d in destinations],
                    "per": policy.per_destination,
                    "lease": policy.lease_s,
                },
            ).fetchall()
        alerts: dict[UUID, list[Alert]] = defaultdict(list)
        for r in sorted(claimed, key=lambda r: r.id):
            alerts[r.destination_id].append(
                Alert(r.id, r.event, r.payload, r.template, r.occurred_at,
                      str(r.rule_id) if r.rule_id else None, r.attempts)
            )  # fmt: skip
        return destinations, alerts

    # --- send -----------------------------------------------------------------------

    def _deliver_destination(
        self, destination: _Destination, alerts: Sequence[Alert], deadline: float
    ) -> DeliveryReport:
        try:
            result = self._send_all(destination, alerts, deadline)
        except Exception:  # never leave a destination leased for nothing
            logger.exception("alerts: sending to a destination failed",
                             extra={"destination_id": str(destination.id)})  # fmt: skip
            result = _DestinationResult(
                [_Outcome([a.delivery_id for a in alerts], "retry", error="internal error")]
            )
        try:
            return self._record(destination, result)
        except (DatabaseError, psycopg.Error):
            # Sent but not recorded: the lease runs out and they go once more.
            logger.exception("alerts: could not record a destination's outcome",
                             extra={"destination_id": str(destination.id)})  # fmt: skip
            return DeliveryReport(requests=result.requests)

    def _send_all(
        self, destination: _Destination, alerts: Sequence[Alert], deadline: float
    ) -> _DestinationResult:
        result = _DestinationResult()
        if not alerts:
            return result
        try:
            target = open_target(self.box, destination.id, destination.sealed)
        except CredentialError as exc:
            logger.error("alerts: a destination's secret does not open: %s", exc,
                         extra={"destination_id": str(destination.id)})  # fmt: skip
            result.outcomes.append(
                _Outcome([a.delivery_id for a in alerts], "retry", self.policy.lease_s,
                         error="this server cannot open the destination's secret")
            )  # fmt: skip
            return result
        size = messages.BATCH[destination.kind]
        batches = [list(alerts[i : i + size]) for i in range(0, len(alerts), size)]
        not_before = 0.0  # monotonic: pacing within this run
        auth_failures = destination.auth_failures
        for index, batch in enumerate(batches):
            gap = max(0.0, not_before - self.policy.monotonic())
            if self.policy.monotonic() + gap >= deadline:
                result.paused_s = max(result.paused_s, gap)
                result.outcomes.extend(_Outcome([a.delivery_id for a in b], "unsent")
                                       for b in batches[index:])  # fmt: skip
                break
            if gap:
                self.policy.sleep(gap)
            outcome, pace = self._send_batch(destination, target, batch, deadline, result)
            result.outcomes.append(outcome)
            not_before = self.policy.monotonic() + pace
            if destination.kind == "slack":
                not_before = max(not_before, self.policy.monotonic() + SLACK_INTERVAL_S)
            if outcome.auth_failure:
                auth_failures += 1
                result.auth_failures = auth_failures
                if auth_failures >= self.policy.disable_after:
                    result.disable_reason = (
                        f"switched off after {auth_failures} consecutive refusals; last: "
                        f"{outcome.error or outcome.status_code}"
                    )[:500]
            elif outcome.status == "delivered" and auth_failures:
                auth_failures = 0
                result.auth_failures = 0
            if outcome.status in ("retry", "limited"):
                # The destination is unwell or limiting us: it pauses for the backoff or
                # the wait it asked for, and the rest of its alerts wait with it.
                result.outcomes.extend(_Outcome([a.delivery_id for a in b], "unsent")
                                       for b in batches[index + 1 :])  # fmt: skip
                result.paused_s = max(result.paused_s, outcome.delay_s)
                break
        result.paused_s = max(result.paused_s, not_before - self.policy.monotonic(), 0.0)
        return result

    def _send_batch(
        self,
        destination: _Destination,
        target: Target,
        batch: Sequence[Alert],
        deadline: float,
        result: _DestinationResult,
    ) -> tuple[_Outcome, float]:
        """Send one batch (a short 429 wait is retried inline); the outcome and how long
        to wait before the next request to this destination."""
        ids = [a.delivery_id for a in batch]
        while True:
            request = messages.build(destination.kind, batch, target.signing_secret, self.clock())
            result.requests += 1
            try:
                response = self.client.post(target.url, content=request.body,
                                            headers=request.headers)  # fmt: skip
            except UnsafeTarget as exc:
                refused = _Outcome(ids, "retry", self._backoff(batch), error=str(exc)[:500])
                refused.auth_failure = True
                return refused, 0.0
            except httpx.TimeoutException:
                return _Outcome(ids, "retry", self._backoff(batch), error="timed out"), 0.0
            except httpx.HTTPError as exc:
                error = f"transport error: {exc.__class__.__name__}"
                return _Outcome(ids, "retry", self._backoff(batch), error=error), 0.0
            status = response.status_code
            if 200 <= status < 300:
                return _Outcome(ids, "delivered", status_code=status), _pace(response)
            if status == 429:
                result.rate_limited += 1
                wait = _rate_limit_wait(response)
                inline = wait <= self.policy.inline_wait_cap_s
                if inline and self.policy.monotonic() + wait < deadline:
                    self.policy.sleep(wait)
                    continue
                return _Outcome(ids, "limited", wait, status, _problem(response)), wait
            if status in AUTH_STATUSES:
                return _Outcome(ids, "retry", self._backoff(batch), status,
                                _problem(response), auth_failure=True), 0.0  # fmt: skip
            if status >= 500 or status in (408, 409, 425):
                return _Outcome(ids, "retry", self._backoff(batch), status,
                                _problem(response)), 0.0  # fmt: skip
            # 400, 413, 422...: the destination refuses this message as it is.
            return _Outcome(ids, "failed", 0.0, status, _problem(response)), 0.0

    def _backoff(self, batch: Sequence[Alert]) -> float:
        return self.policy.backoff(max(a.attempt for a in batch))

    # --- record ---------------------------------------------------------------------

    def _record(self, destination: _Destination, result: _DestinationResult) -> DeliveryReport:
        report = DeliveryReport(requests=result.requests, rate_limited=result.rate_limited)
        policy = self.policy
        with self.db.service() as conn:
            for outcome in result.outcomes:
                if outcome.status == "delivered":
                    report.delivered += len(outcome.ids)
                    conn.execute(
                        "update public.alert_deliveries set status = 'delivered',"
                        " delivered_at = now(), last_status_code = %s, last_error = null"
                        " where id = any(%s)",
                        (outcome.status_code, outcome.ids),
                    )
                elif outcome.status == "limited":
                    report.retried += len(outcome.ids)
                    conn.execute(
                        "update public.alert_deliveries set attempts = greatest(attempts - 1, 0),"
                        " next_attempt_at = now() + make_interval(secs => %s),"
                        " last_status_code = %s, last_error = %s"
                        " where id = any(%s) and status = 'pending'",
                        (outcome.delay_s, outcome.status_code, outcome.error, outcome.ids),
                    )
                elif outcome.status == "unsent":
                    conn.execute(
                        "update public.alert_deliveries set attempts = greatest(attempts - 1, 0),"
                        " next_attempt_at = now() + make_interval(secs => %s)"
                        " where id = any(%s) and status = 'pending'",
                        (result.paused_s, outcome.ids),
                    )
                elif outcome.status == "failed":
                    report.failed += len(outcome.ids)
                    conn.execute(
                        "update public.alert_deliveries set status = 'failed',"
                        " last_status_code = %s, last_error = %s where id = any(%s)",
                        (outcome.status_code, outcome.error, outcome.ids),
                    )
                else:
                    rows = conn.execute(
                        """
                        update public.alert_deliveries set
                          status = case when attempts >= %(max)s then 'failed' else 'pending' end,
                          next_attempt_at = now() + make_interval(secs => %(delay)s),
                          last_status_code = %(code)s, last_error = %(error)s
                        where id = any(%(ids)s)
                        returning status
                        """,
                        {"max": policy.max_attempts, "delay": outcome.delay_s,
                         "code": outcome.status_code, "error": outcome.error,
                         "ids": outcome.ids},
                    ).fetchall()  # fmt: skip
                    report.failed += sum(1 for (s,) in rows if s == "failed")
                    report.retried += sum(1 for (s,) in rows if s == "pending")
            conn.execute(
                "update public.alert_destination_secrets set lease_until = null,"
                " paused_until = case when %(pause)s > 0"
                "   then now() + make_interval(secs => %(pause)s) end,"
                " auth_failures = coalesce(%(failures)s, auth_failures), updated_at = now()"
                " where destination_id = %(id)s",
                {"pause": result.paused_s, "failures": result.auth_failures,
                 "id": destination.id},
            )  # fmt: skip
            if result.disable_reason is not None:
                report.disabled += 1
                report.dropped += self._disable(conn, destination, result.disable_reason)
        # Metrics once the outcome is committed (telemetry never fails delivery).
        for outcome in result.outcomes:
            name = _METRIC_OUTCOMES.get(outcome.status, "retried")
            for _ in outcome.ids:
                telemetry.alert_delivery(destination.kind, name)
        for _ in range(report.dropped):
            telemetry.alert_delivery(destination.kind, "dropped")
        return report

    def _disable(
        self, conn: psycopg.Connection[Any], destination: _Destination, reason: str
    ) -> int:
        """Switch the destination off (the audit trigger records it, actor alert-delivery)
        and drop its pending alerts; return how many were dropped."""
        conn.execute("select set_config('streamtrack.actor', %s, true)", (ACTOR,))
        conn.execute(
            "update public.alert_destinations set enabled = false, disabled_reason = %s,"
            " disabled_at = now() where id = %s and enabled",
            (reason, destination.id),
        )
        cur = conn.execute(
            "update public.alert_deliveries set status = 'dropped',"
            " last_error = 'the destination was switched off: ' || %s"
            " where destination_id = %s and status = 'pending'",
            (reason[:400], destination.id),
        )
        logger.warning("alerts: destination switched off: %s", reason,
                       extra={"destination_id": str(destination.id),
                              "team_id": str(destination.team_id)})  # fmt: skip
        return cur.rowcount


# A batch's fate as the `streamtrack.alert.deliveries` metric names it.
_METRIC_OUTCOMES = {"delivered": "delivered", "failed": "failed"}


def _header_seconds(headers: Mapping[str, str], name: str) -> float | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


def _rate_limit_wait(response: httpx.Response) -> float:
    """How long a 429 asks us to wait: Discord's `X-RateLimit-Reset-After` or body
    `retry_after`, else `Retry-After` (seconds or a date); 1 s when it says nothing."""
    found = [
        _header_seconds(response.headers, "x-ratelimit-reset-after"),
        retry_after_of(response.headers, time.time()),
    ]
    try:
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("retry_after"), int | float):
            found.append(max(0.0, float(body["retry_after"])))
    except (ValueError, UnicodeDecodeError):
        pass
    waits = [w for w in found if w is not None]
    return min(3600.0, max(waits)) if waits else 1.0


def _pace(response: httpx.Response) -> float:
    """After a success: wait out Discord's bucket when it says none is left."""
    if response.headers.get("x-ratelimit-remaining") == "0":
        return _header_seconds(response.headers, "x-ratelimit-reset-after") or 0.0
    return 0.0


def _problem(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    try:
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            text = body["message"]
    except (ValueError, UnicodeDecodeError):
        pass
    return f"HTTP {response.status_code}" + (f": {text[:300]}" if text else "")
