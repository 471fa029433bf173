"""Rows that train but deserve a look are counted in the data statistics (``checks``), warned
about, and printed by a dry run: NUL bytes, a prompt repeated in a response, held-out pairs that
also occur in training (LIE folds with overlapping ids), conversational responses spoken by
``user``. LIE folds with a repeated id are refused naming the file and the field."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from rapl_fixtures import write_lie_folder

from responserank.atomic_io import write_text_atomic
from responserank.errors import DataValidationError
from responserank.llm.data.degenerate import MIN_REPEATED_PROMPT_CHARS, text_checks
from responserank.llm.data.sources import lie
from responserank.llm.data.sources.hf_preference import HfPreferenceSource
from responserank.llm.train import run

CONF = Path(__file__).resolve().parents[3] / "conf" / "llm"
ZERO = {
    "nul_bytes": 0,
    "prompt_in_chosen": 0,
    "prompt_in_rejected": 0,
    "eval_pairs_in_train": 0,
}


def _table(rows):
    return pd.DataFrame(rows, columns=["prompt", "chosen", "rejected"])


def test_clean_tables_count_nothing():
    train = _table([("what is two plus two", "four", "five"), ("", "a", "b")])
    assert text_checks(train, train.iloc[:0]) == ZERO


def test_each_kind_is_counted_once_per_row():
    prompt = "what is two plus two"
    train = _table(
        [
            (prompt, "four", "five"),
            ("a long enough question", "a\x00b", "c"),  # NUL byte in a response
            (prompt, f"{prompt}\n\nfour", "five"),  # the chosen text repeats the prompt
            ("hi", "hi there", "hello"),  # a short prompt is not looked for
        ]
    )
    held_out = _table(
        [
            (prompt, "five", "four"),  # a training pair, sides swapped
            ("other question\x00", "x", "y"),
            ("other question", "x", f"other question {'!' * MIN_REPEATED_PROMPT_CHARS}"),
        ]
    )
    assert text_checks(train, held_out) == {
        "nul_bytes": 2,
        "prompt_in_chosen": 1,
        "prompt_in_rejected": 1,
        "eval_pairs_in_train": 1,
    }


def test_lie_folds_with_overlapping_ids_are_counted(tmp_path, tokenizer):
    write_lie_folder(tmp_path, folds=2, rows_per_fold=5)
    train_file = tmp_path / "folds" / "LIE_train_0.csv"
    val = pd.read_csv(tmp_path / "folds" / "LIE_val_0.csv")
    pd.concat([pd.read_csv(train_file), val.iloc[:2]]).to_csv(train_file, index=False)
    tables = lie.LieSource(path=str(tmp_path), fold=0).load(tokenizer, 512, 0)
    assert text_checks(tables.train, tables.eval)["eval_pairs_in_train"] == 2


def test_lie_fold_with_a_repeated_id_names_the_file_and_field(tmp_path):
    write_lie_folder(tmp_path, folds=2, rows_per_fold=4)
    file = tmp_path / "folds" / "LIE_train_1.csv"
    frame = pd.read_csv(file)
    frame.loc[3, "IDs"] = frame.loc[1, "IDs"]
    frame.to_csv(file, index=False)
    with pytest.raises(DataValidationError) as raised:
        lie.load_lie_split(tmp_path, 1, "train")
    assert str(raised.value) == (
        f"{file}: data row 3 (0-based), field 'IDs': expected each value once (data row 1 has it "
        f"too), got {int(frame.loc[1, 'IDs'])}"
    )


def test_conversational_responses_spoken_by_user_are_counted(tmp_path, tokenizer):
    tokenizer = tokenizer.__class__.from_pretrained(tokenizer.name_or_path)
    tokenizer.chat_template = (
        "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    )
    rows = [
        {
            "prompt": [{"role": "user", "content": f"question {i}"}],
            "chosen": [{"role": "user" if i < 2 else "assistant", "content": f"answer {i}"}],
            "rejected": [{"role": "assistant", "content": f"other {i}"}],
        }
        for i in range(5)
    ]
    path = tmp_path / "prefs.jsonl"
    write_text_atomic(path, "".join(json.dumps(r) + "\n" for r in rows))
    tables = HfPreferenceSource(path=str(path)).load(tokenizer, 512, 0)
    assert tables.counts["responses_spoken_by_user"] == 2
    assert "spoken_by_user" not in tables.train.columns


def _dry_run(tmp_path: Path, *overrides: str):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(
            "config",
            overrides=[
                "experiment=bt",
                "dataset=preference_table",
                "model=tiny_llama",
                "dry_run=true",
                "runtime.progress_bar=false",
                "tracking.wandb.mode=disabled",
                f"tracking.output_root={tmp_path / 'runs'}",
                *overrides,
            ],
        )
    return run(cfg)


def test_dry_run_prints_and_records_the_checks(tmp_path, capsys, caplog):
    rows = [(f"question number {i}", f"good answer {i}", f"bad answer {i}") for i in range(12)]
    rows[3] = (rows[3][0], f"{rows[3][0]}: good answer 3", rows[3][2])
    rows[5] = (rows[5][0], "good\x00answer 5", rows[5][2])
    train = tmp_path / "train.jsonl"
    held_out = tmp_path / "eval.jsonl"
    eval_rows = [rows[0], rows[7], ("a new question", "yes", "no")]
    for path, table in ((train, rows), (held_out, eval_rows)):
        keys = ("prompt", "chosen", "rejected")
        write_text_atomic(
            path, "".join(json.dumps(dict(zip(keys, r, strict=True))) + "\n" for r in table)
        )
    with caplog.at_level(logging.WARNING):
        outcome = _dry_run(tmp_path, f"dataset.path={train}", f"dataset.eval_path={held_out}")
    assert outcome.status == "finished"
    printed = capsys.readouterr().out
    assert (
        "\nchecks:\n  nul_bytes: 1\n  prompt_in_chosen: 1\n  prompt_in_rejected: 0\n"
        "  eval_pairs_in_train: 2\n"
    ) in printed
    assert "2 held-out comparison(s) also occur in the training data" in caplog.text
    assert "1 comparison(s) hold a NUL byte" in caplog.text
    stats = json.loads((outcome.run_dir / "dry_run" / "data_stats.json").read_text())
    assert stats["checks"] == {
        "nul_bytes": 1,
        "prompt_in_chosen": 1,
        "prompt_in_rejected": 0,
        "eval_pairs_in_train": 2,
    }
