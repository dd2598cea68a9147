"""The FastAPI app: the public API under /v1, the operator console, /metrics."""
