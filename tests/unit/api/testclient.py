"""Starlette's TestClient, imported once with its httpx deprecation notice silenced.

Starlette 1.10 warns at import that its test client prefers the ``httpx2`` package; the pinned environment
has ``httpx`` 0.28 (FastAPI's documented client), which works. ``filterwarnings = error`` would turn the
notice into a failure, so only that one message is ignored, only for this import. Import ``TestClient`` (and
anything else that imports ``starlette.testclient``, such as schemathesis' ASGI transport) after this module.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient` is deprecated")
    from starlette.testclient import TestClient

__all__ = ["TestClient"]
