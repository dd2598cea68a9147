"""The settings of ``fengkong serve``, read from the environment (prefix ``FENGKONG_``) by pydantic-settings.

They live in ``services/`` so that both the app (``api/settings.py`` re-exports them) and the command that
checks them before starting the server (``cli/serve.py``, which may import only ``services/``) read them
the same way.

=========================  ===========================================================================
``FENGKONG_DATABASE_URL``  the database (default: the embedded SQLite file ``fengkong.sqlite`` in the cwd)
``FENGKONG_REDIS_URL``     Redis (optional): events are then also published to Redis Streams
``FENGKONG_REPLICAS``      how many API processes share the database (default 1)
``FENGKONG_LAKE_DIR``      the Parquet event lake written by ``POST /v1/events`` (default ``data/lake``)
``FENGKONG_TENANT``        the tenant idempotency keys are scoped to (default ``default``)
=========================  ===========================================================================

Online feature state is in-process unless Redis holds it, and in-process state cannot be shared: more than
one replica without a Redis URL is refused (:meth:`ApiSettings.check_deployment`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from fengkong import bounds
from fengkong.errors import InputError

ENV_PREFIX: Final = "FENGKONG_"
DEFAULT_DATABASE_URL: Final = "sqlite:///fengkong.sqlite"


class ApiSettings(BaseSettings):
    """Where ``fengkong serve`` keeps its state (see the module docstring)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    database_url: str = Field(default=DEFAULT_DATABASE_URL, min_length=1)
    redis_url: str | None = None
    redis_prefix: str = Field(default="fengkong:", min_length=1, max_length=64)
    replicas: int = Field(default=1, ge=1, le=bounds.api_replicas_max)
    lake_dir: Path = Path("data/lake")
    tenant: str = Field(default="default", min_length=1, max_length=bounds.tenant_id_length_max)

    def with_overrides(self, **values: object) -> ApiSettings:
        """These settings with the given fields replaced (validated again); None values are ignored."""
        given = {name: value for name, value in values.items() if value is not None}
        return ApiSettings.model_validate({**self.model_dump(), **given})

    def environment(self) -> dict[str, str]:
        """The ``FENGKONG_*`` variables that reproduce these settings (for a server started by name)."""
        values = {
            "DATABASE_URL": self.database_url,
            "REDIS_PREFIX": self.redis_prefix,
            "REPLICAS": str(self.replicas),
            "LAKE_DIR": str(self.lake_dir),
            "TENANT": self.tenant,
        }
        if self.redis_url:
            values["REDIS_URL"] = self.redis_url
        return {ENV_PREFIX + name: value for name, value in values.items()}

    def check_deployment(self) -> None:
        """Refuse a deployment that would split in-process state: replicas > 1 with no Redis URL."""
        if self.replicas > 1 and not self.redis_url:
            raise InputError(
                f"{self.replicas} replicas with the in-process feature engine: each replica would keep its "
                "own online feature state. Set FENGKONG_REDIS_URL (state in Redis) or run one replica",
                field="replicas",
            )
