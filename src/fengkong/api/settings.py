"""The settings of ``fengkong serve`` (``FENGKONG_*`` environment variables): see
:mod:`fengkong.services.api_settings`, where they are defined so that ``cli/serve.py`` reads them too."""

from __future__ import annotations

from fengkong.services.api_settings import DEFAULT_DATABASE_URL, ENV_PREFIX, ApiSettings

__all__ = ["DEFAULT_DATABASE_URL", "ENV_PREFIX", "ApiSettings"]
