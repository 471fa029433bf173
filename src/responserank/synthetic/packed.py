"""The training comparisons of many ensemble members in one padded tensor layout."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

DTYPE = torch.float32


@dataclass(frozen=True)
class PackedComparisons:
    """The training comparisons of E members, padded to a common length ``max_len``.

        ``x`` holds option 1 in rows [0, max_len) and option 2 in rows [max_len, 2 max_len) of each
        member. The flat tensors (one entry per real comparison, member-major) carry what the losses
        need; ``index`` locates each comparison in the flattened (E, max_len) margin matrix (None when
    no member is padded: then that matrix is already the flat margins).
    """

    x: torch.Tensor
    max_len: int
    index: torch.Tensor | None
    member: torch.Tensor
    choice: torch.Tensor
    rt: torch.Tensor
    stratum: torch.Tensor
    counts: torch.Tensor
    proxy: torch.Tensor | None = None

    @property
    def num_members(self) -> int:
        return self.x.shape[0]

    @property
    def dtype(self) -> torch.dtype:
        return self.x.dtype

    def margins(self, utilities: torch.Tensor) -> torch.Tensor:
        """f(x1) - f(x2) per real comparison, from member utilities (E, 2 max_len)."""
        diff = (utilities[:, : self.max_len] - utilities[:, self.max_len :]).reshape(-1)
        return diff if self.index is None else diff.index_select(0, self.index)


def pack_comparisons(
    members: Sequence[Mapping[str, np.ndarray]], dtype: torch.dtype = DTYPE
) -> PackedComparisons:
    """Pack each member's comparisons (keys x1, x2, choice, rt, stratum; proxy when every
    member has one) for the ensemble."""
    if not members:
        raise ValueError("cannot pack an empty ensemble")
    counts = [int(m["choice"].shape[0]) for m in members]
    if min(counts) < 1:
        raise ValueError("every member needs at least one training comparison")
    max_len = max(counts)
    dim = members[0]["x1"].shape[1]
    x = torch.zeros(len(members), 2 * max_len, dim, dtype=dtype)
    for e, m in enumerate(members):
        n = counts[e]
        x[e, :n] = torch.as_tensor(m["x1"], dtype=dtype)
        x[e, max_len : max_len + n] = torch.as_tensor(m["x2"], dtype=dtype)
    member = torch.repeat_interleave(torch.arange(len(members)), torch.tensor(counts))
    position = torch.cat([torch.arange(n) for n in counts])
    return PackedComparisons(
        x=x,
        max_len=max_len,
        index=None if min(counts) == max_len else member * max_len + position,
        member=member,
        choice=torch.as_tensor(np.concatenate([m["choice"] for m in members]), dtype=torch.bool),
        rt=torch.as_tensor(np.concatenate([m["rt"] for m in members]), dtype=dtype),
        stratum=torch.as_tensor(np.concatenate([m["stratum"] for m in members]), dtype=torch.int64),
        counts=torch.tensor(counts),
        proxy=(
            torch.as_tensor(np.concatenate([m["proxy"] for m in members]), dtype=dtype)
            if all("proxy" in m for m in members)
            else None
        ),
    )
