"""Invoke user functions the way the host logs them, and know when none is running."""

import asyncio
import inspect
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

log = logging.getLogger("localdev.host")


class Invoker:
    """Runs user functions (sync or async), logging start, end and failure; counts in-flight."""

    def __init__(self) -> None:
        self._idle = threading.Condition()
        self._running = 0

    @property
    def running(self) -> int:
        with self._idle:
            return self._running

    def invoke(self, name: str, user_func: Callable[..., Any], reason: str, **kwargs: Any) -> Any:
        """Call the function; its exception is logged with the traceback, then re-raised."""
        invocation_id = uuid.uuid4()
        with self._idle:
            self._running += 1
        log.info("Executing 'Functions.%s' (Reason='%s', Id=%s)", name, reason, invocation_id)
        started = time.monotonic()
        outcome = "Failed"
        try:
            if inspect.iscoroutinefunction(user_func):
                result = asyncio.run(user_func(**kwargs))
            else:
                result = user_func(**kwargs)
            outcome = "Succeeded"
            return result
        except Exception:
            log.exception("Executed 'Functions.%s' failed (Id=%s)", name, invocation_id)
            raise
        finally:
            took = (time.monotonic() - started) * 1000
            log.info(
                "Executed 'Functions.%s' (%s, Id=%s, Duration=%dms)",
                name,
                outcome,
                invocation_id,
                took,
            )
            with self._idle:
                self._running -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """True once no invocation runs; False if some still do after `timeout` seconds."""
        with self._idle:
            return self._idle.wait_for(lambda: self._running == 0, timeout)
