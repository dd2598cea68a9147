"""Model cards: what a model was trained on, how, how well, when and how it was validated — as JSON.

A card is written next to every model the report trains (``<name>.card.json``) so that a reviewer can
read, without running anything, the data (source, rows, date range, label definition and exclusions), the
features (and the protected attributes that were kept out), the parameters, the metrics with the goal
each is held to, the validation scheme and the known limitations. ``content_sha256`` is the SHA-256 of the
card's canonical JSON without that field, so a card edited by hand no longer matches its digest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from fengkong.clock import require_utc
from fengkong.errors import InputError

CARD_FORMAT: Final = "fengkong.model-card/1"


@dataclass(frozen=True, slots=True)
class ModelCard:
    """The card's sections (all JSON-ready: numbers, strings, lists and dicts)."""

    name: str
    created_at: datetime
    model_type: str
    data: Mapping[str, Any]
    features: Sequence[str]
    excluded_features: Mapping[str, str]  # column -> why it is not an input
    parameters: Mapping[str, Any]
    metrics: Mapping[str, Any]
    validation: Mapping[str, Any]
    limitations: Sequence[str] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise InputError("a card name is letters, digits, '_' and '-'", field="name")
        require_utc(self.created_at, "created_at")
        overlap = sorted(set(self.features) & set(self.excluded_features))
        if overlap:
            raise InputError(f"columns both used and excluded: {overlap}", field="features")

    def body(self) -> dict[str, Any]:
        return {
            "format": CARD_FORMAT,
            "name": self.name,
            "created_at": require_utc(self.created_at).isoformat().replace("+00:00", "Z"),
            "model_type": self.model_type,
            "data": dict(self.data),
            "features": list(self.features),
            "excluded_features": dict(self.excluded_features),
            "parameters": dict(self.parameters),
            "metrics": dict(self.metrics),
            "validation": dict(self.validation),
            "limitations": list(self.limitations),
        }

    def to_json(self) -> str:
        body = self.body()
        canonical = json.dumps(body, sort_keys=True, allow_nan=False, separators=(",", ":"), default=str)
        body["content_sha256"] = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        return json.dumps(body, indent=2, sort_keys=True, allow_nan=False, default=str) + "\n"

    def write(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.name}.card.json"
        path.write_text(self.to_json(), encoding="utf-8")
        return path


def verify_card(text: str) -> dict[str, Any]:
    """Parse a card and check its digest; raises :class:`InputError` naming what is wrong."""
    try:
        body = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"not JSON: {error}", field="card") from error
    if not isinstance(body, dict) or body.get("format") != CARD_FORMAT:
        raise InputError(f"not a {CARD_FORMAT} card", field="card")
    digest = body.pop("content_sha256", None)
    canonical = json.dumps(body, sort_keys=True, allow_nan=False, separators=(",", ":"), default=str)
    if digest != hashlib.sha256(canonical.encode("utf-8")).hexdigest():
        raise InputError("content_sha256 does not match the card", field="card.content_sha256")
    body["content_sha256"] = digest
    return body
