"""The regulatory exposure caps of fengkong.credit_lines.exposure."""

from __future__ import annotations

import pytest

from fengkong.credit_lines.exposure import household_cap_fen, party_limit_fen, person_cap_fen
from fengkong.errors import InputError


def test_household_and_business_caps() -> None:
    assert household_cap_fen("consumer") == 20_000_000  # 200,000 yuan
    assert household_cap_fen("business") == 1_000_000_000  # 10 million yuan
    with pytest.raises(InputError):
        household_cap_fen("mortgage")  # type: ignore[arg-type]


def test_person_cap_is_a_third_of_average_income_up_to_300000_yuan() -> None:
    assert person_cap_fen([9_000_000, 9_000_000, 9_000_000]) == 3_000_000  # 90,000 yuan a year: 30,000
    assert person_cap_fen([900_000_000] * 3) == 30_000_000  # 300,000 yuan at most
    assert person_cap_fen([9_000_000]) == 1_000_000  # one year known: the other two count 0
    assert person_cap_fen([]) == 0
    with pytest.raises(InputError):
        person_cap_fen([1, 2, 3, 4])
    with pytest.raises(InputError):
        person_cap_fen([-1])


def test_party_limit_is_cut_to_the_binding_caps() -> None:
    assert party_limit_fen(50_000_000, "consumer") == 20_000_000
    assert party_limit_fen(50_000_000, "consumer", [9_000_000] * 3) == 3_000_000
    assert party_limit_fen(50_000_000, "business", [9_000_000] * 3) == 50_000_000
    with pytest.raises(InputError):
        party_limit_fen(1.5, "consumer")  # type: ignore[arg-type]
