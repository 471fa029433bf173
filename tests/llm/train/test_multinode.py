"""The multi-node recipe: the ``accelerate launch`` command each node builds from SLURM's
environment, checked with accelerate's own launch parser, and the sbatch script around it."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from accelerate.commands.launch import _validate_launch_command, launch_command_parser

from responserank.errors import ConfigError
from responserank.llm.multinode import launch_command, main

REPO = Path(__file__).resolve().parents[3]
FSDP = REPO / "conf" / "accelerate" / "fsdp.yaml"
SBATCH = REPO / "scripts" / "slurm" / "multinode.sbatch"
OVERRIDES = ["experiment=rr_agree", "model.gradient_checkpointing=false", "seed=43"]


@pytest.fixture
def slurm_node(monkeypatch):
    """The second node of a 3-node job with 8 GPUs per node."""
    for key, value in {
        "SLURM_JOB_ID": "4242",
        "SLURM_JOB_NUM_NODES": "3",
        "SLURM_NODEID": "1",
        "SLURM_JOB_NODELIST": "gpu[07-08],gpu11",
        "SLURM_GPUS_ON_NODE": "8",
    }.items():
        monkeypatch.setenv(key, value)


def _accelerate_view(command: list[str]):
    assert command[:3] == [sys.executable, "-m", "accelerate.commands.launch"]
    args, _, _ = _validate_launch_command(launch_command_parser().parse_args(command[3:]))
    return args


def test_command_reads_the_slurm_environment(slurm_node):
    args = _accelerate_view(launch_command(FSDP, OVERRIDES))
    assert args.num_machines == 3
    assert args.machine_rank == 1
    assert args.main_process_ip == "gpu07"  # the first host of the expanded node list
    assert args.main_process_port == 29500
    assert args.num_processes == 24
    assert args.use_fsdp and args.mixed_precision == "bf16"
    assert args.module and args.training_script == "responserank.llm.train"
    assert args.training_script_args == OVERRIDES


def test_gpus_per_node_and_port_can_be_given(slurm_node, monkeypatch):
    monkeypatch.delenv("SLURM_GPUS_ON_NODE")
    args = _accelerate_view(launch_command(FSDP, OVERRIDES, gpus_per_node=4, port=29611))
    assert args.num_processes == 12 and args.main_process_port == 29611


def test_print_shows_the_command(slurm_node, capsys):
    assert main(["--print", str(FSDP), *OVERRIDES]) == 0
    printed = shlex.split(capsys.readouterr().out)
    assert printed == launch_command(FSDP, OVERRIDES)


@pytest.mark.parametrize(
    ("drop", "config", "message"),
    [
        ("SLURM_NODEID", FSDP, "SLURM_NODEID not set"),
        ("SLURM_GPUS_ON_NODE", FSDP, "SLURM_GPUS_ON_NODE=''"),
        (None, REPO / "conf" / "accelerate" / "missing.yaml", "missing.yaml: no such file"),
    ],
)
def test_bad_setup_fails_with_a_message(slurm_node, monkeypatch, capsys, drop, config, message):
    if drop:
        monkeypatch.delenv(drop)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        launch_command(config, OVERRIDES)
    assert main([str(config), *OVERRIDES]) == 2
    assert message in capsys.readouterr().err


def _fake_slurm_commands(bin_dir: Path, log: Path) -> None:
    """srun (a long "training" step that records its pid), scancel and scontrol that log calls."""
    bin_dir.mkdir()
    scripts = {
        "srun": f'echo "srun $*" >> {log}\necho $$ > {bin_dir}/step.pid\nexec sleep 60\n',
        "scancel": f'echo "scancel $*" >> {log}\nkill -TERM "$(cat {bin_dir}/step.pid)"\n',
        "scontrol": f'echo "scontrol $*" >> {log}\n',
    }
    for name, body in scripts.items():
        path = bin_dir / name
        path.write_text("#!/bin/bash\n" + body)
        path.chmod(0o755)


def test_sbatch_script_stops_the_step_and_requeues_on_the_time_limit_signal(tmp_path):
    subprocess.run(["bash", "-n", str(SBATCH)], check=True)
    assert "#SBATCH --signal=B:USR1@300" in SBATCH.read_text()
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    _fake_slurm_commands(bin_dir, log)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "SLURM_JOB_ID": "77"}
    job = subprocess.Popen(["bash", str(SBATCH), str(FSDP), *OVERRIDES], env=env, cwd=REPO)
    deadline = time.monotonic() + 30
    while not (bin_dir / "step.pid").exists():
        assert time.monotonic() < deadline, "the training step never started"
        time.sleep(0.1)
    job.send_signal(signal.SIGUSR1)  # what SLURM sends 300 s before the time limit
    job.wait(timeout=30)
    calls = log.read_text().splitlines()
    assert calls == [
        f"srun --ntasks-per-node=1 --kill-on-bad-exit=1 python -m responserank.llm.multinode "
        f"{FSDP} {' '.join(OVERRIDES)}",
        "scancel --signal=TERM 77.0",
        "scontrol requeue 77",
    ]
