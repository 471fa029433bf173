"""Offline-first: a hub id that is neither cached nor reachable fails within seconds, on one line
naming the id and the ways out, before any run record exists."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from huggingface_hub import constants
from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

from responserank import hub
from responserank.errors import BenchmarkDataError, DataValidationError, HubUnavailableError
from responserank.hub import require_available
from responserank.llm.modeling.checkpoints import MODEL_WAYS_OUT, require_checkpoint

WAYS_OUT = "model=minilm or model.name_or_path=<folder>"


def _one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_local_paths_and_cached_ids_pass(tmp_path, monkeypatch):
    require_available(str(tmp_path), "model", WAYS_OUT)
    snapshot = tmp_path / "hub" / "models--org--cached" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (tmp_path / "hub" / "models--org--cached" / "refs").mkdir()
    (tmp_path / "hub" / "models--org--cached" / "refs" / "main").write_text("abc123")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    require_available("org/cached", "model", WAYS_OUT)


def test_a_path_that_is_no_hub_id_says_so(tmp_path):
    with pytest.raises(HubUnavailableError) as caught:
        require_available(str(tmp_path / "no" / "such" / "folder"), "model", WAYS_OUT)
    assert "no such local file or folder" in _one_line(caught) and WAYS_OUT in str(caught.value)


def test_offline_and_not_cached_fails_at_once_naming_the_ways_out(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.monotonic()
    with pytest.raises(HubUnavailableError) as caught:
        require_available("org/not-cached-anywhere", "model", WAYS_OUT)
    assert time.monotonic() - started < 5
    message = _one_line(caught)
    assert "'org/not-cached-anywhere'" in message and "HF_HUB_OFFLINE=1" in message
    assert WAYS_OUT in message and "hf auth login" in message


def test_an_unreachable_hub_fails_within_seconds(monkeypatch):
    monkeypatch.setattr(hub, "hub_offline", lambda: False)
    monkeypatch.setattr(hub, "hub_endpoint", lambda: "http://127.0.0.1:9")  # nothing listens
    started = time.monotonic()
    with pytest.raises(DataValidationError) as caught:
        require_available(
            "org/dataset", "dataset", "dataset.path=<copy>", "dataset", DataValidationError
        )
    assert time.monotonic() - started < hub.PROBE_TIMEOUT_S + 5
    message = _one_line(caught)
    assert "http://127.0.0.1:9 cannot be reached" in message and "dataset.path=<copy>" in message


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (GatedRepoError, "is gated: accept its terms on "),
        (RepositoryNotFoundError, "does not exist on the hub"),
    ],
)
def test_gated_and_unknown_repositories_name_the_login(monkeypatch, raised, expected):
    def refuse(repo_id, repo_type=None):
        error = raised.__new__(raised)  # the hub's answer, without an HTTP response object
        Exception.__init__(error, "refused")
        raise error

    monkeypatch.setattr(hub, "hub_offline", lambda: False)
    monkeypatch.setattr(hub, "unreachable_reason", lambda endpoint: None)
    monkeypatch.setattr("huggingface_hub.auth_check", refuse)
    with pytest.raises(HubUnavailableError) as caught:
        require_available("meta-llama/Gated-Model", "model", WAYS_OUT)
    message = _one_line(caught)
    assert expected in message and "hf auth login" in message and WAYS_OUT in message


def test_the_paper_model_offline_points_to_minilm(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubUnavailableError) as caught:
        require_checkpoint("meta-llama/Llama-3.1-8B-Instruct", "tokenizer")
    assert "tokenizer 'meta-llama/Llama-3.1-8B-Instruct'" in str(caught.value)
    assert MODEL_WAYS_OUT in str(caught.value)
    assert Path(require_checkpoint("bundled:all-MiniLM-L6-v2")).is_dir()


def test_benchmarks_name_the_key_hydra_accepts(monkeypatch):
    from responserank.llm.evaluation.rewardbench_v1 import RewardBenchV1
    from responserank.llm.evaluation.rewardbench_v2 import RewardBenchV2
    from responserank.llm.evaluation.suites import select_suites

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("RR_REWARDBENCH_V2_PATH", raising=False)
    suites = select_suites([RewardBenchV1(), RewardBenchV2()])  # as eval=rewardbench lists them
    with pytest.raises(BenchmarkDataError) as caught:
        suites[1].require_available()
    message = _one_line(caught)
    assert "eval.suites.1.data_path=<local copy>" in message
    assert "RR_REWARDBENCH_V2_PATH" in message and "'allenai/reward-bench-2'" in message


def test_the_cpu_only_bitsandbytes_notice_is_dropped(caplog):
    import responserank.llm  # noqa: F401  (installs the filter)

    logger = logging.getLogger("bitsandbytes.backends.cpu.ops")
    with caplog.at_level(logging.WARNING, logger=logger.name):
        logger.warning("Failed to load CPU gemm_4bit_forward from kernels-community: %s.", "x")
        logger.warning("something else")
    assert [r.getMessage() for r in caplog.records] == ["something else"]
