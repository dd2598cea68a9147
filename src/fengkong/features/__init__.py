"""Declarative feature specs; the offline engine (point-in-time on received_at, DuckDB over the lake) and the
online engine (tiles); parity between them. The same specs also backfill on Apache Spark
(``offline_spark.py``, pyspark imported lazily) with results identical to DuckDB's.
"""
