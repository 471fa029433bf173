"""Evaluating the TRUE reliability model: a scalar score of "will the annotator be right here?".

The model reads ``prompt_response_group`` (the question with both options) and outputs a logit.
Its raw logits are calibrated on the TRUE cal split (logistic regression for 0/1 labels, isotonic
for soft labels), then judged on the TRUE val split (calibrated BCE, accuracy, AUC) and on LIE
(TRUE -> LIE transfer: calibrated BCE against LIE ``correct_chosen``, both A/B orders).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score

from responserank.calibration import fit_probability_calibrator
from responserank.llm.data.sources.lie import load_lie_full, load_lie_split
from responserank.llm.data.sources.scale import TRUE_LABELS, load_true_items
from responserank.llm.data.sources.true import ANCHOR_ITEM, load_true_split
from responserank.llm.evaluation.base import Scorer, score_texts, screen_rows, screen_texts

PROBABILITY_FLOOR = 1e-7


def score_items(scorer: Scorer, texts: pd.Series | list[str]) -> np.ndarray:
    """Scores of full-text inputs (no separate prompt)."""
    texts = list(texts)
    return score_texts(scorer, [""] * len(texts), texts, "true_model")


def binary_cross_entropy(probability: np.ndarray, label: np.ndarray) -> float:
    """Mean BCE of probabilities against 0/1 or soft labels (probabilities kept off 0 and 1)."""
    p = torch.tensor(np.clip(probability, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR))
    y = torch.tensor(np.asarray(label, dtype=float))
    return float(F.binary_cross_entropy(p, y))


def probability_metrics(probability: np.ndarray, label: np.ndarray) -> dict[str, float]:
    """Calibrated BCE, accuracy of the 0.5 threshold and AUC (labels binarised at 0.5)."""
    hard = (np.asarray(label, dtype=float) >= 0.5).astype(int)
    auc = float(roc_auc_score(hard, probability)) if len(np.unique(hard)) == 2 else float("nan")
    return {
        "calibrated_bce": binary_cross_entropy(probability, label),
        "accuracy": float(np.mean((probability >= 0.5) == hard)),
        "auc": auc,
    }


class TrueModelSuite:
    """EvalSuite: calibrate on TRUE ``cal_split``, report BCE / accuracy / AUC on ``eval_split``.

    ``uncalibrated_bce`` is the training loss on the eval split: BCE of sigmoid(r(item) -
    r(anchor)) when ``relative_to_anchor`` (models trained by experiment=true_value_head), else of
    sigmoid(r(item)).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        fold: int = 0,
        layout: str = "repeated_orders",
        eval_split: str = "val",
        cal_split: str = "cal",
        label: str = "correct_chosen",
        calibration: str | None = None,
        relative_to_anchor: bool = True,
        name: str = "true_model",
    ) -> None:
        self.name = name
        self.relative_to_anchor = relative_to_anchor
        self.label = label
        if label not in TRUE_LABELS:
            raise ValueError(f"unknown TRUE label {label!r}; choose one of {list(TRUE_LABELS)}")
        self.calibration = calibration or ("logistic" if label == "correct_chosen" else "isotonic")
        self.location = {"path": path, "fold": fold, "layout": layout, "label": label}
        self.splits = {"cal": cal_split, "eval": eval_split}
        self._items: dict[str, pd.DataFrame] | None = None

    def load_data(self) -> dict[str, pd.DataFrame]:
        """The calibration and evaluation items (read once; call early to fail before a model)."""
        if self._items is None:
            self._items = {
                role: load_true_items(split=split, **self.location)
                for role, split in self.splits.items()
            }
        return self._items

    def fit_calibrator(self, scorer: Scorer) -> Callable[[np.ndarray], np.ndarray]:
        cal = self.load_data()["cal"]
        cal = cal[screen_texts(scorer, f"{self.name}/cal", cal["prompt_response_group"]).keep]
        cal_scores = score_items(scorer, cal["prompt_response_group"])
        return fit_probability_calibrator(cal_scores, cal[self.label], self.calibration)

    def evaluate(self, scorer: Scorer) -> dict[str, float]:
        """Over-long items are counted (``truncated``: eval split) and dropped when asked."""
        calibrator = self.fit_calibrator(scorer)
        items = self.load_data()["eval"]
        screening = screen_texts(scorer, self.name, items["prompt_response_group"])
        items = items[screening.keep]
        logits = score_items(scorer, items["prompt_response_group"])
        label = items[self.label].to_numpy(dtype=float)
        metrics = probability_metrics(calibrator(logits), label)
        if self.relative_to_anchor:
            logits = logits - score_items(scorer, [ANCHOR_ITEM])[0]
        metrics["uncalibrated_bce"] = float(
            F.binary_cross_entropy_with_logits(torch.tensor(logits), torch.tensor(label))
        )
        metrics = {f"{self.name}/{key}": value for key, value in metrics.items()}
        return {**metrics, **screening.metrics(self.name)}


def predict_lie_correctness(
    scorer: Scorer, calibrator: Callable[[np.ndarray], np.ndarray], lie_table: pd.DataFrame
) -> pd.DataFrame:
    """Calibrated P(annotator correct) for LIE rows, per A/B order and averaged over both."""
    order1 = calibrator(score_items(scorer, lie_table["prompt_response_group_1"]))
    order2 = calibrator(score_items(scorer, lie_table["prompt_response_group_2"]))
    return pd.DataFrame(
        {
            "IDs": lie_table["IDs"].to_numpy(),
            "p_order1": order1,
            "p_order2": order2,
            "p_mean": (order1 + order2) / 2.0,
        }
    )


class TrueTransferSuite:
    """EvalSuite: TRUE-calibrated correctness predictions judged against LIE ``correct_chosen``.

    ``lie_fold=None`` uses all 1,000 LIE comparisons; otherwise that fold's ``lie_split``.
    """

    def __init__(
        self,
        lie_path: str | os.PathLike[str] | None = None,
        true_path: str | os.PathLike[str] | None = None,
        fold: int = 0,
        layout: str = "repeated_orders",
        cal_split: str = "cal",
        lie_fold: int | None = None,
        lie_split: str = "val",
        name: str = "true_to_lie",
    ) -> None:
        self.name = name
        self.true_split = {"path": true_path, "fold": fold, "split": cal_split, "layout": layout}
        self.lie_location = {"path": lie_path, "fold": lie_fold, "split": lie_split}
        self._data: tuple[pd.DataFrame, pd.DataFrame] | None = None

    def load_data(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """TRUE calibration items and LIE comparisons (read once)."""
        if self._data is None:
            cal = load_true_split(**self.true_split)
            where = self.lie_location
            lie = (
                load_lie_full(where["path"])
                if where["fold"] is None
                else load_lie_split(where["path"], where["fold"], where["split"])
            )
            self._data = (cal, lie)
        return self._data

    def evaluate(self, scorer: Scorer) -> dict[str, float]:
        """Over-long LIE rows (either order) are counted (``truncated``) and dropped when asked."""
        cal, lie = self.load_data()
        cal = cal[screen_texts(scorer, f"{self.name}/cal", cal["prompt_response_group"]).keep]
        orders = list(lie["prompt_response_group_1"]) + list(lie["prompt_response_group_2"])
        rows = np.tile(np.arange(len(lie)), 2)
        screening = screen_rows(scorer, self.name, [""] * len(orders), orders, rows, len(lie))
        lie = lie[screening.keep]
        cal_scores = score_items(scorer, cal["prompt_response_group"])
        calibrator = fit_probability_calibrator(cal_scores, cal["correct_chosen"])
        predicted = predict_lie_correctness(scorer, calibrator, lie)
        label = lie["correct_chosen"].to_numpy(dtype=float)
        metrics = {
            "bce_order1": binary_cross_entropy(predicted["p_order1"].to_numpy(), label),
            "bce_order2": binary_cross_entropy(predicted["p_order2"].to_numpy(), label),
        }
        metrics.update(probability_metrics(predicted["p_mean"].to_numpy(), label))
        metrics = {f"{self.name}/{key}": value for key, value in metrics.items()}
        return {**metrics, **screening.metrics(self.name)}
