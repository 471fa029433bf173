"""Summary and Markdown of ``bench_batch_layouts.py``: per system the median and range of
comparisons/s, the median over rounds of each round's ratio to TRL, tokens computed per
comparison and peak memory against the padded layout, and a table against the targets."""

from __future__ import annotations

import statistics

SYSTEMS = ("trl", "padded", "padding_free", "prefix_shared")
DATASETS = ("multipref", "long_prompt")
MODELS = ("tiny", "proj")


def data_profile(pairs) -> dict[str, float]:
    """Mean tokens of the shared prefix and of the two sides' rests (token-level prefix)."""
    from responserank.llm.data.batching.layouts import shared_prefix_length

    shared, rests = [], []
    for c, r in zip(pairs.chosen_ids, pairs.rejected_ids, strict=True):
        p = shared_prefix_length(c, r)
        shared.append(p)
        rests += [len(c) - p, len(r) - p]
    return {
        "mean_shared_prefix_tokens": statistics.mean(shared),
        "mean_response_tokens": statistics.mean(rests),
        "prefix_to_response_ratio": statistics.mean(shared) / statistics.mean(rests),
        "mean_sequence_tokens": statistics.mean(
            [len(x) for x in pairs.chosen_ids + pairs.rejected_ids]
        ),
    }


def _ratio_summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def summarise(rows: list[dict], systems: list[str], memory_rows: dict) -> dict:
    """Per system: median and range of comparisons/s, the median over rounds of the same
    round's ratio to TRL, tokens per comparison and its ratio to padded, peak memory."""
    rounds = sorted({r["round"] for r in rows})
    by = {(r["round"], r["system"]): r for r in rows}
    out = {}
    for system in systems:
        mine = [by[(i, system)] for i in rounds]
        entry = {
            "comparisons_per_s": _ratio_summary([r["comparisons_per_s"] for r in mine]),
            "tokens_per_comparison": mine[0]["tokens_per_comparison"],
            **memory_rows.get(system, {}),
        }
        if "trl" in systems:
            entry["ratio_to_trl"] = _ratio_summary(
                [
                    by[(i, system)]["comparisons_per_s"] / by[(i, "trl")]["comparisons_per_s"]
                    for i in rounds
                ]
            )
        if "padded" in systems:
            padded = by[(rounds[0], "padded")]
            entry["tokens_ratio_to_padded"] = (
                entry["tokens_per_comparison"] / padded["tokens_per_comparison"]
            )
            if "padded" in memory_rows and system in memory_rows:
                entry["training_rss_ratio_to_padded"] = (
                    memory_rows[system]["training_rss_mib"]
                    / memory_rows["padded"]["training_rss_mib"]
                )
                entry["peak_rss_ratio_to_padded"] = (
                    memory_rows[system]["peak_rss_mib"] / memory_rows["padded"]["peak_rss_mib"]
                )
        out[system] = entry
    return out


def _in_order(entries: dict) -> list[tuple[str, dict]]:
    """``(key, value)`` pairs in the order of MODELS, DATASETS and SYSTEMS (a saved record's
    keys may come back sorted)."""
    rank = {name: i for i, name in enumerate((*MODELS, *DATASETS, *SYSTEMS))}
    return sorted(entries.items(), key=lambda kv: [rank.get(p, 99) for p in kv[0].split(" / ")])


def markdown(record: dict) -> str:
    lines = [
        "# Batch layouts vs trl.RewardTrainer (loss=bt, CPU)",
        "",
        f"`{record['command']}`",
        "",
        f"Machine: {record['platform']}, {record['cpu_count']} cores shared with other jobs, "
        f"torch threads {record['torch_threads']}, load average "
        f"{record['load_average_before']:.1f} before / {record['load_average_after']:.1f} after. "
        f"Batch {record['batch_size']} comparisons, one micro-batch per step, "
        f"{record['warmup']} warm-up + {record['steps']['tiny']} (tiny) or "
        f"{record['steps']['proj']} (proj) timed steps per trial, "
        f"{record['rounds']} interleaved rounds; memory: one more run per system in a fresh "
        "process.",
        "",
    ]
    for key, block in _in_order(record["results"]):
        profile = block["profile"]
        lines += [
            f"## {key}",
            "",
            f"Mean tokens per sequence {profile['mean_sequence_tokens']:.0f}, shared prefix "
            f"{profile['mean_shared_prefix_tokens']:.0f}, response rest "
            f"{profile['mean_response_tokens']:.0f} (prefix / response "
            f"{profile['prefix_to_response_ratio']:.2f}).",
            "",
            "| system | comparisons/s (median, range) | vs TRL (median of rounds, range) "
            "| tokens computed / comparison | vs padded | peak RSS MiB (training part) "
            "| training part vs padded |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for system, entry in _in_order(block["summary"]):
            cps, ratio = entry["comparisons_per_s"], entry.get("ratio_to_trl")
            ratio_text = (
                f"{ratio['median']:.2f}x ({ratio['min']:.2f}-{ratio['max']:.2f})" if ratio else "-"
            )
            memory_text = (
                f"{entry['peak_rss_mib']:.0f} ({entry['training_rss_mib']:.0f})"
                if "peak_rss_mib" in entry
                else "-"
            )
            mem_ratio = entry.get("training_rss_ratio_to_padded")
            lines.append(
                f"| {system} | {cps['median']:.2f} ({cps['min']:.2f}-{cps['max']:.2f}) | "
                f"{ratio_text} | {entry['tokens_per_comparison']:.0f} | "
                f"{entry.get('tokens_ratio_to_padded', float('nan')):.2f}x | {memory_text} | "
                f"{'-' if mem_ratio is None else f'{mem_ratio:.2f}x'} |"
            )
        lines.append("")
    return "\n".join([*lines, *target_lines(record)])


#: (dataset, best layout's median comparisons/s ratio to TRL at least this) of the issue's targets.
SPEED_TARGETS = {"multipref": 1.3, "long_prompt": 1.6}
TOKENS_TARGET = ("long_prompt", 0.6)  # tokens computed per comparison, at most x padded
MEMORY_TARGET = 1.10  # peak memory, at most x padded


def target_lines(record: dict) -> list[str]:
    """Each (model, dataset): the fastest packed layout (median ratio to TRL) against the
    targets, with its tokens and memory ratios to padded; "met" / "missed" computed here."""
    lines = [
        "## Against the targets",
        "",
        "Fastest layout by median ratio to TRL; memory: peak RSS of the training part against "
        "padded's (the whole process's peak in brackets).",
        "",
        "| model / data | fastest | vs TRL (target) | tokens vs padded | memory vs padded |",
        "|---|---|---:|---:|---:|",
    ]
    for key, block in _in_order(record["results"]):
        dataset = key.split(" / ")[1]
        summary = block["summary"]
        packed = [s for s in ("padding_free", "prefix_shared", "padded") if s in summary]
        if "trl" not in summary or not packed:
            continue
        best = max(packed, key=lambda s: summary[s]["ratio_to_trl"]["median"])
        entry = summary[best]
        ratio, goal = entry["ratio_to_trl"]["median"], SPEED_TARGETS[dataset]
        tokens = entry.get("tokens_ratio_to_padded", float("nan"))
        token_text = f"{tokens:.2f}x"
        if dataset == TOKENS_TARGET[0]:
            met = "met" if tokens <= TOKENS_TARGET[1] else "missed"
            token_text += f" (<= {TOKENS_TARGET[1]}x: {met})"
        memory = entry.get("training_rss_ratio_to_padded")
        if memory is None:
            memory_text = "-"
        else:
            met = "met" if memory <= MEMORY_TARGET else "missed"
            memory_text = (
                f"{memory:.2f}x ({entry['peak_rss_ratio_to_padded']:.2f}x; "
                f"<= {MEMORY_TARGET:.2f}x: {met})"
            )
        lines.append(
            f"| {key} | {best} | {ratio:.2f}x (>= {goal}x: {'met' if ratio >= goal else 'missed'})"
            f" | {token_text} | {memory_text} |"
        )
    return [*lines, ""]
