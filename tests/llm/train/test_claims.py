"""Claims on a run: exclusive creation, host + pid + heartbeat, takeover of dead or stale claims."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from responserank.atomic_io import write_json_atomic
from responserank.errors import InputFileError
from responserank.llm.runs.claims import Claim, ClaimHolder, live_reason, read_holder
from responserank.llm.runs.record import utc_now
from responserank.provenance import hostname

TIMEOUT_S = 3600.0


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _write_claim(path: Path, host: str, pid: int, heartbeat_at: str) -> ClaimHolder:
    holder = ClaimHolder(host, pid, "their-token", heartbeat_at, heartbeat_at)
    path.write_text(json.dumps(asdict(holder)))
    return holder


def _ago(seconds: float) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds)).isoformat(timespec="seconds")


def test_claim_is_exclusive_and_records_host_pid_and_heartbeat(tmp_path):
    path = tmp_path / "claim.json"
    first, second = Claim(path, TIMEOUT_S), Claim(path, TIMEOUT_S)
    assert first.acquire() is None
    holder = read_holder(path)
    assert (holder.host, holder.pid, holder.token) == (hostname(), os.getpid(), first.token)
    assert holder.heartbeat_at and holder.claimed_at
    reason = second.acquire()
    assert reason.startswith(f"running elsewhere (pid {os.getpid()} on {hostname()}")
    first.release()
    assert not path.exists()
    assert second.acquire() is None
    second.release()


def test_claim_of_a_dead_process_on_this_host_is_taken_over_at_once(tmp_path):
    path = tmp_path / "claim.json"
    dead = _write_claim(path, hostname(), _dead_pid(), utc_now())  # heartbeat is fresh
    claim = Claim(path, TIMEOUT_S)
    assert claim.acquire() is None
    assert claim.took_over == dead
    assert read_holder(path).token == claim.token
    claim.release()


def test_live_claimant_is_respected(tmp_path):
    path = tmp_path / "claim.json"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _write_claim(path, hostname(), sleeper.pid, utc_now())
        reason = Claim(path, TIMEOUT_S).acquire()
        assert reason is not None and f"pid {sleeper.pid}" in reason
        assert read_holder(path).token == "their-token"
    finally:
        sleeper.kill()
        sleeper.wait()


def test_other_hosts_are_judged_by_their_heartbeat(tmp_path):
    path = tmp_path / "claim.json"
    fresh = _write_claim(path, "elsewhere.example", 1, _ago(30))
    assert "on elsewhere.example" in live_reason(fresh, stale_after_s=60)
    assert "on elsewhere.example" in Claim(path, 60).acquire()
    stale = _write_claim(path, "elsewhere.example", 1, _ago(120))
    assert live_reason(stale, stale_after_s=60) is None
    claim = Claim(path, 60)
    assert claim.acquire() is None
    assert claim.took_over == stale
    claim.release()


def test_force_takes_over_a_live_claim_and_the_loser_keeps_its_hands_off(tmp_path):
    path = tmp_path / "claim.json"
    old, new = Claim(path, TIMEOUT_S), Claim(path, TIMEOUT_S)
    assert old.acquire() is None
    assert new.acquire(force=True) is None
    old.release()  # must not delete the claim that replaced it
    assert read_holder(path).token == new.token
    new.release()


def test_heartbeat_is_refreshed_while_the_claim_is_held(tmp_path):
    path = tmp_path / "claim.json"
    claim = Claim(path, stale_after_s=2.0)  # heartbeat every 0.5 s
    assert claim.acquire() is None
    old = _ago(3600)
    write_json_atomic(path, {**asdict(read_holder(path)), "heartbeat_at": old})
    deadline = time.monotonic() + 10
    while read_holder(path).heartbeat_at == old and time.monotonic() < deadline:
        time.sleep(0.1)
    refreshed = read_holder(path)
    claim.release()
    assert refreshed.token == claim.token
    assert refreshed.heartbeat_at != old
    assert live_reason(refreshed, stale_after_s=60) is not None


@pytest.mark.parametrize(
    "content",
    [
        b"{",
        b"",
        b'{"host": "h", "pid": 1}',
        b"\xff\xfe",
        b'{"host": "h", "pid": 1, "token": "t", "claimed_at": "x", "heartbeat_at": "yesterday"}',
    ],
)
def test_a_fresh_damaged_claim_names_the_file_and_keeps_the_run(tmp_path, content):
    path = tmp_path / "claim.json"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=r"claim\.json: damaged claim file"):
        read_holder(path)
    reason = Claim(path, TIMEOUT_S).acquire()
    assert reason is not None
    assert str(path) in reason and "damaged claim file" in reason and "force=true" in reason
    assert path.read_bytes() == content, "a claim that may be live is left alone"


def test_an_old_damaged_claim_is_taken_over_and_force_takes_any(tmp_path):
    path = tmp_path / "claim.json"
    path.write_text('{"host": "h", "pi')  # truncated
    os.utime(path, (time.time() - 2 * TIMEOUT_S,) * 2)
    claim = Claim(path, TIMEOUT_S)
    assert claim.acquire() is None
    assert claim.took_over_damaged and claim.replaced
    assert read_holder(path).token == claim.token
    claim.release()
    assert not path.exists()

    path.write_text("{")  # fresh, but force=true takes it over
    forced = Claim(path, TIMEOUT_S)
    assert forced.acquire(force=True) is None
    assert forced.took_over_damaged
    forced.release()


def test_a_holder_rewrites_its_own_claim_when_it_got_damaged(tmp_path):
    path = tmp_path / "claim.json"
    claim = Claim(path, TIMEOUT_S)
    assert claim.acquire() is None
    path.write_text("{")
    claim.refresh()
    assert read_holder(path).token == claim.token
    path.write_text("{")
    claim.release()
    assert not path.exists()


def _contend(path: str, barrier, results) -> None:
    barrier.wait()
    claim = Claim(Path(path), TIMEOUT_S)
    results.put(claim.acquire() is None)
    barrier.wait()  # stay alive until everyone decided: the winner's pid must be live


@pytest.mark.parametrize("leftover", ["none", "dead_claim"])
def test_concurrent_claimants_exactly_one_wins(tmp_path, leftover):
    path = tmp_path / "claim.json"
    if leftover == "dead_claim":
        _write_claim(path, hostname(), _dead_pid(), utc_now())
    context = multiprocessing.get_context("fork")
    n = 6
    barrier, results = context.Barrier(n), context.Queue()
    workers = [
        context.Process(target=_contend, args=(str(path), barrier, results)) for _ in range(n)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=60) for _ in range(n)]
    for worker in workers:
        worker.join(timeout=60)
    assert sum(outcomes) == 1
    assert read_holder(path).pid in {w.pid for w in workers}
