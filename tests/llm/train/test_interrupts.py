"""The stop signals and the hand-over of a pre-emption to the handler installed before the run
(submitit's checkpoint-and-requeue inside a hydra-submitit-launcher job)."""

from __future__ import annotations

import os
import signal

import pytest

from responserank.errors import RunStopped
from responserank.llm.runs.interrupts import GracefulStop, preemption_signal


@pytest.fixture
def previous_handler():
    """A Python handler for the pre-emption signal, as submitit installs one; records calls."""
    calls: list[int] = []
    sig = preemption_signal()
    original = signal.signal(sig, lambda signum, frame: calls.append(signum))
    yield calls
    signal.signal(sig, original)


def test_preemption_is_handed_over_after_the_run_stopped(previous_handler):
    stopper = GracefulStop().install()
    with pytest.raises(RunStopped, match="SIGUSR2"):
        signal.raise_signal(signal.SIGUSR2)  # outside the training loop: stops at once
    assert previous_handler == []  # not before the run has stopped and recorded it
    stopper.restore()
    assert previous_handler == [signal.SIGUSR2]


def test_other_stop_signals_are_not_handed_over(previous_handler):
    stopper = GracefulStop().install()
    stopper.in_training_loop = True
    signal.raise_signal(signal.SIGTERM)  # inside the loop: only a flag
    assert stopper.requested and stopper.signum == signal.SIGTERM
    stopper.restore()
    assert previous_handler == []


def test_no_hand_over_without_a_python_handler(monkeypatch):
    """With the default disposition before the run (a plain run), the stop is the end of it."""
    sig = preemption_signal()
    original = signal.signal(sig, signal.SIG_DFL)
    raised: list[int] = []
    try:
        stopper = GracefulStop().install()
        stopper.in_training_loop = True
        os.kill(os.getpid(), sig)
        assert stopper.signum == sig
        monkeypatch.setattr(signal, "raise_signal", raised.append)
        stopper.restore()
        assert raised == [] and signal.getsignal(sig) == signal.SIG_DFL
    finally:
        signal.signal(sig, original)


def test_preemption_signal_follows_submitit_variable(monkeypatch):
    assert preemption_signal() == signal.SIGUSR2
    monkeypatch.setenv("SUBMITIT_PREEMPT_SIGNAL", "USR1")
    assert preemption_signal() == signal.SIGUSR1
    monkeypatch.setenv("SUBMITIT_PREEMPT_SIGNAL", "NOPE")
    with pytest.raises(ValueError, match="SUBMITIT_PREEMPT_SIGNAL='NOPE'"):
        preemption_signal()
