"""The accelerate configuration files in conf/accelerate/, read by accelerate's own launch code.

No GPU is available to these tests, and accelerate runs FSDP and DeepSpeed only on accelerators (on
a CPU-only machine it selects plain multi-CPU data parallelism and ignores the FSDP settings), so
each file is validated here: ``accelerate launch --config_file`` parses it, the environment it
exports selects the intended engine and settings, accelerate's plugin accepts them, and the
docs' command for it (docs/scaling.md) composes with Hydra. The two-process gradient test
(test_gradient_normalisation.py) covers data-parallel equivalence on CPU.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from unittest import mock

import pytest
from accelerate.commands.launch import _validate_launch_command, launch_command_parser
from accelerate.utils import DeepSpeedPlugin, FullyShardedDataParallelPlugin
from accelerate.utils.launch import prepare_deepspeed_cmd_env, prepare_multi_gpu_env
from train_helpers import compose_config, tiny_model_config

from responserank.llm.config import model_spec
from responserank.llm.modeling.models import build_reward_model, load_tokenizer

REPO = Path(__file__).resolve().parents[3]
CONFIGS = REPO / "conf" / "accelerate"
ENGINES = {
    "ddp": "multi_gpu",
    "fsdp": "use_fsdp",
    "deepspeed_zero2": "use_deepspeed",
    "deepspeed_zero3": "use_deepspeed",
}


def launch_args(name: str, *extra: str):
    """Arguments and config defaults exactly as ``accelerate launch`` derives them."""
    argv = ["--config_file", str(CONFIGS / f"{name}.yaml"), *extra]
    argv += ["-m", "responserank.llm.train", "experiment=rr_agree"]
    args, defaults, _ = _validate_launch_command(launch_command_parser().parse_args(argv))
    return args, defaults


def launch_environment(name: str) -> dict[str, str]:
    args, defaults = launch_args(name)
    if args.use_deepspeed:  # as accelerate's launch_command does before its DeepSpeed launcher
        args.deepspeed_fields_from_accelerate_config = ",".join(defaults.deepspeed_config)
        return prepare_deepspeed_cmd_env(args)[1]
    return prepare_multi_gpu_env(args)


def test_every_shipped_config_is_covered():
    assert sorted(p.stem for p in CONFIGS.glob("*.yaml")) == sorted(ENGINES)


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_config_selects_its_engine_for_the_training_module(name):
    args, _ = launch_args(name)
    for flag in set(ENGINES.values()):
        assert bool(getattr(args, flag)) is (flag == ENGINES[name]), flag
    assert args.module and args.training_script == "responserank.llm.train"
    assert args.mixed_precision == "bf16"
    assert args.num_machines == 1 and not args.cpu
    # --num_processes on the command line wins over the file (e.g. 4 of 8 GPUs)
    assert launch_args(name, "--num_processes", "4")[0].num_processes == 4


def test_fsdp_is_fsdp2_full_shard_with_the_llama_decoder_layer_and_activation_checkpointing():
    env = launch_environment("fsdp")
    assert env["ACCELERATE_USE_FSDP"] == "true"
    with mock.patch.dict(os.environ, env):
        plugin = FullyShardedDataParallelPlugin()
    assert plugin.fsdp_version == 2
    assert plugin.reshard_after_forward is True  # FULL_SHARD
    assert plugin.transformer_cls_names_to_wrap == ["LlamaDecoderLayer"]
    assert plugin.activation_checkpointing is True
    assert "FULL_STATE_DICT" in str(plugin.state_dict_type)
    assert env["ACCELERATE_MIXED_PRECISION"] == "bf16"
    # The class to wrap exists in the Llama reward models this project builds.
    model_cfg = tiny_model_config()
    model = build_reward_model(model_spec(model_cfg), load_tokenizer(model_spec(model_cfg)))
    wrapped = [m for m in model.modules() if type(m).__name__ == "LlamaDecoderLayer"]
    assert len(wrapped) == model.config.num_hidden_layers


@pytest.mark.parametrize(("name", "stage"), [("deepspeed_zero2", 2), ("deepspeed_zero3", 3)])
def test_deepspeed_config_has_its_zero_stage_and_takes_batching_from_the_run(name, stage):
    env = launch_environment(name)
    assert env["ACCELERATE_USE_DEEPSPEED"] == "true"
    with mock.patch.dict(os.environ, env):
        plugin = DeepSpeedPlugin()
    ds = plugin.deepspeed_config
    assert ds["zero_optimization"]["stage"] == stage
    # Batch size, accumulation and clipping are "auto": filled from training.* by transformers.
    for key in (
        "train_micro_batch_size_per_gpu",
        "gradient_accumulation_steps",
        "gradient_clipping",
    ):
        assert ds[key] == "auto", key
    assert ds["zero_optimization"]["offload_param"]["device"] == "none"
    if stage == 3:  # the full model is gathered for model/ at the end of the run
        assert ds["zero_optimization"]["stage3_gather_16bit_weights_on_model_save"] is True


def _readme_commands() -> dict[str, str]:
    text = (REPO / "docs" / "scaling.md").read_text()  # the scaling-out page of the docs site
    commands = {}
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for command in block.replace("\\\n", " ").splitlines():
            found = re.search(
                r"accelerate launch --config_file conf/accelerate/(\w+)\.yaml", command
            )
            if found:
                commands[found.group(1)] = command.split("#")[0]
    return commands


def test_readme_has_a_composable_command_per_config():
    commands = _readme_commands()
    assert sorted(commands) == sorted(ENGINES)
    for name, command in commands.items():
        words = shlex.split(command)
        assert words[words.index("-m") + 1] == "responserank.llm.train", name
        overrides = [w for w in words[words.index("-m") + 2 :] if "=" in w]
        cfg = compose_config(overrides)
        if name == "fsdp":  # FSDP's activation checkpointing replaces the model's own
            assert cfg.model.gradient_checkpointing is False
        assert cfg.model.name_or_path, name


def test_no_deepspeed_in_the_base_dependencies():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert not any(dep.startswith("deepspeed") for dep in project["dependencies"])
    assert any(dep.startswith("deepspeed") for dep in project["optional-dependencies"]["deepspeed"])
