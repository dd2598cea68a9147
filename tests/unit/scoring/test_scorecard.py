"""The scorecard: JSON scorer exact against optbinning, exports, reason codes, contract and bad input."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from fengkong.scoring.data import ScoringInputError, prepare
from fengkong.scoring.scorecard import PARAMETER_RULES, ScorecardModel, quiet_optbinning
from fengkong.scoring.table import ScorecardTable


def _reference(model: ScorecardModel, frame: pd.DataFrame) -> np.ndarray:
    with quiet_optbinning():
        return np.asarray(model.scorecard_.score(frame[list(model.table_.names)]))


def test_json_scorer_equals_optbinning_on_training_rows(fitted_scorecard, credit_data) -> None:  # type: ignore[no-untyped-def]
    frame, _ = credit_data
    ours = fitted_scorecard.points(frame)
    assert ours.dtype == np.int64
    np.testing.assert_array_equal(ours, _reference(fitted_scorecard, frame))


def test_json_scorer_equals_optbinning_on_fresh_rows_with_missing_and_unseen(
    fitted_scorecard, fresh_rows
) -> None:  # type: ignore[no-untyped-def]
    table = ScorecardTable.from_json(fitted_scorecard.table_.to_json())
    np.testing.assert_array_equal(table.score(fresh_rows), _reference(fitted_scorecard, fresh_rows))
    assert table.unseen_categories(fresh_rows) == {"region": ["atlantis"]}


def test_selection_keeps_signal_and_drops_noise(fitted_scorecard) -> None:  # type: ignore[no-untyped-def]
    names = set(fitted_scorecard.table_.names)
    assert {"income", "utilisation", "region"} <= names
    assert "noise" not in names
    assert any(column == "noise" for column, _ in fitted_scorecard.dropped_)
    directions = fitted_scorecard.monotone_directions()
    assert directions["income"] == -1 and directions["utilisation"] == 1


def test_numeric_bins_are_monotone_in_bad_rate(fitted_scorecard) -> None:  # type: ignore[no-untyped-def]
    for characteristic in fitted_scorecard.table_.characteristics:
        if characteristic.kind == "numeric":
            rates = np.diff([b.event_rate for b in characteristic.bins])
            assert np.all(rates >= 0) or np.all(rates <= 0), characteristic.name


def test_points_scale_follows_pdo_and_base_odds(fitted_scorecard, credit_data) -> None:  # type: ignore[no-untyped-def]
    table = fitted_scorecard.table_
    # base_points stands for odds 50:1 (PD 1/51), pdo more points double the odds (PD 1/101)
    assert table.probability_of_default(600) == pytest.approx(1 / 51)
    assert table.probability_of_default(620) == pytest.approx(1 / 101)
    frame, _ = credit_data
    lr_pd = fitted_scorecard.scorecard_.estimator_.predict_proba(
        fitted_scorecard.scorecard_.binning_process_.transform(frame[list(table.names)], metric="woe")
    )[:, 1]
    points_pd = fitted_scorecard.predict_proba(frame)[:, 1]
    # whole-number points move the PD a little, never the ranking much
    assert np.max(np.abs(points_pd - lr_pd)) < 0.03


def test_reason_codes_rank_points_lost_against_the_best_bin(fitted_scorecard, fresh_rows) -> None:  # type: ignore[no-untyped-def]
    table = fitted_scorecard.table_
    points = table.points_matrix(fresh_rows)
    codes = table.reasons(fresh_rows, count=3)
    best = np.array([c.best_points for c in table.characteristics])
    for row in range(len(fresh_rows)):
        lost = best - points[row]
        reasons = codes.for_row(row)
        assert [cost for _, cost in reasons] == sorted((c for c in lost if c > 0), reverse=True)[:3]
        for name, cost in reasons:
            assert lost[table.names.index(name)] == cost > 0


def test_exports_json_csv_html(fitted_scorecard) -> None:  # type: ignore[no-untyped-def]
    table = fitted_scorecard.table_
    document = json.loads(table.to_json())
    assert document["format"] == "fengkong.scorecard/1"
    assert ScorecardTable.from_dict(document) == table
    csv = pd.read_csv(io.StringIO(table.to_csv()))
    assert list(csv.columns[:4]) == ["characteristic", "kind", "bin", "count"]
    assert len(csv) == sum(len(c.bins) + 1 for c in table.characteristics)
    assert csv["points"].tolist()[0] == table.characteristics[0].bins[0].points
    page = table.to_html("Test <card>")
    assert "Test &lt;card&gt;" in page and "income" in page and "★" in page


def test_estimator_contract_and_repeatability(credit_data) -> None:  # type: ignore[no-untyped-def]
    frame, y = credit_data
    model = ScorecardModel(pdo=40, random_state=3)
    assert model.get_params()["pdo"] == 40
    assert not hasattr(model, "table_")
    assert model.fit(frame, y) is model
    again = clone(model).fit(frame, y)
    assert again.table_ == model.table_


@pytest.mark.parametrize("name", sorted(PARAMETER_RULES))
def test_parameters_outside_their_rule_are_refused(name: str, credit_data) -> None:  # type: ignore[no-untyped-def]
    frame, y = credit_data
    low, high = PARAMETER_RULES[name]
    for bad in (low - 1, high * 2 + 1, float("nan")):
        with pytest.raises(ScoringInputError) as raised:
            ScorecardModel(**{name: bad}).fit(frame, y)
        assert raised.value.field == name


def test_bad_targets_are_refused_with_the_column() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": ["good", "good", "good", "good"]})
    with pytest.raises(ScoringInputError, match="no row has the bad value") as raised:
        prepare(frame, "y", "bad")
    assert raised.value.field == "y"
    with pytest.raises(ScoringInputError, match="one class only"):
        prepare(frame, "y", "good")
    with pytest.raises(ScoringInputError) as raised:
        prepare(frame, "target", "bad")
    assert raised.value.field == "target"
    with pytest.raises(ScoringInputError, match="no target value"):
        prepare(frame.assign(y=["good", None, "bad", "good"]), "y", "bad")
    with pytest.raises(ScoringInputError, match="not a number"):
        prepare(frame.assign(y=[0, 1, 0, 1]), "y", "bad")


def test_constant_and_empty_columns_are_dropped_and_text_in_numbers_refused(credit_data) -> None:  # type: ignore[no-untyped-def]
    frame, y = credit_data
    data = frame.assign(constant=7.0, empty=np.nan, target=y)
    prepared = prepare(data, "target", "1")
    assert dict(prepared.dropped) == {
        "constant": "a single value in every row",
        "empty": "every value is missing",
    }
    typo = frame["income"].astype(object)
    typo.iloc[3] = "n/a?"
    with pytest.raises(ScoringInputError, match="text") as raised:
        prepare(frame.assign(income=typo, target=y), "target", "1")
    assert raised.value.field == "income"


def test_scoring_refuses_text_in_a_numeric_column_and_a_missing_column(fitted_scorecard, fresh_rows) -> None:  # type: ignore[no-untyped-def]
    bad = fresh_rows.astype({"income": object})
    bad.loc[bad.index[0], "income"] = "lots"
    with pytest.raises(ScoringInputError) as raised:
        fitted_scorecard.table_.score(bad)
    assert raised.value.field == "income"
    with pytest.raises(ScoringInputError) as raised:
        fitted_scorecard.table_.score(fresh_rows.drop(columns=["region"]))
    assert raised.value.field == "region"


def test_a_malformed_table_is_refused() -> None:
    with pytest.raises(ScoringInputError, match="scorecard"):
        ScorecardTable.from_json("{}")
    with pytest.raises(ScoringInputError, match="not JSON"):
        ScorecardTable.from_json("{")


def test_partial_sort_of_reasons_equals_a_full_stable_sort() -> None:
    from fengkong.scoring.table import top_reasons

    rng = np.random.default_rng(7)
    cost = rng.integers(-3, 6, size=(2_000, 9))  # many ties
    names = tuple(f"c{i}" for i in range(9))
    index, lost = top_reasons(cost, names, 4)
    order = np.argsort(-cost, axis=1, kind="stable")[:, :4]
    expected_lost = np.take_along_axis(cost, order, axis=1)
    np.testing.assert_array_equal(lost, np.where(expected_lost > 0, expected_lost, 0))
    np.testing.assert_array_equal(index, np.where(expected_lost > 0, order, -1))
    with pytest.raises(ScoringInputError, match="reasons"):
        top_reasons(cost, names, 0)
