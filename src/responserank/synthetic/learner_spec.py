"""What a learner is: its loss, its signal options and its training settings.

Built from one ``learners.<name>`` config node; unknown keys and bad values fail with the key
path and the valid choices before any work starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from responserank.errors import nearest_key
from responserank.synthetic.objectives import OBJECTIVES

LOSS_KINDS = tuple(OBJECTIVES)
RELIABILITY_SOURCES = ("none", "proxy", "permuted_proxy")
WORTH_TRANSFORMS = ("exp", "sigmoid")
SINGLETON_STRATA = ("keep", "drop")


@dataclass(frozen=True)
class LearnerSpec:
    """One learner of the grid (see conf/synthetic/learner/*.yaml for the documented presets).

    loss: "bt" (choices only), "rt_regression" (regress the difference implied by the RT), "rr"
      (ResponseRank: anchored Plackett-Luce over comparisons ranked by RT), "rapl_beta"
      (beta-RAPL: -log sigmoid(beta u) per comparison, beta from ``reliability``).
    reliability: rr and rapl_beta; where beta comes from: "none" (beta = 1), "proxy" (the
      dataset's reliability proxy in [0, 1], used as beta) or "permuted_proxy" (the training
      proxies permuted across comparisons: a control that keeps their distribution and destroys
      their link to the annotator). rr with a proxy is reliability-scaled ResponseRank.
    stratified: rr only; rank within strata (True) or across all comparisons (False, pooled).
    permute_rt: permute the training RTs across comparisons before fitting (a control that keeps
      the choices and destroys the strength information).
    worth_transform: rr only; "exp" (worth = exp(e)) or "sigmoid" (worth = sigmoid(e), the
      anchor's worth is sigmoid(0)).
    singleton_strata: rr only; "keep" a stratum of one comparison as its Bradley-Terry term, or
      "drop" it from the loss.
    misclassification_penalty: weight of an added sum of |f(x1) - f(x2)| over the training
      comparisons the model orders against the observed choice.
    label_smoothing: bt only; target 1 - label_smoothing instead of 1.
    """

    name: str
    loss: str
    stratified: bool = True
    permute_rt: bool = False
    worth_transform: str = "exp"
    singleton_strata: str = "keep"
    reliability: str = "none"
    misclassification_penalty: float = 0.0
    label_smoothing: float = 0.0
    hidden_layers: tuple[int, ...] = (64,)
    num_epochs: int = 200
    lr: float = 1e-3
    weight_decay: float = 0.01

    def __post_init__(self) -> None:
        where = f"learners.{self.name}"
        choices = {
            "loss": LOSS_KINDS,
            "worth_transform": WORTH_TRANSFORMS,
            "singleton_strata": SINGLETON_STRATA,
            "reliability": RELIABILITY_SOURCES,
        }
        for key, valid in choices.items():
            if getattr(self, key) not in valid:
                raise ValueError(
                    f"{where}.{key}: unknown value {getattr(self, key)!r}; valid choices: "
                    + ", ".join(valid)
                )
        ranges = {
            "num_epochs": self.num_epochs >= 1,
            "lr": self.lr > 0,
            "weight_decay": self.weight_decay >= 0,
            "misclassification_penalty": self.misclassification_penalty >= 0,
            "label_smoothing": 0 <= self.label_smoothing < 1,
            "hidden_layers": all(h >= 1 for h in self.hidden_layers),
        }
        for key, ok in ranges.items():
            if not ok:
                raise ValueError(f"{where}.{key}: value {getattr(self, key)!r} is out of range")
        if self.label_smoothing and self.loss != "bt":
            raise ValueError(f"{where}.label_smoothing applies to loss 'bt' only")
        if self.reliability != "none" and self.loss not in ("rr", "rapl_beta"):
            raise ValueError(f"{where}.reliability applies to losses 'rr' and 'rapl_beta' only")
        if self.loss == "rapl_beta" and self.reliability == "none":
            raise ValueError(
                f"{where}.reliability: loss 'rapl_beta' needs 'proxy' or 'permuted_proxy' "
                "(with none it is loss 'bt')"
            )

    @property
    def uses_reliability(self) -> bool:
        """Whether the learner reads the dataset's reliability proxy."""
        return self.reliability != "none"

    @classmethod
    def from_config(cls, name: str, cfg: Mapping[str, Any]) -> LearnerSpec:
        valid = [f.name for f in fields(cls) if f.name != "name"]
        unknown = sorted(set(cfg) - set(valid))
        if unknown:
            near = nearest_key(unknown[0], valid)
            hint = f"; did you mean learners.{name}.{near}?" if near else ""
            raise ValueError(
                f"learners.{name}: unknown key(s) {unknown}{hint} (valid keys: {', '.join(valid)})"
            )
        if "loss" not in cfg:
            raise ValueError(
                f"learners.{name}: missing key 'loss'; valid choices: {', '.join(LOSS_KINDS)}"
            )
        values = dict(cfg)
        if "hidden_layers" in values:
            values["hidden_layers"] = tuple(int(h) for h in values["hidden_layers"])
        return cls(name=name, **values)

    def to_config(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "name"}
        out["hidden_layers"] = list(self.hidden_layers)
        return out
