"""The FastAPI app of ``fengkong serve``: the public API under /v1 (later the operator console, /metrics).

``app.create_app(settings)`` builds it; each area has one router module (``routes_lending``,
``routes_events``); ``errors`` is the one error presenter; ``idempotency`` makes every write idempotent;
``wire`` holds the wire models (amounts as decimal strings, never floats). Handlers call ``services/`` only.
"""
