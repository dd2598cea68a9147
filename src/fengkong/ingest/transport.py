"""The event transport: publish validated events, consume them with acknowledgement.

Events are partitioned by entity: the partition of an event is a stable hash (BLAKE2b) of the party ID in
its primary role (the first required role of its type) modulo ``bounds.stream_partitions_count``, so all
events of one entity stay in order within one partition.

* :class:`InProcessTransport` (the embedded default): a bounded in-memory queue per partition with
  consumer-group semantics (delivered messages stay pending until acknowledged; a consumer can reclaim
  the pending messages of a dead one).
* :class:`RedisStreamsTransport`: one Redis stream per partition, ``<prefix>events:<partition>``, written
  with ``XADD ... MAXLEN ~``, read with ``XREADGROUP``, acknowledged with ``XACK``, reclaimed with
  ``XAUTOCLAIM``. Messages carry the compact JSON wire form (money as strings).
"""

from __future__ import annotations

import hashlib
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from fengkong import bounds
from fengkong.domain.events import Event
from fengkong.errors import BoundExceededError, InputError, InvariantError, UnavailableError
from fengkong.ingest.schema import primary_role
from fengkong.ingest.wire import decode_event, encode_event

DEFAULT_GROUP: Final = "fengkong"
MESSAGE_FIELD: Final = b"event"


def partition_of(event: Event, partitions: int = bounds.stream_partitions_count) -> int:
    """The partition of ``event``: a stable hash of its primary party ID, mod ``partitions``."""
    party_id = event.subject(primary_role(event.event_type))
    if party_id is None:
        raise InvariantError(f"event {event.event_id!r} has no party in its primary role")
    digest = hashlib.blake2b(party_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % partitions


@dataclass(frozen=True, slots=True)
class Delivery:
    """A consumed message: acknowledge it with :meth:`Transport.ack` once processed."""

    partition: int
    message_id: str
    event: Event


class Transport(Protocol):
    """Publish batches of events; consume them in a consumer group, with acknowledgement."""

    def publish(self, events: Sequence[Event]) -> int:
        """Append ``events`` (in order within each partition); returns how many were published."""
        ...

    def consume(self, consumer: str, count: int, block_ms: int = 0) -> list[Delivery]:
        """Up to ``count`` new messages for ``consumer``; they stay pending until acknowledged."""
        ...

    def ack(self, deliveries: Sequence[Delivery]) -> int:
        """Acknowledge processed messages; returns how many were pending."""
        ...

    def reclaim(self, consumer: str, min_idle_ms: int, count: int) -> list[Delivery]:
        """Take over up to ``count`` messages pending longer than ``min_idle_ms`` with other consumers."""
        ...


def _check_count(count: int) -> None:
    if not 0 < count <= bounds.stream_read_batch_events_max:
        raise InputError(f"must be in [1, {bounds.stream_read_batch_events_max}]", field="count")


@dataclass(slots=True)
class _Pending:
    delivery: Delivery
    consumer: str
    delivered_at_ms: float


class InProcessTransport:
    """A bounded in-memory transport with one consumer group.

    ``publish`` refuses a batch that would exceed ``capacity`` undelivered-or-pending messages
    (:class:`BoundExceededError`): back-pressure rather than unbounded memory.
    """

    def __init__(
        self,
        capacity: int = bounds.transport_queue_events_max,
        partitions: int = bounds.stream_partitions_count,
        monotonic_ms: Callable[[], float] = lambda: time.monotonic() * 1000,
    ) -> None:
        if not 0 < capacity <= bounds.transport_queue_events_max:
            raise InputError(f"must be in [1, {bounds.transport_queue_events_max}]", field="capacity")
        self.capacity = capacity
        self.partitions = partitions
        self._monotonic_ms = monotonic_ms
        self._queues: list[deque[Delivery]] = [deque() for _ in range(partitions)]
        self._pending: dict[str, _Pending] = {}
        self._sequence = 0
        self._next_partition = 0

    def __len__(self) -> int:
        """Messages not yet acknowledged (queued or pending)."""
        return sum(len(queue) for queue in self._queues) + len(self._pending)

    def publish(self, events: Sequence[Event]) -> int:
        if len(self) + len(events) > self.capacity:
            raise BoundExceededError("transport_queue_events_max", self.capacity, len(self) + len(events))
        for event in events:
            partition = partition_of(event, self.partitions)
            self._sequence += 1
            self._queues[partition].append(Delivery(partition, f"{self._sequence}-0", event))
        return len(events)

    def consume(self, consumer: str, count: int, block_ms: int = 0) -> list[Delivery]:
        """Round-robin over partitions from where the last read stopped; ``block_ms`` is not waited for
        (nothing can publish while this thread reads)."""
        _check_count(count)
        taken: list[Delivery] = []
        now = self._monotonic_ms()
        for step in range(self.partitions):
            queue = self._queues[(self._next_partition + step) % self.partitions]
            while queue and len(taken) < count:
                delivery = queue.popleft()
                self._pending[delivery.message_id] = _Pending(delivery, consumer, now)
                taken.append(delivery)
        self._next_partition = (self._next_partition + 1) % self.partitions
        return taken

    def ack(self, deliveries: Sequence[Delivery]) -> int:
        return sum(self._pending.pop(delivery.message_id, None) is not None for delivery in deliveries)

    def pending(self, consumer: str | None = None) -> list[Delivery]:
        """Messages delivered and not acknowledged (to ``consumer``, or to anyone)."""
        return [p.delivery for p in self._pending.values() if consumer is None or p.consumer == consumer]

    def reclaim(self, consumer: str, min_idle_ms: int, count: int) -> list[Delivery]:
        _check_count(count)
        now = self._monotonic_ms()
        taken: list[Delivery] = []
        for entry in self._pending.values():
            if len(taken) == count:
                break
            if entry.consumer != consumer and now - entry.delivered_at_ms >= min_idle_ms:
                entry.consumer = consumer
                entry.delivered_at_ms = now
                taken.append(entry.delivery)
        return taken


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisStreamsTransport:
    """Redis Streams, one stream per partition, read through a consumer group.

    ``client`` is a ``redis.Redis``; :meth:`from_url` makes one with the connect timeout bound.
    """

    def __init__(
        self,
        client: Any,
        prefix: str = "fengkong:",
        group: str = DEFAULT_GROUP,
        partitions: int = bounds.stream_partitions_count,
        stream_length_max: int = bounds.stream_length_max,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.group = group
        self.partitions = partitions
        self.stream_length_max = stream_length_max
        self._group_ready = False

    @classmethod
    def from_url(
        cls, url: str, prefix: str = "fengkong:", group: str = DEFAULT_GROUP
    ) -> RedisStreamsTransport:
        import redis

        timeout_seconds = bounds.redis_connect_timeout_ms_max / 1000
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout_seconds)
        try:
            client.ping()
        except redis.RedisError as error:
            raise UnavailableError(f"Redis at {url} cannot be reached: {error}") from error
        return cls(client, prefix=prefix, group=group)

    def stream_key(self, partition: int) -> str:
        return f"{self.prefix}events:{partition}"

    def ensure_group(self) -> None:
        """Create the consumer group on every partition (from the start of the stream) if missing."""
        if self._group_ready:
            return
        import redis

        for partition in range(self.partitions):
            try:
                self.client.xgroup_create(self.stream_key(partition), self.group, id="0", mkstream=True)
            except redis.ResponseError as error:
                if "BUSYGROUP" not in str(error):
                    raise
        self._group_ready = True

    def publish(self, events: Sequence[Event]) -> int:
        self.ensure_group()
        pipeline = self.client.pipeline(transaction=False)
        for event in events:
            pipeline.xadd(
                self.stream_key(partition_of(event, self.partitions)),
                {MESSAGE_FIELD: encode_event(event)},
                maxlen=self.stream_length_max,
                approximate=True,
            )
        pipeline.execute()
        return len(events)

    def _deliveries(self, partition: int, messages: Sequence[Any]) -> list[Delivery]:
        deliveries = []
        for message_id, fields in messages:
            if not fields:  # trimmed away while pending
                continue
            deliveries.append(Delivery(partition, _text(message_id), decode_event(fields[MESSAGE_FIELD])))
        return deliveries

    def _partition_of_key(self, key: bytes | str) -> int:
        return int(_text(key).rsplit(":", 1)[1])

    def consume(self, consumer: str, count: int, block_ms: int = 0) -> list[Delivery]:
        _check_count(count)
        if not 0 <= block_ms <= bounds.stream_block_ms_max:
            raise InputError(f"must be in [0, {bounds.stream_block_ms_max}]", field="block_ms")
        self.ensure_group()
        streams = {self.stream_key(partition): ">" for partition in range(self.partitions)}
        reply = self.client.xreadgroup(
            self.group, consumer, streams, count=count, block=block_ms if block_ms > 0 else None
        )
        deliveries: list[Delivery] = []
        for key, messages in reply or []:
            deliveries.extend(self._deliveries(self._partition_of_key(key), messages))
        return deliveries

    def ack(self, deliveries: Sequence[Delivery]) -> int:
        by_partition: dict[int, list[str]] = {}
        for delivery in deliveries:
            by_partition.setdefault(delivery.partition, []).append(delivery.message_id)
        acknowledged = 0
        for partition, message_ids in sorted(by_partition.items()):
            acknowledged += int(self.client.xack(self.stream_key(partition), self.group, *message_ids))
        return acknowledged

    def pending_count(self) -> int:
        """Messages delivered to some consumer and not acknowledged, over all partitions."""
        self.ensure_group()
        total = 0
        for partition in range(self.partitions):
            summary = self.client.xpending(self.stream_key(partition), self.group)
            total += int(summary["pending"])
        return total

    def reclaim(self, consumer: str, min_idle_ms: int, count: int) -> list[Delivery]:
        _check_count(count)
        self.ensure_group()
        taken: list[Delivery] = []
        for partition in range(self.partitions):
            start = "0-0"
            for _round in range(bounds.stream_reclaim_rounds_max):
                if len(taken) >= count:
                    return taken
                reply = self.client.xautoclaim(
                    self.stream_key(partition),
                    self.group,
                    consumer,
                    min_idle_time=min_idle_ms,
                    start_id=start,
                    count=count - len(taken),
                )
                start = _text(reply[0])
                taken.extend(self._deliveries(partition, reply[1]))
                if start == "0-0":
                    break
        return taken
