"""Event validation (each bad record reported with field and reason), idempotency by event ID, publication to
the event transport (in-process queue or Redis Streams) and the Parquet lake writer.
"""
