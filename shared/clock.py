"""The one clock: aware UTC "now", and the type of anything that stands in for it.

Code that needs the time takes a `Clock` argument defaulting to `utc_now`, so
tests, the demo and the bench can run on simulated time; nothing calls
`datetime.now` itself.
"""

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""A function answering the current instant as an aware UTC datetime."""


def utc_now() -> datetime:
    """The real clock: aware UTC now."""
    return datetime.now(UTC)
