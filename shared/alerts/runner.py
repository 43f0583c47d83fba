"""The delivery timer's job: one `Deliverer` per worker process, run for the budget."""

import logging
from functools import lru_cache

from shared.alerts.delivery import Deliverer, DeliveryPolicy, DeliveryReport
from shared.alerts.service import client_for, secret_box
from shared.config import Settings, get_settings
from shared.db import get_database
from shared.errors import Unavailable

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def default_deliverer() -> Deliverer:
    settings = get_settings()
    return Deliverer(
        get_database(),
        secret_box(settings),
        client_for(settings),
        DeliveryPolicy.from_settings(settings),
    )


def run_delivery(settings: Settings | None = None) -> DeliveryReport | None:
    """Send the outbox for `alerts_delivery_budget_s`; None when alerts cannot run here."""
    settings = settings or get_settings()
    try:
        deliverer = default_deliverer()
    except Unavailable as exc:
        logger.error("alerts: delivery is not configured: %s", exc)
        return None
    report = deliverer.run(settings.alerts_delivery_budget_s)
    logger.info(
        "alerts: %s delivered, %s retried, %s failed, %s dropped, %s destinations switched off",
        report.delivered, report.retried, report.failed, report.dropped, report.disabled,
        extra={"requests": report.requests, "rate_limited": report.rate_limited},
    )  # fmt: skip
    return report
