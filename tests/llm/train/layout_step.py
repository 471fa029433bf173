"""Worker of the two-process batch-layout test: under ``torch.distributed.run`` (gloo, CPU),
``python layout_step.py <layout> <out.pt>`` trains one SGD step (lr 1) of ResponseRank on 16
comparisons, 2 processes x 2 accumulation steps x 4, and saves the step's loss and gradient."""

from __future__ import annotations

import sys

import torch
from layout_helpers import prefixed_pairs, tiny_model, train

#: 16 comparisons whose partitions pack into four micro-batches of 4 without a split.
PARTITION_SIZES = (4, 3, 1, 2, 2, 2, 2)


def step(layout: str, per_device: int, accumulation: int):
    model, tokenizer = tiny_model()
    pairs = prefixed_pairs(PARTITION_SIZES, len(tokenizer), seed=6)
    return train(layout, model, tokenizer, pairs, "responserank", per_device, accumulation, 1)


if __name__ == "__main__":
    layout, path = sys.argv[1:3]
    losses, gradient = step(layout, 4, 2)
    if torch.distributed.get_rank() == 0:
        torch.save({"loss": losses, "gradient": gradient}, path)
