"""The scoring server, started for real on 127.0.0.1 and called over HTTP with httpx."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest
from omegaconf import OmegaConf

from responserank.llm.train import CONFIG_DIR
from responserank.testing.scoring import evaluate_rows, save_model_folder
from responserank.testing.server import SAMPLE_WORDS, post, running_server, texts

MAX_LENGTH = 48  # tokens; the long text below has more


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A seeded tiny Llama reward model (chat template) with reward statistics."""
    folder = tmp_path_factory.mktemp("model")
    cfg = OmegaConf.load(CONFIG_DIR / "model" / "tiny_llama.yaml")
    save_model_folder(cfg, folder, texts(20, seed=1))
    return folder


@pytest.fixture(scope="module")
def server(model_dir):
    with running_server(
        model_dir,
        "--max-length",
        str(MAX_LENGTH),
        "--max-wait-ms",
        "200",
        "--max-body-bytes",
        "20000",
    ) as (url, _):
        yield url


def test_get_reward_and_score_answer_with_evaluates_rewards(server, model_dir, tmp_path):
    queries = texts(6, seed=2)
    long_text = "Human: hello\n\nAssistant: " + " ".join(SAMPLE_WORDS * 6)
    answer = post(server, "/get_reward", {"query": [*queries, long_text]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    expected = evaluate_rows(
        model_dir,
        [{"text": t} for t in [*queries, long_text]],
        tmp_path,
        f"max_length={MAX_LENGTH}",
    )
    np.testing.assert_allclose(body["rewards"], [r["reward"] for r in expected], atol=1e-5)
    # the over-long text was cut at max_length, as in training, and reported
    assert body["truncated"] == [False] * 6 + [True] == [r["truncated"] for r in expected]

    pairs = [
        {"prompt": "Why is the sky blue?", "response": t} for t in ("Rayleigh scattering.", "No.")
    ]
    conversations = [
        {"prompt": [{"role": "user", "content": p["prompt"]}], "response": p["response"]}
        for p in pairs
    ]
    scored = post(server, "/score", {"conversations": conversations})
    assert scored.status_code == 200, scored.text
    expected = evaluate_rows(model_dir, pairs, tmp_path, f"max_length={MAX_LENGTH}")
    np.testing.assert_allclose(scored.json()["rewards"], [r["reward"] for r in expected], atol=1e-5)


def test_concurrent_requests_are_batched_together(server):
    queries = texts(16, seed=3)
    alone = [post(server, "/get_reward", {"query": [q]}).json()["rewards"][0] for q in queries[:2]]
    before = httpx.get(f"{server}/health").json()
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda q: post(server, "/get_reward", {"query": [q]}), queries))
    after = httpx.get(f"{server}/health").json()
    assert all(a.status_code == 200 for a in answers)
    assert after["requests"] - before["requests"] == 16
    assert after["sequences_scored"] - before["sequences_scored"] == 16
    # 16 requests within the 200 ms window share fewer forward passes than one each
    assert after["forward_batches"] - before["forward_batches"] < 16
    together = [a.json()["rewards"][0] for a in answers[:2]]
    np.testing.assert_allclose(together, alone, atol=1e-5)


BAD_REQUESTS = [
    ("/get_reward", b'{"query": ["unterminated', 400, "malformed JSON"),
    ("/get_reward", b"[1, 2]", 422, "expected a JSON object"),
    ("/get_reward", b'{"texts": ["a"]}', 422, "missing field 'query'"),
    ("/get_reward", b'{"query": "a text"}', 422, "'query' must be a list"),
    ("/get_reward", b'{"query": []}', 422, "'query' is empty"),
    ("/get_reward", b'{"query": ["a", 3]}', 422, "'query[1]' must be a string"),
    ("/get_reward", b'{"query": [""]}', 422, "'query[0]' is an empty string"),
    ("/get_reward", json.dumps({"query": ["x" * 30000]}).encode(), 413, "limit is 20000"),
    ("/score", b'{"conversations": [{"prompt": "hi"}]}', 422, "has no 'response'"),
    (
        "/score",
        b'{"conversations": [{"prompt": [{"role": "user"}], "response": "a"}]}',
        422,
        "'conversations[0].prompt[0].content' must be a string",
    ),
    ("/score", b'{"conversations": {"prompt": "hi"}}', 422, "'conversations' must be a list"),
    ("/get_reward", b'{"query": ["a"], "scale": NaN}', 422, "non-finite number NaN"),
    ("/get_reward", b'{"query": ["a"], "scale": -Infinity}', 422, "non-finite number -Infinity"),
    ("/get_reward", b'{"query": ["a"], "scale": 1e999}', 422, "non-finite number 1e999"),
    ("/get_reward", b'{"query": ["a"], "top_k": 2, "b": 1}', 422, "unknown key(s) ['b', 'top_k']"),
    ("/score", b'{"conversations": [{"prompt": "hi", "response": "a"}], "x": 1}', 422, "['x']"),
    (
        "/score",
        b'{"conversations": [{"prompt": [{"role": "tool", "content": "x"}], "response": "a"}]}',
        422,
        "'conversations[0].prompt[0].role' must be one of ['system', 'user', 'assistant'], "
        "got 'tool'",
    ),
]


def test_bad_requests_get_a_4xx_with_one_line_and_the_server_stays_healthy(server):
    for path, content, status, reason in BAD_REQUESTS:
        answer = post(server, path, content=content)
        assert answer.status_code == status, (content, answer.text)
        error = answer.json()["error"]
        assert reason in error and "\n" not in error, (content, error)
    assert httpx.get(f"{server}/nope").status_code == 404
    assert httpx.get(f"{server}/health").json()["status"] == "ok"
    assert (
        post(server, "/get_reward", {"query": ["Human: hi\n\nAssistant: hello"]}).status_code == 200
    )


def test_raw_mode_reports_the_folders_reward_statistics(server, model_dir):
    config = json.loads((model_dir / "config.json").read_text())
    health = httpx.get(f"{server}/health").json()
    assert health["rewards"] == "raw"
    assert health["reward_statistics"] == config["reward_statistics"]
    assert health["reward_statistics"]["count"] > 0


def test_refusing_over_long_inputs_and_normalised_rewards(model_dir, tmp_path):
    queries = texts(3, seed=4)
    long_text = "Human: hello\n\nAssistant: " + " ".join(SAMPLE_WORDS * 6)
    config = json.loads((model_dir / "config.json").read_text())
    options = ["--max-length", str(MAX_LENGTH), "--overlong", "refuse", "--rewards", "normalized"]
    with running_server(model_dir, *options) as (url, _):
        refused = post(url, "/get_reward", {"query": [queries[0], long_text]})
        assert refused.status_code == 413
        assert "'query[1]' has" in refused.json()["error"]
        assert f"max_length={MAX_LENGTH}" in refused.json()["error"]
        answer = post(url, "/get_reward", {"query": queries}).json()
        health = httpx.get(f"{url}/health").json()
    raw = [r["reward"] for r in evaluate_rows(model_dir, [{"text": t} for t in queries], tmp_path)]
    expected = (np.array(raw) - config["mean"]) / config["std"]
    np.testing.assert_allclose(answer["rewards"], expected, atol=1e-5)
    assert health["rewards"] == "normalized"
    assert health["reward_statistics"] == config["reward_statistics"]


def test_a_folder_without_a_model_is_refused_on_one_line(tmp_path):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "responserank.llm.serve", "--model-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error: --model-dir") and "Traceback" not in done.stderr
