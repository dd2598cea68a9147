"""The Redis backend's pure parts (no server): state members round-trip, set names are stable per source
definition and change with it, keyspaces change with the spec set's version."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fengkong.errors import InputError, InvariantError
from fengkong.features.online_redis import RedisFeatureEngine, decode_member, encode_member, source_hash
from fengkong.features.spec import FeatureSet, Filter, Operator, Source
from fengkong.features.standard import STANDARD_FEATURES


@given(
    st.text(min_size=1, max_size=40),
    st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.text(max_size=40)),
)
def test_a_member_round_trips(event_id: str, value: int | str | bool | None) -> None:
    decoded_id, decoded = decode_member(encode_member(event_id, value))
    assert decoded_id == event_id
    assert decoded == value and type(decoded) is type(value)


def test_bad_members_and_values_are_refused() -> None:
    with pytest.raises(InputError):
        encode_member("e1", 1.5)
    with pytest.raises(InvariantError):
        decode_member("2:e1")


def test_a_set_is_named_by_its_source_definition() -> None:
    plain = Source("order_placed", "consumer_id")
    assert source_hash(plain) == source_hash(Source("order_placed", "consumer_id"))
    filtered = Source("order_placed", "consumer_id", filters=(Filter("pay_method", Operator.EQ, "bnpl"),))
    assert len({source_hash(plain), source_hash(filtered), source_hash(Source("login", "party_id"))}) == 3


class _NoServer:
    def register_script(self, script: str) -> Any:
        return None


def test_the_keyspace_follows_the_spec_set_version() -> None:
    whole = RedisFeatureEngine(_NoServer(), STANDARD_FEATURES, prefix="p:")
    part = RedisFeatureEngine(_NoServer(), FeatureSet(STANDARD_FEATURES.specs[:5]), prefix="p:")
    assert whole.keyspace == f"p:feat:{STANDARD_FEATURES.version}:"
    assert whole.keyspace != part.keyspace
    assert whole.seen_key("e1").startswith(whole.keyspace)
    assert whole.set_key("abc", "P-1") == f"{whole.keyspace}sabc:P-1"
    # the dedup keys outlive the longest window of the set
    longest_days = max(m.window.horizon_seconds for s in STANDARD_FEATURES for m in s.measures) / 86_400
    assert whole.dedup_ttl_ms > longest_days * 86_400_000
