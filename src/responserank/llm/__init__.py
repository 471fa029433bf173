"""LLM reward models trained on preference data with strength and reliability signals."""

import logging


class _DropOptionalKernelNotice(logging.Filter):
    """Drop bitsandbytes' import-time notice that its optional CPU 4-bit kernel (from the
    ``kernels`` package, not a dependency here) is absent: CPU runs never use 4-bit weights and
    QLoRA runs on CUDA, so the line is noise at the top of every LLM command."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Failed to load CPU gemm_4bit_forward")


# Installed before anything imports bitsandbytes (transformers and peft do, when it is installed).
logging.getLogger("bitsandbytes.backends.cpu.ops").addFilter(_DropOptionalKernelNotice())
