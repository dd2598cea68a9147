"""Event ingestion: validation, idempotency by event ID, the stream publisher and the lake writer.

Everything is driven by :data:`fengkong.domain.events.EVENT_TYPES`, the one schema:

* :mod:`~fengkong.ingest.validate` — records (JSON) and Arrow tables (Parquet, vectorised) to events; bad
  records come back as rejections with line, field and reason, never as exceptions;
* :mod:`~fengkong.ingest.dedup` — the ``SeenEvents`` protocol, an in-memory window, :func:`keep_new`;
  :mod:`~fengkong.ingest.seen_store` — the same backed by the ``ingested_events`` table of ``store/``;
  :mod:`~fengkong.ingest.digest_dedup` — a compact in-memory window of 128-bit digests, checked a column
  at a time (about 20 bytes an ID);
* :mod:`~fengkong.ingest.transport` — the in-process queue and Redis Streams, partitioned by entity;
* :mod:`~fengkong.ingest.lake` — atomic, deterministic Parquet files per type and business date;
* :mod:`~fengkong.ingest.wire` — the JSON wire form and conversions between events and Arrow tables;
* :mod:`~fengkong.ingest.sources` — JSON Lines and Parquet read in bounded batches;
* :mod:`~fengkong.ingest.schema_doc` — ``docs/events.md``, generated.

The use case that strings them together is :func:`fengkong.services.ingest_events.ingest_file` (files) or
:func:`~fengkong.services.ingest_events.ingest_tables` (Arrow tables in memory), one pipeline for both.
"""
