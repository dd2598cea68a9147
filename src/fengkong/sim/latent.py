"""The latent state of the simulated world: the contract between the ecosystem and the borrower response.

The ecosystem (``sim/ecosystem.py``) owns and updates this state every simulated day; the borrower-response
model (``sim/response.py``) reads it to decide how borrowers accept, draw, repay and default. Nothing outside
``sim/`` ever sees it: it is ground truth. One row per *person or business that can borrow*, aligned by
index across all arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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

    Added by the ecosystem (defaults are filled in when a caller builds a state without them, so older
    constructions keep working; the ecosystem always sets them):

    * ``registered_day`` — day index of the party's ``party_registered`` event. Rows exist from day 0 for
      every party the run will ever have; a party with ``registered_day > day`` does not exist yet for the
      lender (synthetic identities, fraud bursts and organic arrivals register later). Default 0;
    * ``closed_day`` — day index on which a merchant closed or a rider quit (−1 while active). From then on
      the party produces no business events; its ``risk_logit`` has already been raised. Default −1;
    * ``ring_id`` — fraud ring of the party (−1 for none); ring members share devices, phones and IPs;
    * ``attack_kind`` — 0 none, 1 ring member, 2 synthetic identity, 3 bust-out, 4 device rotation,
      5 account takeover (a *real* customer, ``fraud`` False, whose account a fraudster uses from
      ``attack_day``). ``fraud`` is True for kinds 1–4;
    * ``attack_day`` — day the attack turns active (−1 for none): for bust-out the day the good behaviour
      ends and the party maxes out; for account takeover the day of the new-device login. Ring members,
      synthetic identities and device rotators are fraudulent from registration (``attack_day`` =
      ``registered_day``).
    """

    party_id: StrArray
    kind: IntArray
    risk_logit: FloatArray
    monthly_income_fen: IntArray
    thin_file: BoolArray
    fraud: BoolArray
    scam_day: IntArray
    household_id: StrArray
    registered_day: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    closed_day: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    ring_id: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    attack_kind: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    attack_day: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    def __post_init__(self) -> None:
        size = len(self)
        for name, fill in (
            ("registered_day", 0),
            ("closed_day", -1),
            ("ring_id", -1),
            ("attack_kind", 0),
            ("attack_day", -1),
        ):
            if getattr(self, name).shape == (0,) and size > 0:
                setattr(self, name, np.full(size, fill, dtype=np.int64))

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
            "registered_day",
            "closed_day",
            "ring_id",
            "attack_kind",
            "attack_day",
        ):
            if getattr(self, name).shape != (size,):
                raise ValueError(
                    f"LatentState.{name} has shape {getattr(self, name).shape}, expected ({size},)"
                )
