"""Queue triggers on Azure Storage queues (Azurite locally), as the Functions host runs them.

Per function: poll the queue (created if missing), backing off from 100 ms
to host.json's maxPollingInterval while it is empty; run up to batchSize
messages at once. Each message stays invisible while its function runs
(functionTimeout). Success deletes it. Failure makes it visible again after
host.json's visibilityTimeout; the failure that reaches maxDequeueCount moves
it to `<queue>-poison` instead, as does receiving one already past that count.
Bodies are base64 on the wire unless host.json says `messageEncoding: none`;
a body that is not base64 fails like an exception would.
"""

import base64
import binascii
import logging
import os
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from azure.core.exceptions import AzureError, ResourceExistsError
from azure.functions.queue import QueueMessage as WorkerQueueMessage
from azure.storage.queue import LinearRetry, QueueClient, QueueMessage

from localdev.azurite import resolve_connection_string
from localdev.host.index import QueueFunction
from localdev.host.runtime import Invoker
from localdev.host.settings import HostConfig, HostError, resolve_app_settings

log = logging.getLogger("localdev.host")

MIN_POLLING_INTERVAL = 0.1


def connection_string(setting: str, env: dict[str, str] | None = None) -> str | None:
    """The connection string the setting names (or `AzureWebJobs<setting>`), Azurite-expanded."""
    env = dict(os.environ) if env is None else env
    value = env.get(setting) or env.get(f"AzureWebJobs{setting}")
    return resolve_connection_string(value) if value else None


class NotBase64Error(ValueError):
    """A message body that host.json's messageEncoding says is base64, and is not."""


def decode_body(content: str, encoding: str) -> bytes:
    """The message body as the worker gets it."""
    if encoding == "none":
        return content.encode()
    try:
        return base64.b64decode(content, validate=True)
    except binascii.Error as exc:
        raise NotBase64Error(
            "the message is not base64, which host.json queues.messageEncoding expects"
        ) from exc


class QueueListener:
    """Polls one queue for one function."""

    def __init__(
        self,
        fn: QueueFunction,
        conn_str: str,
        invoker: Invoker,
        config: HostConfig,
    ) -> None:
        self.fn = fn
        self.queue_name = resolve_app_settings(fn.queue_name, f"function {fn.name!r} queueName")
        self.invoker = invoker
        self.config = config
        # The SDK's default retries back off 15 s and more: too slow to notice a stopped Azurite.
        retry = LinearRetry(backoff=1, retry_total=2, random_jitter_range=0)
        self.queue = QueueClient.from_connection_string(
            conn_str, self.queue_name, retry_policy=retry
        )
        self.poison = QueueClient.from_connection_string(
            conn_str, f"{self.queue_name}-poison", retry_policy=retry
        )
        self._stop = threading.Event()
        self._slots = threading.Semaphore(config.batch_size)
        self._pool = ThreadPoolExecutor(config.batch_size, thread_name_prefix=f"queue-{fn.name}")
        self._thread = threading.Thread(target=self._poll, name=f"poll-{fn.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop polling; running invocations are the Invoker's to wait for."""
        self._stop.set()
        self._thread.join(timeout)
        self._pool.shutdown(wait=False)

    def close(self) -> None:
        self.queue.close()
        self.poison.close()

    @staticmethod
    def _create(client: QueueClient) -> None:
        try:
            client.create_queue()
        except ResourceExistsError:
            pass

    def _free_slots(self) -> int:
        """Wait for a free slot, then take every free one (at least 1, or 0 when stopping)."""
        while not self._slots.acquire(timeout=0.2):
            if self._stop.is_set():
                return 0
        taken = 1
        while taken < self.config.batch_size and self._slots.acquire(blocking=False):
            taken += 1
        return taken

    def _poll(self) -> None:
        interval = MIN_POLLING_INTERVAL
        created = complained = False
        while not created and not self._stop.is_set():
            try:
                self._create(self.queue)
                created = True
            except AzureError as exc:
                level = logging.DEBUG if complained else logging.ERROR
                log.log(
                    level, "queue %r unreachable (is Azurite running?): %s", self.queue_name, exc
                )
                complained = True
                self._stop.wait(self.config.max_polling_interval)
        while not self._stop.is_set():
            free = self._free_slots()
            if not free:
                return
            try:
                messages = list(
                    self.queue.receive_messages(
                        messages_per_page=free,
                        max_messages=free,
                        visibility_timeout=max(1, int(self.config.function_timeout)),
                    )
                )
            except AzureError as exc:
                messages = []
                log.warning("queue %r: receive failed: %s", self.queue_name, exc)
            for _ in range(free - len(messages)):
                self._slots.release()
            for message in messages:
                try:
                    self._pool.submit(self._process, message)
                except RuntimeError:  # stopped meanwhile: it reappears after its visibility
                    self._slots.release()
            if messages:
                interval = MIN_POLLING_INTERVAL
            else:
                self._stop.wait(interval)
                interval = min(interval * 2, max(self.config.max_polling_interval, 0.1))

    def _process(self, message: QueueMessage) -> None:
        try:
            if message.dequeue_count and message.dequeue_count > self.config.max_dequeue_count:
                self._to_poison(message)  # its earlier attempts crashed the host
                return
            self._attempt(message)
        except AzureError as exc:
            log.warning("queue %r: message %s: %s", self.queue_name, message.id, exc)
        except Exception:
            log.exception("queue %r: message %s could not be handled", self.queue_name, message.id)
        finally:
            self._slots.release()

    def _attempt(self, message: QueueMessage) -> None:
        try:
            # azure.functions.QueueMessage has no dequeue count; the worker's class does.
            trigger = WorkerQueueMessage(  # type: ignore[no-untyped-call]
                id=message.id,
                body=decode_body(message.content, self.config.message_encoding),
                dequeue_count=message.dequeue_count,
                expiration_time=message.expires_on,
                insertion_time=message.inserted_on,
                time_next_visible=message.next_visible_on,
                pop_receipt=message.pop_receipt,
            )
        except NotBase64Error as exc:
            log.error("queue %r: message %s: %s", self.queue_name, message.id, exc)
            self._failed(message)
            return
        try:
            self.invoker.invoke(
                self.fn.name,
                self.fn.func,
                f"New queue message detected on '{self.queue_name}'.",
                **{self.fn.arg_name: trigger},
            )
        except Exception:
            self._failed(message)  # logged by the invoker
            return
        self.queue.delete_message(message.id, message.pop_receipt)

    def _failed(self, message: QueueMessage) -> None:
        if (message.dequeue_count or 0) >= self.config.max_dequeue_count:
            self._to_poison(message)
        else:
            self.queue.update_message(
                message.id,
                message.pop_receipt,
                visibility_timeout=int(self.config.visibility_timeout),
            )

    def _to_poison(self, message: QueueMessage) -> None:
        self._create(self.poison)
        self.poison.send_message(message.content)  # as stored: still base64 if it was
        self.queue.delete_message(message.id, message.pop_receipt)
        log.warning(
            "Message %s has reached MaxDequeueCount of %d; moved to queue '%s'",
            message.id,
            self.config.max_dequeue_count,
            f"{self.queue_name}-poison",
        )


class QueueRunner:
    """The listeners of every queue-triggered function that has a connection."""

    def __init__(
        self, functions: Iterable[QueueFunction], invoker: Invoker, config: HostConfig
    ) -> None:
        self.listeners: list[QueueListener] = []
        self.unconnected: list[str] = []
        for fn in functions:
            conn = connection_string(fn.connection)
            if conn is None:
                # func start marks such a function as in error and serves the rest.
                log.error(
                    "function %r: app setting %r (its storage connection) is not set: "
                    "its queue is not polled",
                    fn.name,
                    fn.connection,
                )
                self.unconnected.append(fn.name)
                continue
            try:
                self.listeners.append(QueueListener(fn, conn, invoker, config))
            except ValueError as exc:
                raise HostError(f"function {fn.name!r}: bad connection string: {exc}") from exc

    def describe(self) -> list[str]:
        lines = [f"{q.fn.name}: queueTrigger ({q.queue_name})" for q in self.listeners]
        return lines + [f"{name}: queueTrigger (not connected)" for name in self.unconnected]

    def start(self) -> None:
        for listener in self.listeners:
            listener.start()

    def stop(self, timeout: float = 5.0) -> None:
        for listener in self.listeners:
            listener.stop(timeout)

    def close(self) -> None:
        for listener in self.listeners:
            listener.close()
