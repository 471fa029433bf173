"""ARM -> reliability: TRUE calibration reproduces the published columns; mappings; errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rapl_fixtures import write_true_folder

from responserank.calibration import fit_probability_calibrator
from responserank.errors import DataValidationError
from responserank.llm.data.signals.reliability import ArmCalibration, ReliabilitySignal
from responserank.llm.data.sources import lie

ARMS = ("confidence_scores", "decision_time", "number_of_clicks")


@pytest.mark.parametrize("fold", range(5))
def test_true_calibration_reproduces_published_columns(shared_data_dir, fold):
    tables = {
        split: lie.load_lie_split(shared_data_dir / "lie", fold, split)
        for split in ("train", "val")
    }
    for arm in ARMS:
        signal = ReliabilitySignal(
            arm,
            is_prob=True,
            calibration=ArmCalibration(true_path=shared_data_dir / "true", fold=fold),
        )
        filled = signal.apply(tables)
        for name, table in filled.items():
            np.testing.assert_allclose(
                table["reliability"],
                table[f"TRUE_calibrated_{arm}"],
                atol=1e-6,
                rtol=0,
                err_msg=f"fold {fold} {name} {arm}",
            )


def test_fold0_confidence_coefficients(shared_data_dir):
    cal = pd.read_csv(shared_data_dir / "true" / "no_repeats" / "cal_single_0.csv")
    predict = fit_probability_calibrator(
        cal["confidence_scores"], cal["correct_chosen"].astype(int)
    )
    intercept = math.log(predict(np.array([0.0]))[0] / (1 - predict(np.array([0.0]))[0]))
    at_one = predict(np.array([1.0]))[0]
    slope = math.log(at_one / (1 - at_one)) - intercept
    assert intercept == pytest.approx(0.169, abs=1e-3)
    assert slope == pytest.approx(0.680, abs=1e-3)


def _table(values) -> pd.DataFrame:
    return pd.DataFrame({"arm": np.asarray(values, dtype=float), "reliability": np.nan})


@pytest.mark.parametrize(
    ("map_to", "q", "expected"),
    [
        ("beta", [0.731058578630, 0.9, 0.5, 0.2], [1.0, math.log(9.0), 0.0, 0.0]),
        ("p", [0.9, 0.5, 0.2, 1.0], [0.8, 0.0, 0.0, 1.0]),
        ("margin", [0.731058578630, 0.3, 0.95], [0.0, 1.0, 0.0]),
        ("raw", [0.3, 0.7], [0.3, 0.7]),
    ],
)
def test_probability_mappings(map_to, q, expected):
    out = ReliabilitySignal("arm", is_prob=True, map_to=map_to).apply({"t": _table(q)})["t"]
    np.testing.assert_allclose(out["reliability"], expected, atol=1e-9)
    np.testing.assert_allclose(out["arm_value"], q)


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=20))
def test_beta_and_p_are_nonnegative_and_monotone(q):
    q = np.sort(np.asarray(q))
    for map_to in ("beta", "p"):
        out = ReliabilitySignal("arm", is_prob=True, map_to=map_to).apply({"t": _table(q)})["t"]
        values = out["reliability"].to_numpy()
        assert (values >= 0).all()
        assert (np.diff(values) >= -1e-12).all()


def test_raw_values_pass_through_and_clip_to_domain(caplog):
    raw = [-0.03, 0.4, 1.2]
    beta = ReliabilitySignal("arm", map_to="beta").apply({"val": _table(raw)})["val"]
    np.testing.assert_allclose(beta["reliability"], [0.0, 0.4, 1.2])
    p = ReliabilitySignal("arm", map_to="p").apply({"val": _table(raw)})["val"]
    np.testing.assert_allclose(p["reliability"], [0.0, 0.4, 1.0])
    assert "clipped" in caplog.text


def test_errors_name_the_problem():
    with pytest.raises(
        DataValidationError,
        match=r"no ARM column 'speed'; numeric columns available: \['arm', 'reliability'\]",
    ):
        ReliabilitySignal("speed").apply({"train": _table([0.5])})
    with pytest.raises(
        DataValidationError,
        match=r"train: data row 1 \(0-based\), field 'arm': expected a probability",
    ):
        ReliabilitySignal("arm", is_prob=True, map_to="p").apply({"train": _table([0.5, 1.5])})
    with pytest.raises(
        DataValidationError, match=r"data row 0 \(0-based\), field 'arm': expected a finite ARM"
    ):
        ReliabilitySignal("arm").apply({"train": _table([np.nan])})
    with pytest.raises(ValueError, match="unknown map_to"):
        ReliabilitySignal("arm", map_to="gamma")
    with pytest.raises(ValueError, match="set is_prob=true"):
        ReliabilitySignal("arm", calibration=ArmCalibration())


@pytest.mark.parametrize(("map_to", "q"), [("p", [0.5, 0.3, 0.5]), ("beta", [0.1, 0.5, 0.2])])
def test_every_weight_zero_is_refused(map_to, q):
    signal = ReliabilitySignal("arm", is_prob=True, map_to=map_to)
    with pytest.raises(
        DataValidationError,
        match=rf"ARM 'arm' \(map_to={map_to}\): all 3 training comparisons get weight 0",
    ):
        signal.apply({"train": _table(q)})
    # the same values on the eval table only describe it
    assert (signal.apply({"eval": _table(q)})["eval"]["reliability"] == 0).all()


def test_mostly_zero_weights_warn_and_margins_never_zero_weight(caplog):
    table = ReliabilitySignal("arm", map_to="beta").apply({"train": _table([0.0, 0.0, 0.7])})
    assert "ARM 'arm' (map_to=beta): 2 of 3 training comparisons get weight 0" in caplog.text
    np.testing.assert_allclose(table["train"]["reliability"], [0.0, 0.0, 0.7])
    margin = ReliabilitySignal("arm", is_prob=True, map_to="margin")
    assert len(margin.apply({"train": _table([0.5, 0.5])})["train"]) == 2


def test_isotonic_calibration_is_monotone_on_fixture(tmp_path):
    write_true_folder(tmp_path, folds=1, rows=40)
    calibration = ArmCalibration(true_path=tmp_path, fold=0, method="isotonic")
    predict = calibration.fit("confidence_scores")
    grid = np.linspace(-0.5, 1.5, 21)
    values = predict(grid)
    assert (np.diff(values) >= 0).all()
    assert ((values >= 0) & (values <= 1)).all()
    with pytest.raises(ValueError, match="unknown calibration method"):
        fit_probability_calibrator(np.zeros(4), np.array([0, 1, 0, 1]), method="platt")
