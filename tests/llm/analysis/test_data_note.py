"""Figures drawn from runs on generated data say so: the fixture's dataset card carries the tag,
``collect`` records a note in ``meta.json`` and ``generate`` puts it above every figure."""

from __future__ import annotations

from responserank.llm.analysis.dataset_stats import GENERATED_DATA_TAG, generated_data_note
from responserank.testing.fixtures import write_multipref_fixture


def test_a_generated_fixture_is_recognised_and_other_data_is_not(tmp_path):
    fixture = write_multipref_fixture(tmp_path / "fixture", 20, seed=0)
    note = generated_data_note(fixture)
    assert note == "generated fixture (fixture), not human preferences"
    plain = tmp_path / "human"
    plain.mkdir()
    (plain / "README.md").write_text("---\nconfigs: []\ntags:\n- preferences\n---\n# Real data\n")
    assert generated_data_note(plain) is None
    assert generated_data_note(tmp_path / "no_card") is None
    assert GENERATED_DATA_TAG in (fixture / "README.md").read_text()
