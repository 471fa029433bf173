"""An evaluation suite that sends the process the pre-emption signal once, after the first
held-out evaluation, as SLURM does ``signal_delay_s`` before a time limit. A marker file makes it
fire only once, so the requeued job trains to the end."""

from __future__ import annotations

import os
from pathlib import Path

from responserank.llm.runs.interrupts import preemption_signal


class PreemptOnce:
    def __init__(self, marker: str, name: str = "preempt") -> None:
        self.name = name
        self.marker = Path(marker)

    def evaluate(self, scorer) -> dict[str, float]:
        if not self.marker.exists():
            self.marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), preemption_signal())
        return {}
