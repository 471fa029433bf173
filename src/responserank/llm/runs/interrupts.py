"""Stop a run cleanly on SIGTERM / SIGINT / SIGHUP and on the pre-emption signal (SIGUSR2, which
submitit asks SLURM to send ``signal_delay_s`` before the time limit or on pre-emption; the
``SUBMITIT_PREEMPT_SIGNAL`` variable names another one, as it does for submitit).

While the training loop runs, a signal only raises a flag: the callback then asks the Trainer to
save a checkpoint and stop at the end of the current optimizer step, so ``resume=auto`` can
continue from there. Outside the training loop (data preparation, model loading, final evaluation)
the signal raises :class:`RunStopped` at once. A second signal always raises immediately.

When the pre-emption signal stopped the run and a Python handler was installed for it before the
run (submitit's checkpoint-and-requeue inside a hydra-submitit-launcher job), :meth:`restore`
passes the signal on to that handler once the run has stopped and its record says so: submitit
then resubmits the same Hydra job, which continues from the checkpoint through ``resume=auto``.
"""

from __future__ import annotations

import os
import signal
from types import FrameType

from transformers import TrainerCallback

from responserank.errors import RunStopped

#: Environment variable submitit reads for its pre-emption signal name (without "SIG").
PREEMPT_SIGNAL_ENV = "SUBMITIT_PREEMPT_SIGNAL"


def preemption_signal() -> signal.Signals:
    """The signal that announces a time limit or pre-emption: SIGUSR2 unless
    ``SUBMITIT_PREEMPT_SIGNAL`` names another (e.g. ``USR1``)."""
    name = os.environ.get(PREEMPT_SIGNAL_ENV, "USR2")
    try:
        return signal.Signals[f"SIG{name}"]
    except KeyError:
        raise ValueError(
            f"{PREEMPT_SIGNAL_ENV}={name!r} is not a signal name (e.g. USR2)"
        ) from None


HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class GracefulStop(TrainerCallback):
    """Installs the signal handlers (restored by :meth:`restore`) and turns a flag into a stop."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.in_training_loop = False
        self._previous: dict[int, object] = {}

    def install(self) -> GracefulStop:
        for sig in (*HANDLED_SIGNALS, preemption_signal()):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def restore(self) -> None:
        """Put the previous handlers back; hand a pre-emption over to the previous handler."""
        hand_over = self.signum == preemption_signal() and callable(self._previous.get(self.signum))
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
        if hand_over:
            signal.raise_signal(self.signum)

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        already = self.requested
        self.signum = signum
        if already or not self.in_training_loop:
            raise RunStopped(signum)

    def on_train_begin(self, args, state, control, **kwargs):
        self.in_training_loop = True
        if self.requested:
            raise RunStopped(self.signum)

    def on_train_end(self, args, state, control, **kwargs):
        self.in_training_loop = False

    def _stop(self, control) -> None:
        control.should_save = True
        control.should_evaluate = False
        control.should_training_stop = True

    def on_step_end(self, args, state, control, **kwargs):
        if self.requested:
            self._stop(control)

    def on_epoch_end(self, args, state, control, **kwargs):
        if self.requested:
            self._stop(control)
