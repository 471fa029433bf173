"""Config lookup (checkout and wheel alike) and preset names checked before Hydra composes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from responserank import configs
from responserank.configs import check_group_choices, config_dir, config_root, group_options
from responserank.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
LLM = REPO / "conf" / "llm"
SYNTHETIC = REPO / "conf" / "synthetic"


def test_a_checkout_reads_the_top_level_conf_folder():
    assert config_root() == REPO / "conf"
    assert config_dir("synthetic", "learner") == SYNTHETIC / "learner"


def test_an_installed_package_reads_its_own_copy_first(tmp_path, monkeypatch):
    wheel_copy, checkout = tmp_path / "site" / "conf", tmp_path / "repo" / "conf"
    for root in (wheel_copy, checkout):
        (root / "llm").mkdir(parents=True)
        (root / "llm" / "config.yaml").write_text("{}\n")
    monkeypatch.setattr(configs, "CONFIG_ROOTS", (wheel_copy, checkout))
    assert config_root() == wheel_copy
    monkeypatch.setattr(configs, "CONFIG_ROOTS", (tmp_path / "nowhere",))
    with pytest.raises(ConfigError, match="no configuration folder found"):
        config_root()


def test_group_options_are_the_yaml_files():
    assert "rr_agree" in group_options(LLM / "experiment")
    assert group_options(LLM / "model") == sorted(p.stem for p in (LLM / "model").glob("*.yaml"))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["experiment=rr_agre", "dry_run=true"], r"experiment=rr_agre: .*did you mean rr_agree"),
        (["-m", "experiment=bt,rr_agreee"], r"experiment=rr_agreee: .*did you mean rr_agree"),
        (["model=minilm2"], r"did you mean minilm.*\? \(options: .*tiny_llama\)"),
        (["model=zzzz"], r"model=zzzz: no such option in config group 'model'; options: "),
    ],
)
def test_an_unknown_llm_preset_names_the_nearest(argv, message):
    with pytest.raises(ConfigError, match=message) as caught:
        check_group_choices(LLM, argv)
    assert "\n" not in str(caught.value)
    assert len(str(caught.value)) < 300  # the nearest names, not every option


def test_a_large_group_lists_where_its_options_are_not_all_of_them():
    with pytest.raises(ConfigError) as caught:
        check_group_choices(LLM, ["experiment=rr_agre"])
    message = str(caught.value)
    assert f"ls {LLM / 'experiment'}" in message and "bt_warmup0p1" not in message


@pytest.mark.parametrize(
    "argv",
    [
        ["experiment=rr_agree", "model=minilm", "training.learning_rate=1e-4"],
        ["-m", "experiment=bt,rr_agree", "seed=42,43", "hydra/launcher=slurm"],
        ["experiment=glob(rr_agree*)"],
        ["filter=null"],
        ["--config-dir", "/elsewhere", "experiment=only_there"],
        ["--cfg", "job"],
    ],
)
def test_valid_or_foreign_overrides_pass(argv):
    check_group_choices(LLM, argv)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["dataset=stochastc"], r"dataset=stochastc: .*did you mean stochastic\?"),
        (["+learner@learners.x=rrr"], r"learner=rrr: .*options: bt, rapl_beta, rr"),
    ],
)
def test_synthetic_presets_are_checked_too(argv, message):
    with pytest.raises(ConfigError, match=message):
        check_group_choices(SYNTHETIC, argv)
    check_group_choices(SYNTHETIC, ["+learner@learners.x=rr", "~learners.rr", "dataset=stochastic"])


def test_the_train_command_refuses_a_misspelt_preset_on_one_line():
    done = subprocess.run(
        [sys.executable, "-m", "responserank.llm.train", "experiment=rr_agre", "dry_run=true"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "did you mean rr_agree" in errors[0]
    assert "Traceback" not in done.stderr and "Available options" not in done.stderr
