"""Bar-chart studies and paired comparisons, from the registry and from preset names.

Preset names follow ``<base>_<knob><value>`` (``rr_agree_spread2``, ``rr_agree_filter25``,
``bt_lr1em5``; in a value ``p`` stands for the decimal point and ``em`` for ``e-``: ``0p5`` is 0.5,
``1em5`` is 1e-5). A registered configuration whose name extends another registered one that way joins
a study of that base and knob; the sensitivity knobs (learning rate, accumulation, clipping, epochs,
warmup, weight decay) of one base form one study together. Studies written in the registry come
first and win over a derived study of the same name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from responserank.llm.analysis.registry import Registry, Study

SENSITIVITY_KNOBS = frozenset(
    {"lr", "acc", "gradacc", "clip", "gradclip", "ep", "warmup", "wd", "weightdecay"}
)
KNOB_TITLES = {
    "spread": "partition size",
    "partialshuffle": "rank noise (partial shuffle)",
    "filter": "rank removal",
    "slight": "slight-preference weight",
    "randsize": "random partition size",
    "annolength": "annotator x length strata",
}
_NUMBER = re.compile(r"\d+(?:[.p]\d+)?(?:e(?:-|m)?\d+)?")


def _value(remainder: str) -> float:
    match = _NUMBER.search(remainder)
    if match is None:
        return float("inf")
    return float(match.group().replace("p", ".").replace("em", "e-"))


def _base_and_knob(name: str, names: Iterable[str]) -> tuple[str, str, str] | None:
    """(base, knob, remainder) for the longest other name that ``name`` extends, if any."""
    bases = [b for b in names if b != name and name.startswith(b + "_")]
    if not bases:
        return None
    base = max(bases, key=len)
    remainder = name[len(base) + 1 :]
    return base, _NUMBER.sub("", remainder).strip("_") or remainder, remainder


def derive_studies(registry: Registry) -> dict[str, Study]:
    """Studies found in the registered names (see the module docstring)."""
    names = list(registry.configs)
    grouped: dict[tuple[str, str], list[tuple[float, str]]] = {}
    for name in names:
        found = _base_and_knob(name, names)
        if found is None:
            continue
        base, knob, remainder = found
        key = (base, "sensitivity" if knob in SENSITIVITY_KNOBS else knob)
        grouped.setdefault(key, []).append((_value(remainder), name))
    studies = {}
    for (base, knob), members in sorted(grouped.items()):
        label = registry.configs[base].style.label
        title = f"{label}: {KNOB_TITLES.get(knob, knob.replace('_', ' '))}"
        ordered = tuple(name for _, name in sorted(members))
        study_id = f"{base}_{knob}"
        studies[study_id] = Study(name=study_id, title=title, base=base, members=ordered)
    return studies


def all_studies(registry: Registry) -> dict[str, Study]:
    """The registry's own studies, then the derived ones it does not name."""
    derived = derive_studies(registry)
    return {**registry.studies, **{k: v for k, v in derived.items() if k not in registry.studies}}


def comparison_pairs(registry: Registry, studies: Sequence[Study]) -> list[tuple[str, str]]:
    """(baseline, other) pairs to test: every main curve against the baseline, then every study
    member against its study's base; each pair once."""
    pairs = [(registry.baseline, name) for name in registry.main if name != registry.baseline]
    for study in studies:
        pairs += [(study.base, member) for member in study.all_members if member != study.base]
    return list(dict.fromkeys(pairs))
