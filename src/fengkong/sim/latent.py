"""The latent state of the simulated world: the contract between the ecosystem and the borrower response.

The ecosystem (``sim/ecosystem.py``) owns and updates this state every simulated day; the borrower-response
model (``sim/response.py``) reads it to decide how borrowers accept, draw, repay and default. Nothing outside
``sim/`` ever sees it: it is ground truth. One row per *person or business that can borrow*, aligned by
index across all arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
StrArray = npt.NDArray[np.str_]


@dataclass(slots=True)
class LatentState:
    """Per-borrower latent drivers, updated in place by the ecosystem each day.

    * ``party_id`` — the ID that appears in events (``consumer_id``, ``rider_id``, ``merchant_id`` columns);
    * ``kind`` — 0 consumer, 1 rider, 2 merchant (a business; its owner borrows for it), 3 supplier;
    * ``risk_logit`` — today's logit of the monthly probability of going 30+ days past due *at zero debt
      burden*; the ecosystem moves it (a rider's order growth lowers it, a merchant's bad-review surge and
      decline raise it, a macro shock raises everyone's);
    * ``monthly_income_fen`` — today's monthly income (riders: pay; merchants: net takings);
    * ``thin_file`` — no bureau record (no ``bureau_report`` event); the latent risk is drawn the same way;
    * ``fraud`` — a synthetic identity or ring member: borrows to the maximum and never repays;
    * ``scam_day`` — day index on which the party is coerced by a scam (−1 for never);
    * ``household_id`` — household of a person (consumer credit caps are per household).
    """

    party_id: StrArray
    kind: IntArray
    risk_logit: FloatArray
    monthly_income_fen: IntArray
    thin_file: BoolArray
    fraud: BoolArray
    scam_day: IntArray
    household_id: StrArray

    def __len__(self) -> int:
        return int(self.party_id.shape[0])

    def validate(self) -> None:
        size = len(self)
        for name in (
            "kind",
            "risk_logit",
            "monthly_income_fen",
            "thin_file",
            "fraud",
            "scam_day",
            "household_id",
        ):
            if getattr(self, name).shape != (size,):
                raise ValueError(
                    f"LatentState.{name} has shape {getattr(self, name).shape}, expected ({size},)"
                )
