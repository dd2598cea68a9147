"""Every software bound of fengkong, as a named constant with its unit last.

"Limit" means a credit limit in this project; a software limit is a *bound*. When code needs a new loop,
batch, queue, timeout or window size, it gets a name here first, with a comment saying why that value.
"""

from __future__ import annotations

from typing import Final

# -- ingestion ---------------------------------------------------------------------------------------
ingest_batch_events_max: Final = 50_000  # events validated and published per batch
ingest_line_bytes_max: Final = 1_048_576  # one JSON Lines record
ingest_errors_reported_max: Final = 1_000  # bad records listed one by one; the rest are counted
event_attributes_max: Final = 64  # attributes on one event
event_subjects_max: Final = 16  # subject parties on one event
event_id_length_max: Final = 128
event_type_length_max: Final = 64
event_clock_skew_seconds_max: Final = 300  # received_at may precede occurred_at by at most this
dedup_window_events_max: Final = 10_000_000  # remembered event IDs in the in-process deduplicator

# -- transport ---------------------------------------------------------------------------------------
transport_queue_events_max: Final = 1_000_000  # in-process queue capacity
stream_partitions_count: Final = 8  # Redis Streams partitions (by entity hash)
stream_length_max: Final = 10_000_000  # approximate MAXLEN per stream partition
stream_read_batch_events_max: Final = 1_000
stream_block_ms_max: Final = 2_000
redis_connect_timeout_ms_max: Final = 2_000

# -- lake --------------------------------------------------------------------------------------------
lake_row_group_rows_max: Final = 128_000
lake_file_rows_max: Final = 2_000_000

# -- storage -----------------------------------------------------------------------------------------
database_connect_timeout_seconds_max: Final = 5
outbox_drain_batch_rows_max: Final = 500
idempotency_key_length_max: Final = 128

# -- simulator ---------------------------------------------------------------------------------------
sim_days_max: Final = 3_650
sim_consumers_max: Final = 10_000_000
sim_chunk_parties_max: Final = 100_000  # parties simulated together in one chunk (memory bound)
sim_memory_bytes_max: Final = 4 * 1024**3  # large-scale runs stay within 4 GiB

# -- decisions and API -------------------------------------------------------------------------------
decision_timeout_ms_max: Final = 200
decision_reasons_max: Final = 8
offer_validity_days_max: Final = 30
