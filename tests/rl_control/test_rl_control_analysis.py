"""RL-control analysis: table checks, step-grid interpolation, statistics vs scipy, CLI end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from responserank.errors import CacheError
from responserank.rl_control.analysis.cache_tables import (
    load_cache,
    reward_models_path,
    runs_path,
    write_reward_models,
    write_runs,
)
from responserank.rl_control.analysis.cli import main
from responserank.rl_control.analysis.collect import parse_run_name, tables_from_runs
from responserank.rl_control.analysis.curves import common_grid, curves_on_grid, final_returns
from responserank.rl_control.analysis.rt_comparisons import compare_rt, comparison_table
from responserank.stats import PAIRED_T, WELCH_T

REPO_ROOT = Path(__file__).resolve().parents[2]
OUTPUTS = [
    "final_return_by_noise.csv",
    "final_return_by_noise.tex",
    "final_return_by_env.csv",
    "final_return_by_env.tex",
    "reward_model_accuracy_by_noise.csv",
    "reward_model_accuracy_by_noise.tex",
    "reward_model_accuracy_by_env.csv",
    "reward_model_accuracy_by_env.tex",
    "learning_curves.png",
    "learning_curves_by_noise.png",
    "final_return_by_noise.png",
    "reward_model_accuracy_by_noise.png",
]


def _name(env: str, seed: int, noise: float, rt: bool, agent: bool) -> str:
    noise_part = f"_noise_{noise}" if noise else ""
    return (
        f"{'RL_' if agent else ''}ppo_{env}_{seed}_comparative_{seed}{noise_part}"
        f"_nfeedback_5000{'_rt1.0' if rt else ''}"
    )


def write_generated_cache(folder: Path) -> dict:
    """Two families, two noise levels, three seeds; highway runs are evaluated at uneven steps."""
    rng = np.random.default_rng(7)
    truth: dict = {"returns": {}}
    for family, env in (("mujoco", "Hopper-v5"), ("highway", "merge-v0")):
        agents, models = [], []
        for noise in (0.0, 0.5):
            for seed in (1, 2, 3):
                for rt in (False, True):
                    if family == "mujoco":
                        steps = [1000.0 * k for k in range(1, 11)]
                    else:  # runs of one env evaluated at different steps: interpolation needed
                        steps = [100.0, 300.0, 500.0, 700.0, 900.0, 1000.0 + 10 * seed]
                        if rt:
                            steps = [100.0, 200.0, 400.0, 600.0, 800.0, 1000.0 + 10 * seed]
                    returns = [s / 100 + 2 * rt + rng.normal() for s in steps]
                    ident = {"env": env, "noise": noise, "is_rt": rt, "seed": seed}
                    agents.append(
                        {
                            "run_id": f"a{len(agents)}{family[0]}",
                            "run_name": _name(env, seed, noise, rt, agent=True),
                            **ident,
                            "global_step_history": str(steps),
                            "reward_history": str([round(r, 6) for r in returns]),
                        }
                    )
                    truth["returns"][(env, noise, rt, seed)] = (steps, returns)
                    models.append(
                        {
                            "run_id": f"m{len(models)}{family[0]}",
                            "run_name": _name(env, seed, noise, rt, agent=False),
                            **ident,
                            "val_accuracy": 0.9 - noise / 5 + 0.01 * rt + 0.005 * rng.normal(),
                        }
                    )
        pd.DataFrame(agents).to_csv(runs_path(folder, family), index=False)
        pd.DataFrame(models).to_csv(reward_models_path(folder, family), index=False)
    return truth


@pytest.fixture
def generated_cache(tmp_path) -> Path:
    folder = tmp_path / "cache"
    folder.mkdir()
    write_generated_cache(folder)
    return folder


def test_common_grid_and_interpolation_by_hand():
    runs = pd.DataFrame(
        {"steps": [[0.0, 10.0, 20.0], [0.0, 5.0, 15.0, 20.0, 30.0]],
         "returns": [[0.0, 10.0, 0.0], [1.0, 1.0, 3.0, 5.0, 9.0]]}
    )  # fmt: skip
    grid, matrix = curves_on_grid(runs)
    np.testing.assert_array_equal(grid, [0, 5, 10, 15, 20])  # no extrapolation beyond 20
    np.testing.assert_allclose(matrix[0], [0, 5, 10, 5, 0])
    np.testing.assert_allclose(matrix[1], [1, 1, 2, 3, 5])
    with pytest.raises(ValueError, match="share no step range"):
        common_grid([[0.0, 1.0], [2.0, 3.0]])


def test_final_return_averages_the_last_fraction_of_the_grid():
    steps = [0.0, 25.0, 50.0, 75.0, 100.0]
    runs = pd.DataFrame(
        {"env": ["e", "e"], "steps": [steps, steps],
         "returns": [[0.0, 1.0, 2.0, 3.0, 4.0], [4.0, 4.0, 4.0, 8.0, 0.0]]}
    )  # fmt: skip
    # last 30% of [0, 100] = steps >= 70: {75, 100}
    np.testing.assert_allclose(final_returns(runs, 0.3), [3.5, 4.0])
    np.testing.assert_allclose(final_returns(runs, 0.0), [4.0, 0.0])


def test_paired_comparison_equals_scipy():
    rng = np.random.default_rng(0)
    base, other = rng.normal(size=6), rng.normal(0.5, 1.0, size=6)
    frame = pd.DataFrame(
        {
            "seed": list(range(6)) * 2,
            "is_rt": [False] * 6 + [True] * 6,
            "v": np.concatenate([base, other]),
        }
    ).sample(frac=1.0, random_state=1)  # order must not matter: pairing is by seed
    result = compare_rt(frame, "v", ["seed"])
    reference = stats.ttest_rel(other, base)
    ci = reference.confidence_interval(0.95)
    assert result.test == PAIRED_T and result.n == 6
    assert result.statistic == pytest.approx(reference.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-12)
    assert (result.ci_low, result.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-12)
    diff = other - base
    assert result.effect_size == pytest.approx(diff.mean() / diff.std(ddof=1))


def test_unpaired_runs_fall_back_to_welch():
    frame = pd.DataFrame(
        {"seed": [1, 2, 3, 4, 5, 6, 7], "is_rt": [False] * 3 + [True] * 4,
         "v": [1.0, 2.0, 4.0, 3.0, 5.0, 4.0, 7.0]}
    )  # fmt: skip
    result = compare_rt(frame, "v", ["seed"])
    reference = stats.ttest_ind([3.0, 5.0, 4.0, 7.0], [1.0, 2.0, 4.0], equal_var=False)
    assert result.test == WELCH_T and result.n == 0
    assert result.statistic == pytest.approx(reference.statistic)
    assert result.p_value == pytest.approx(reference.pvalue)


def _holm(p_values: list[float]) -> list[float]:
    order = np.argsort(p_values)
    m = len(p_values)
    adjusted, running = [0.0] * m, 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def test_holm_by_hand():
    frame = pd.DataFrame(
        {"g": ["a"] * 6 + ["b"] * 6 + ["c"] * 6, "seed": [1, 2, 3] * 6,
         "is_rt": ([False] * 3 + [True] * 3) * 3,
         "v": [0, 1, 2, 5, 6, 8, 0, 1, 2, 0.5, 2, 2.2, 0, 1, 2, 9, 1, 3]}
    )  # fmt: skip
    table = comparison_table(frame, "v", ["g"], ["seed"])
    p = table["p_value"].tolist()
    assert table["p_holm"].tolist() == pytest.approx(_holm(p))
    smallest = int(np.argmin(p))
    assert table["p_holm"][smallest] == pytest.approx(min(1.0, 3 * p[smallest]))


def test_generate_on_a_generated_table(generated_cache, tmp_path):
    fig_dir = tmp_path / "figures"
    assert main(["generate", str(generated_cache), str(fig_dir), "--formats", "png"]) == 0
    out = fig_dir / "rl_control"
    for name in OUTPUTS:
        assert (out / name).stat().st_size > 0, name

    by_noise = pd.read_csv(out / "final_return_by_noise.csv")
    assert len(by_noise) == 4 and set(by_noise["test"]) == {PAIRED_T}
    data = load_cache(generated_cache)
    runs = data.runs.assign(final=final_returns(data.runs))
    for row in by_noise.itertuples():
        cell = runs[(runs["env"] == row.env) & (runs["noise"] == row.noise)].sort_values("seed")
        reference = stats.ttest_rel(
            cell.loc[cell["is_rt"], "final"].to_numpy(),
            cell.loc[~cell["is_rt"], "final"].to_numpy(),
        )
        assert row.statistic == pytest.approx(reference.statistic)
        assert row.p_value == pytest.approx(reference.pvalue)
    assert by_noise["p_holm"].tolist() == pytest.approx(_holm(by_noise["p_value"].tolist()))

    by_env = pd.read_csv(out / "reward_model_accuracy_by_env.csv")
    assert by_env["n_pairs"].tolist() == [6, 6]  # pairs share noise level and seed
    tex = (out / "final_return_by_env.tex").read_text()
    assert "paired t-test" in tex and "\\toprule" in tex and "Hopper-v5" in tex


def test_interpolated_final_return_matches_hand_computation(generated_cache):
    truth = write_generated_cache(generated_cache)  # same seed: same tables, truth returned
    data = load_cache(generated_cache)
    highway = data.runs[data.runs["env"] == "merge-v0"]
    finals = final_returns(highway, 0.1)
    # last steps are 1010, 1020, 1030, so the common grid is the union of steps in [100, 1010]:
    # 100, 200, ..., 900, 1010; its last 10% (steps >= 1010 - 0.1 * 910 = 919) is 1010 alone
    row = highway[(highway["seed"] == 2) & (~highway["is_rt"]) & (highway["noise"] == 0.5)].index[0]
    steps, returns = truth["returns"][("merge-v0", 0.5, False, 2)]
    assert steps[-2:] == [900.0, 1020.0]
    r900, r1020 = np.round(returns, 6)[-2:]
    expected = r900 + (1010 - 900) / (1020 - 900) * (r1020 - r900)
    assert finals[row] == pytest.approx(expected)


def test_cache_errors_name_file_row_and_column(generated_cache):
    path = runs_path(generated_cache, "mujoco")
    frame = pd.read_csv(path)
    frame.loc[2, "reward_history"] = "[1.0, oops]"
    frame.to_csv(path, index=False)
    with pytest.raises(CacheError, match=r"mujoco_runs.csv, row 2, column 'reward_history'"):
        load_cache(generated_cache)
    frame.loc[2, "reward_history"] = "[1.0]"
    frame.to_csv(path, index=False)
    with pytest.raises(CacheError, match=r"row 2: global_step_history has 10 entries"):
        load_cache(generated_cache)
    frame = pd.read_csv(path)
    frame.loc[2, "reward_history"] = frame.loc[1, "reward_history"]
    frame["is_rt"] = frame["is_rt"].astype(object)
    frame.loc[3, "is_rt"] = "maybe"
    frame.to_csv(path, index=False)
    with pytest.raises(CacheError, match=r"row 3, column 'is_rt': expected True or False"):
        load_cache(generated_cache)
    reward_models_path(generated_cache, "mujoco").unlink()
    with pytest.raises(CacheError, match=r"family 'mujoco' is incomplete.*mujoco_rew_model_data"):
        load_cache(generated_cache)


def test_duplicate_runs_are_rejected(generated_cache):
    path = reward_models_path(generated_cache, "mujoco")
    frame = pd.read_csv(path)
    pd.concat([frame, frame.iloc[[0]]]).to_csv(path, index=False)
    with pytest.raises(CacheError, match="repeat the same"):
        load_cache(generated_cache)


def test_collect_offline_fails_clearly(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WANDB_MODE", "offline")
    code = main(["collect", str(tmp_path), "--mujoco-project", "p", "--highway-project", "q"])
    assert code == 2
    assert "WANDB_MODE=offline" in capsys.readouterr().err
    assert not list(tmp_path.iterdir()), "nothing is written when collect fails"


def test_run_objects_become_cached_tables(tmp_path):
    def run(name, history=(), summary=None):
        return SimpleNamespace(
            id=f"id-{abs(hash(name)) % 10**6}",
            name=name,
            summary=summary or {},
            scan_history=lambda keys: [dict(zip(keys, row, strict=True)) for row in history],
        )

    runs = []
    for seed in (1, 2):
        for rt in (False, True):
            runs.append(run(_name("Hopper-v5", seed, 0.25, rt, True), [(20, 2.0 + rt), (10, 1.0)]))
            runs.append(
                run(_name("Hopper-v5", seed, 0.25, rt, False), summary={"val_accuracy": 0.8})
            )
    runs += [run("some-sweep-run"), run(_name("Hopper-v5", 3, 0.0, False, True), history=[])]
    agents, models, skipped = tables_from_runs(runs)
    assert (len(agents), len(models), skipped) == (4, 4, 2)
    assert agents["steps"].iloc[0] == [10.0, 20.0], "history rows are sorted by step"
    write_runs(runs_path(tmp_path, "mujoco"), agents)
    write_reward_models(reward_models_path(tmp_path, "mujoco"), models)
    loaded = load_cache(tmp_path)
    assert loaded.families == ("mujoco",)
    assert sorted(loaded.runs["noise"]) == [0.25] * 4
    assert parse_run_name("ppo_merge-v0_12_comparative_12_nfeedback_5000").noise == 0.0


def test_shared_data_names_agree_with_columns(shared_data_dir):
    folder = shared_data_dir / "rl_control"
    for path in sorted(folder.glob("*.csv")):
        frame = pd.read_csv(path)
        for row in frame.itertuples():
            key = parse_run_name(row.run_name)
            assert (key.env, key.seed, key.noise, key.is_rt) == (
                row.env, row.seed, row.noise, row.is_rt
            ), f"{path.name}: {row.run_name}"  # fmt: skip
            assert key.is_agent == path.name.endswith("_runs.csv")


def test_generate_command_on_the_shared_data(shared_data_dir, tmp_path):
    cache = shared_data_dir / "rl_control"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src"), "MPLBACKEND": "Agg"}
    command = [sys.executable, "-m", "responserank.rl_control.analysis.cli", "generate",
               str(cache), str(tmp_path), "--formats", "png"]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    out = tmp_path / "rl_control"
    for name in OUTPUTS:
        assert (out / name).stat().st_size > 0, name

    # final return recomputed from the raw CSVs, tested with scipy, paired on (noise, seed)
    table = pd.read_csv(out / "final_return_by_env.csv").set_index("env")
    for family in ("mujoco", "highway"):
        raw = pd.read_csv(cache / f"{family}_runs.csv")
        for env, group in raw.groupby("env"):
            steps = np.array(json.loads(group["global_step_history"].iloc[0]))
            window = steps >= steps[-1] - 0.1 * (steps[-1] - steps[0])
            final = [np.mean(np.array(json.loads(t))[window]) for t in group["reward_history"]]
            keyed = group.assign(final=final).set_index(["noise", "seed"]).sort_index()
            rt = keyed.loc[keyed["is_rt"], "final"]
            no_rt = keyed.loc[~keyed["is_rt"], "final"].loc[rt.index]
            reference = stats.ttest_rel(rt.to_numpy(), no_rt.to_numpy())
            assert table.loc[env, "n_pairs"] == len(rt) == 20
            assert table.loc[env, "p_value"] == pytest.approx(reference.pvalue, rel=1e-9)
            assert table.loc[env, "statistic"] == pytest.approx(reference.statistic, rel=1e-9)
