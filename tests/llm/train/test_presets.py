"""Every experiment preset composes, selects what its name says, and dry-runs on the fixture."""

from __future__ import annotations

import contextlib
import functools
import io
from pathlib import Path

import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf
from train_helpers import compose_config

from responserank.llm.config import build_components
from responserank.llm.train import CONFIG_DIR, run
from responserank.llm.training.objectives.base import PairwiseObjective
from responserank.testing.fixtures import write_multipref_fixture


@functools.cache
def _composed(preset: str):
    return compose_config([f"experiment={preset}"])


# MultiPref presets; the RAPL and LIE presets (LIE / TRUE data) are tested in
# tests/llm/train/test_rapl_presets.py.
RAPL_PRESETS = ("rapl_", "true_value_head", "lie_rt_")
PRESETS = sorted(
    p.stem
    for p in (CONFIG_DIR / "experiment").glob("*.yaml")
    if not p.stem.startswith(RAPL_PRESETS)
)

# The preset names of the published study (spec/llm.md, "Presets of the paper").
MAIN = ["bt", "rr_agree", "rr_stated", "rr_rt_annostrat_spread2", "rr_randrank_randsize2", "bt_ep2"]
ABLATIONS = [
    "rr_agree_bt",
    *(f"rr_agree_spread{k}" for k in (2, 3, 4)),
    "rr_consensus",
    *(f"rr_consensus_spread{k}" for k in (2, 4, 6)),
    "bt_agree",
    "bt_meanpref",
    "rr_agree_slight25",
    "rr_agree_slight75",
    *(f"rr_agree_partialshuffle{q}" for q in (25, 50, 75, 100)),
    *(f"rr_agree_spread2_partialshuffle{q}" for q in (25, 50, 75, 100)),
    *(f"rr_agree_filter{f}" for f in (25, 50, 75, 95)),
    "rr_rt_spread2_global",
    *(f"rr_rt_annolength{k}_spread2" for k in (2, 4, 8, 16, 32)),
    "rr_stated_global",
    "rr_stated_partialshuffle100",
    "rr_randrank_randsize4",
]
# The paper's sensitivity presets: (bt name, rr_agree name, training key, value).
SENSITIVITY = [
    ("bt_lr1em5", "rr_agree_lr1em5", "learning_rate", 1e-5),
    ("bt_lr2em5", "rr_agree_lr2em5", "learning_rate", 2e-5),
    ("bt_acc2", "rr_agree_gradacc2", "gradient_accumulation_steps", 2),
    ("bt_acc8", "rr_agree_gradacc8", "gradient_accumulation_steps", 8),
    ("bt_clip0p5", "rr_agree_gradclip0p5", "max_grad_norm", 0.5),
    ("bt_clip2p0", "rr_agree_gradclip2p0", "max_grad_norm", 2.0),
    ("bt_ep2", "rr_agree_ep2", "num_epochs", 2),
    ("bt_ep4", "rr_agree_ep4", "num_epochs", 4),
    ("bt_warmup0p01", "rr_agree_warmup0p01", "warmup_ratio", 0.01),
    ("bt_warmup0p1", "rr_agree_warmup0p1", "warmup_ratio", 0.1),
    ("bt_wd0p001", "rr_agree_weightdecay0p001", "weight_decay", 0.001),
]
SENSITIVITY_CASES = [
    (name, base, key, value)
    for bt_name, rr_name, key, value in SENSITIVITY
    for name, base in ((bt_name, "bt"), (rr_name, "rr_agree"))
]


def test_every_paper_preset_exists():
    expected = set(MAIN) | set(ABLATIONS) | {name for name, *_ in SENSITIVITY_CASES}
    assert expected - set(PRESETS) == set()


@pytest.mark.parametrize(("preset", "base", "key", "value"), SENSITIVITY_CASES)
def test_sensitivity_preset_changes_one_training_value(preset, base, key, value):
    changed = compose_config([f"experiment={preset}"])
    reference = _composed(base)
    assert changed.training[key] == pytest.approx(value)
    assert changed.training[key] != reference.training[key]
    for other in reference.training:
        if other != key:
            assert changed.training[other] == reference.training[other], other


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("bt", {"signal": "NoSignal", "partitioner": "NoopPartitioner", "loss": "bt"}),
        (
            "rr_agree",
            {
                "signal": "Agreement",
                "partitioner": "AutoRoundRobinPartitioner",
                "loss": "responserank",
            },
        ),
        (
            "rr_agree_bt",
            {"signal": "Agreement", "partitioner": "AutoRoundRobinPartitioner", "loss": "bt"},
        ),
        ("rr_stated", {"signal": "StatedStrength", "stratifier": "FieldStratifier"}),
        (
            "rr_rt_annostrat_spread2",
            {"signal": "RealResponseTime", "partitioner": "RoundRobinPartitioner"},
        ),
        (
            "rr_randrank_randsize2",
            {"rank_transform": "RandomRank", "partitioner": "RandomSizePartitioner"},
        ),
        ("bt_agree", {"target": "StrengthTarget", "loss": "bt_soft"}),
        ("rr_agree_filter95", {"filter": "RandomFilter"}),
    ],
)
def test_preset_selects_its_components(preset, expected):
    cfg = compose_config([f"experiment={preset}"])
    built = {name: type(c).__name__ for name, c in build_components(cfg).items()}
    built["loss"] = instantiate(cfg.loss).name
    assert {k: built[k] for k in expected} == expected


@pytest.fixture(scope="module")
def small_fixture(tmp_path_factory) -> Path:
    return write_multipref_fixture(tmp_path_factory.mktemp("multipref_small"), 60, seed=1)


@pytest.mark.parametrize("preset", PRESETS)
def test_preset_composes_and_dry_runs_on_the_fixture(preset, small_fixture, tmp_path, monkeypatch):
    cfg = compose_config(
        [
            f"experiment={preset}",
            f"dataset.path={small_fixture}",
            "dataset.test_size=15",
            f"tracking.output_root={tmp_path}",
            "tracking.wandb.mode=disabled",
            "runtime.progress_bar=false",
            "dry_run=true",
        ]
    )
    assert cfg.experiment.name == preset
    assert cfg.experiment.fraction == 1.0
    assert cfg.model.name_or_path == "meta-llama/Llama-3.1-8B-Instruct"
    assert isinstance(instantiate(cfg.loss), PairwiseObjective)
    # The gated Llama tokenizer is not available offline: dry-run with the tiny model's.
    cfg.model = OmegaConf.load(CONFIG_DIR / "model" / "tiny_llama.yaml")

    def no_model(*args, **kwargs):
        raise AssertionError("a dry run must not build the model")

    monkeypatch.setattr("responserank.llm.train.build_reward_model", no_model)
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        outcome = run(cfg)
    assert outcome.status == "finished"
    assert "packing_epoch0" in printed.getvalue()
    stats = outcome.data_stats
    # the 15-comparison held-out split less the comparisons that mostly tied
    held_out = 15 - stats["dropped"]["test_common_ties"]
    assert stats["sizes"]["train"] > 0 and stats["sizes"]["eval"] == held_out > 0
    assert 0.0 < stats["packing_epoch0"]["share_partitions_intact"] <= 1.0
    assert (outcome.run_dir / "dry_run" / "summary.json").is_file()
    assert not (outcome.run_dir / "summary.json").exists()
