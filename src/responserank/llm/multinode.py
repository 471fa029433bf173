"""Start the training of one node of a multi-node SLURM job: ``accelerate launch`` with the
machine count, this node's rank, the rendezvous host and the process count read from SLURM.

Run once per node (``srun --ntasks-per-node=1``, see ``scripts/slurm/multinode.sbatch``)::

    python -m responserank.llm.multinode conf/accelerate/fsdp.yaml experiment=rr_agree
    python -m responserank.llm.multinode --print conf/accelerate/fsdp.yaml experiment=rr_agree

SLURM variables read (through submitit's SLURM job environment): ``SLURM_JOB_NUM_NODES`` (machines),
``SLURM_NODEID`` (this machine's rank), ``SLURM_JOB_NODELIST`` (its first host is the rendezvous
address), and ``SLURM_GPUS_ON_NODE`` (processes per machine) unless ``--gpus-per-node`` is given.
Everything after the configuration file goes to ``responserank.llm.train`` unchanged.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from submitit.slurm.slurm import SlurmJobEnvironment

from responserank.configs import config_dir
from responserank.errors import ConfigError

DEFAULT_PORT = 29500
TRAIN_MODULE = "responserank.llm.train"


def shipped_accelerate_config(config_file: str | Path) -> Path:
    """``config_file`` as a path; a bare name that is no file names ``conf/accelerate/<name>.yaml``.

    Raises :class:`ConfigError` naming the shipped configurations when neither exists.
    """
    path = Path(config_file)
    if path.is_file():
        return path
    shipped = config_dir("accelerate")
    if path.parent == Path("."):
        candidate = shipped / (path.name if path.suffix else f"{path.name}.yaml")
        if candidate.is_file():
            return candidate
    names = ", ".join(p.stem for p in sorted(shipped.glob("*.yaml")))
    raise ConfigError(f"accelerate configuration {config_file}: no such file (shipped: {names})")


def launch_command(
    config_file: str | Path,
    train_args: Sequence[str],
    gpus_per_node: int | None = None,
    port: int = DEFAULT_PORT,
) -> list[str]:
    """The ``accelerate launch`` argv for this node, from the SLURM variables of this process.

    ``config_file`` is a path, or the name of a shipped configuration (``fsdp``, ``ddp``,
    ``deepspeed_zero2``, ``deepspeed_zero3``: ``conf/accelerate/<name>.yaml``, found in a checkout
    and in an installed wheel alike). Raises :class:`ConfigError` when it does not exist, when the
    SLURM variables are missing (not inside a job) or when the GPU count is unknown.
    """
    config_file = shipped_accelerate_config(config_file)
    missing = [
        k for k in ("SLURM_JOB_ID", "SLURM_JOB_NUM_NODES", "SLURM_NODEID") if k not in os.environ
    ]
    if missing:
        raise ConfigError(f"not inside a SLURM job: {', '.join(missing)} not set")
    if gpus_per_node is None:
        gpus = os.environ.get("SLURM_GPUS_ON_NODE", "")
        if not gpus.isdigit() or int(gpus) < 1:
            raise ConfigError(
                f"SLURM_GPUS_ON_NODE={gpus!r}: expected a GPU count >= 1 "
                "(request GPUs with --gpus-per-node, or pass --gpus-per-node)"
            )
        gpus_per_node = int(gpus)
    slurm = SlurmJobEnvironment()  # submitit's reader of the SLURM variables and node list
    machines = slurm.num_nodes
    return [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        str(config_file),
        "--num_machines",
        str(machines),
        "--machine_rank",
        str(slurm.node),
        "--main_process_ip",
        slurm.hostnames[0],
        "--main_process_port",
        str(port),
        "--num_processes",
        str(machines * gpus_per_node),
        "--rdzv_backend",
        "static",
        "-m",
        TRAIN_MODULE,
        *train_args,
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m responserank.llm.multinode", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "config_file", help="accelerate configuration, e.g. conf/accelerate/fsdp.yaml"
    )
    parser.add_argument("train_args", nargs=argparse.REMAINDER, help="overrides for the training")
    parser.add_argument("--gpus-per-node", type=int, default=None)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="rendezvous port")
    parser.add_argument("--print", action="store_true", help="print the command, do not run it")
    args = parser.parse_args(argv)
    try:
        command = launch_command(args.config_file, args.train_args, args.gpus_per_node, args.port)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.print:
        print(shlex.join(command))
        return 0
    os.execv(command[0], command)
    return 0  # not reached: execv replaces this process


if __name__ == "__main__":
    raise SystemExit(main())
