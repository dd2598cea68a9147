"""Declarative feature specs; the offline engine (point-in-time on received_at, DuckDB over the lake) and the
online engine (tiles); parity between them.
"""
