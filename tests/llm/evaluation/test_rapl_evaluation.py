"""RAPL evaluation suites with hand-written scorers whose expected results are known exactly."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapl_fixtures import anthropic_rows, rm_bench_flat, write_lie_folder, write_true_folder
from scipy.optimize import minimize_scalar

from responserank.calibration import calibrated_loss, pairwise_accuracy
from responserank.llm.evaluation.anthropic_attributes import AnthropicAttributesSuite
from responserank.llm.evaluation.base import EvalSuite, Scorer
from responserank.llm.evaluation.lie_test import LieTestSuite, correct_over_incorrect
from responserank.llm.evaluation.rm_bench import RMBenchSuite
from responserank.llm.evaluation.true_model import TrueModelSuite, TrueTransferSuite


class FunctionScorer:
    """Reward = f(full text) where the full text is the prompt turn + response (or the response)."""

    def __init__(self, reward: Callable[[str], float]) -> None:
        self.reward = reward
        self.calls = 0

    def score(self, prompts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
        self.calls += 1
        return np.array(
            [
                self.reward(r if not p else f"{p}\n{r}")
                for p, r in zip(prompts, responses, strict=True)
            ]
        )


def _lookup(table: dict[str, float]) -> FunctionScorer:
    return FunctionScorer(lambda text: table[text])


# -- pairwise metrics ------------------------------------------------------------------------


def test_pairwise_accuracy_counts_strict_wins():
    assert pairwise_accuracy(np.array([1.0, -2.0, 0.0, 3.0])) == 0.5
    with pytest.raises(ValueError, match="NaN"):
        pairwise_accuracy(np.array([np.nan]))


def test_calibrated_loss_matches_unregularised_temperature_scaling():
    rng = np.random.default_rng(0)
    u = rng.normal(0.8, 1.5, size=2000)

    def bt_loss_at(temperature: float) -> float:
        return float(np.mean(np.logaddexp(0.0, -temperature * u)))

    best = minimize_scalar(bt_loss_at, bounds=(-20, 20), method="bounded")
    assert calibrated_loss(u) == pytest.approx(best.fun, abs=1e-4)
    assert calibrated_loss(5.0 * u) == pytest.approx(best.fun, abs=1e-4)
    assert calibrated_loss(np.zeros(3)) == pytest.approx(math.log(2))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-50, 50, allow_nan=False), min_size=2, max_size=40))
def test_calibrated_loss_never_exceeds_log2(u):
    assert calibrated_loss(np.array(u)) <= math.log(2) + 1e-6


# -- LIE test --------------------------------------------------------------------------------


def test_lie_test_recovers_a_known_linear_reward(tmp_path):
    write_lie_folder(tmp_path, folds=1)
    suite = LieTestSuite(tmp_path)
    assert isinstance(suite, EvalSuite)
    weights = {"detailed": 2.0, "correct": 0.5, "intercept": -1.0}
    rewards = {}
    for column in (
        "correct_concise",
        "correct_detailed",
        "incorrect_concise",
        "incorrect_detailed",
    ):
        value = weights["intercept"]
        value += weights["detailed"] * column.endswith("detailed")
        value += weights["correct"] * column.startswith("correct")
        rewards.update(dict.fromkeys(suite.load_data()[column], value))
    metrics = suite.evaluate(_lookup(rewards))
    assert metrics["lie_test/length_weight"] == pytest.approx(2.0)
    assert metrics["lie_test/correctness_weight"] == pytest.approx(0.5)
    assert metrics["lie_test/ratio"] == pytest.approx(0.25)
    assert metrics["lie_test/intercept"] == pytest.approx(-1.0)
    # correct beats incorrect in 3 of the 4 pairings (not concise vs detailed) and in both
    # pairings of equal length
    assert metrics["lie_test/accuracy"] == pytest.approx(0.75)
    assert metrics["lie_test/accuracy_same_length"] == pytest.approx(1.0)


def test_correct_over_incorrect_counts_ties_as_wrong():
    rewards = {
        "correct_concise": np.array([1.0, 0.0]),
        "correct_detailed": np.array([1.0, 2.0]),
        "incorrect_concise": np.array([1.0, -1.0]),
        "incorrect_detailed": np.array([0.0, 3.0]),
    }
    # question 0: cc=ic tie, cc>id, cd=ic tie, cd>id -> 2 of 4; question 1: cc>ic, cc<id,
    # cd>ic, cd<id -> 2 of 4. Same length: q0 tie, win; q1 win, loss -> 2 of 4.
    result = correct_over_incorrect(rewards)
    assert result == {"accuracy": 0.5, "accuracy_same_length": 0.5}


def test_lie_test_length_scorer_equals_balanced_design_contrasts(shared_data_dir):
    suite = LieTestSuite(shared_data_dir / "lie")
    scorer = FunctionScorer(lambda text: float(len(text)))
    metrics = suite.evaluate(scorer)
    assert scorer.calls == 1
    table = suite.load_data()
    mean = {c: table[c].str.len().mean() for c in table.columns[2:]}
    # Every row holds all four responses, so OLS main effects are the averaged 2x2 contrasts.
    length = 0.5 * (
        mean["correct_detailed"]
        - mean["correct_concise"]
        + mean["incorrect_detailed"]
        - mean["incorrect_concise"]
    )
    correctness = 0.5 * (
        mean["correct_concise"]
        - mean["incorrect_concise"]
        + mean["correct_detailed"]
        - mean["incorrect_detailed"]
    )
    assert metrics["lie_test/length_weight"] == pytest.approx(length)
    assert metrics["lie_test/correctness_weight"] == pytest.approx(correctness)
    assert metrics["lie_test/ratio"] == pytest.approx(correctness / length)
    assert metrics["lie_test/length_weight"] > 200  # detailed answers are far longer


# -- RM-Bench --------------------------------------------------------------------------------


def test_rm_bench_length_scorer_prefers_styled_answers(tmp_path):
    rm_bench_flat(5).to_csv(tmp_path / "rm.csv", index=False)
    suite = RMBenchSuite(tmp_path / "rm.csv")
    metrics = suite.evaluate(FunctionScorer(lambda text: float(len(text))))
    # chosen/rejected differ only in Right/Wrong (same length): only more styling wins.
    assert (metrics["rm_bench/hard"], metrics["rm_bench/normal"], metrics["rm_bench/easy"]) == (
        0.0,
        0.0,
        1.0,
    )
    assert metrics["rm_bench/matrix/markdown_vs_concise"] == 1.0
    assert metrics["rm_bench/matrix/concise_vs_markdown"] == 0.0


def test_rm_bench_content_scorer_is_style_blind(tmp_path):
    rm_bench_flat(4).to_csv(tmp_path / "rm.csv", index=False)
    metrics = RMBenchSuite(tmp_path / "rm.csv", max_ids=3).evaluate(
        FunctionScorer(lambda text: 1.0 if "Right" in text else 0.0)
    )
    assert metrics["rm_bench/hard"] == metrics["rm_bench/normal"] == metrics["rm_bench/easy"] == 1.0


def test_rm_bench_partial_matrix_uses_ids_with_both_styles(tmp_path):
    flat = rm_bench_flat(2)
    flat = flat[~((flat["id"] == 1) & (flat["type"] == "markdown"))]
    flat.to_csv(tmp_path / "rm.csv", index=False)
    scores = {t: float(i) for i, t in enumerate(flat["chosen"])}
    scores.update(dict.fromkeys(flat["rejected"], 0.5))
    metrics = RMBenchSuite(tmp_path / "rm.csv").evaluate(
        FunctionScorer(lambda text: scores[text.split("\n", 1)[1]])
    )
    # id 0 concise chosen scores 0.0 < 0.5; everything else beats 0.5.
    assert metrics["rm_bench/matrix/concise_vs_concise"] == 0.5
    assert metrics["rm_bench/matrix/markdown_vs_markdown"] == 1.0


# -- Anthropic attributes --------------------------------------------------------------------


def test_anthropic_attributes_recover_known_coefficients(tmp_path):
    rows = anthropic_rows(80, seed=3)
    rows.to_csv(tmp_path / "anthropic.csv", index=False)
    code = {"A": 1.0, "C": 0.0, "B": -1.0}
    rewards = {}
    for row in rows.itertuples(index=False):
        a_minus_b = 0.7 * code[row.funny] - 0.3 * code[row.longer] + 0.2
        chosen_is_a = row.chosen_choice == "A"
        rewards[row.chosen] = a_minus_b if chosen_is_a else 0.0
        rewards[row.rejected] = 0.0 if chosen_is_a else a_minus_b
    metrics = AnthropicAttributesSuite(tmp_path / "anthropic.csv").evaluate(_lookup(rewards))
    assert len(metrics) == 25 + 2  # the 25 attributes, truncated and identical_skipped (0 each)
    assert metrics["anthropic_attributes/funny"] == pytest.approx(0.7, abs=1e-9)
    assert metrics["anthropic_attributes/longer"] == pytest.approx(-0.3, abs=1e-9)
    others = [v for k, v in metrics.items() if not k.endswith(("/funny", "/longer"))]
    np.testing.assert_allclose(others, 0.0, atol=1e-9)


# -- scorer output checks --------------------------------------------------------------------


def _suites(tmp_path) -> list[EvalSuite]:
    write_lie_folder(tmp_path, folds=1)
    rm_bench_flat(2).to_csv(tmp_path / "rm.csv", index=False)
    anthropic_rows(30, seed=1).to_csv(tmp_path / "anthropic.csv", index=False)
    write_true_folder(tmp_path, folds=1, rows=30)
    return [
        LieTestSuite(tmp_path),
        RMBenchSuite(tmp_path / "rm.csv"),
        AnthropicAttributesSuite(tmp_path / "anthropic.csv"),
        TrueModelSuite(tmp_path, fold=0),
    ]


class BrokenScorer:
    def __init__(self, kind: str) -> None:
        self.kind = kind

    def score(self, prompts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
        rewards = np.arange(len(responses), dtype=float)
        if self.kind == "nan":
            rewards[-1] = np.nan
            return rewards
        return rewards[:-1]


@pytest.mark.parametrize(
    ("kind", "message"), [("nan", "1 non-finite rewards"), ("short", "rewards for")]
)
def test_every_suite_refuses_missing_or_non_finite_rewards(tmp_path, kind, message):
    for suite in _suites(tmp_path):
        with pytest.raises(ValueError, match=message):
            suite.evaluate(BrokenScorer(kind))


# -- TRUE model and TRUE -> LIE transfer -----------------------------------------------------


def _base_rate_bce(p: float, labels: np.ndarray) -> float:
    y = labels.mean()
    return -(y * math.log(p) + (1 - y) * math.log(1 - p))


def test_true_model_suite_perfect_and_uninformative_scorers(tmp_path):
    write_true_folder(tmp_path, folds=1, rows=30)
    suite = TrueModelSuite(tmp_path, fold=0, layout="repeated_orders")
    items_by_role = suite.load_data()
    labels = {
        text: float(label)
        for items in items_by_role.values()
        for text, label in zip(items["prompt_response_group"], items["correct_chosen"], strict=True)
    }
    perfect = suite.evaluate(FunctionScorer(lambda text: 4.0 * labels.get(text, 0.5) - 2.0))
    assert perfect["true_model/accuracy"] == 1.0 and perfect["true_model/auc"] == 1.0
    assert perfect["true_model/calibrated_bce"] < 0.2
    # The anchor item scores 0 here, so the training-loss logits are exactly +-2.
    assert perfect["true_model/uncalibrated_bce"] == pytest.approx(math.log1p(math.exp(-2.0)))
    flat = suite.evaluate(FunctionScorer(lambda text: 0.3))
    cal_rate = items_by_role["cal"]["correct_chosen"].mean()
    expected = _base_rate_bce(cal_rate, items_by_role["eval"]["correct_chosen"].to_numpy())
    assert flat["true_model/calibrated_bce"] == pytest.approx(expected, abs=1e-3)
    assert flat["true_model/auc"] == 0.5


def test_true_model_suite_soft_labels_use_isotonic(tmp_path):
    write_true_folder(tmp_path, folds=1, rows=20, scale=True)
    suite = TrueModelSuite(tmp_path, label="accuracy", layout="no_repeats")
    assert suite.calibration == "isotonic"
    texts = pd.concat(suite.load_data().values())
    accuracy = dict(zip(texts["prompt_response_group"], texts["accuracy"], strict=True))
    metrics = suite.evaluate(FunctionScorer(lambda text: accuracy.get(text, 0.5)))
    assert np.isfinite(metrics["true_model/calibrated_bce"])
    with pytest.raises(ValueError, match="unknown TRUE label"):
        TrueModelSuite(tmp_path, label="votes")


def test_true_transfer_suite_constant_scorer_gives_base_rate_loss(tmp_path):
    write_true_folder(tmp_path / "true", folds=1, rows=30)
    write_lie_folder(tmp_path / "lie", folds=2, rows_per_fold=10)
    suite = TrueTransferSuite(tmp_path / "lie", tmp_path / "true", fold=0)
    cal, lie = suite.load_data()
    assert len(lie) == 20
    metrics = suite.evaluate(FunctionScorer(lambda text: 1.0))
    p = cal["correct_chosen"].mean()
    expected = _base_rate_bce(p, lie["correct_chosen"].to_numpy(dtype=float))
    for key in ("bce_order1", "bce_order2", "calibrated_bce"):
        assert metrics[f"true_to_lie/{key}"] == pytest.approx(expected, abs=1e-3)


def test_scorer_protocol_is_satisfied():
    assert isinstance(FunctionScorer(len), Scorer)
