"""Registry validation (errors name file and key) and its update from local run records."""

from __future__ import annotations

import pytest
import yaml
from analysis_helpers import REGISTRY_TEXT

from responserank.errors import InputFileError, RegistryError
from responserank.llm.analysis.registry import FoundGroup, load_registry, update_from_runs
from responserank.plotting import method_style


def _write(tmp_path, text: str):
    path = tmp_path / "registry.yaml"
    path.write_text(text)
    return path


def test_valid_registry_and_its_defaults(tmp_path):
    registry = load_registry(_write(tmp_path, REGISTRY_TEXT))
    assert registry.baseline == "bt" and registry.main == ("bt", "rr_agree")
    assert registry.configs["rr_agree"].group_id == "rr_agree_0000000002"
    assert registry.configs["bt"].style == method_style("bt"), "bt keeps the shared style"
    spread = registry.configs["rr_agree_spread2"].style
    assert (spread.label, spread.marker, spread.linestyle) == ("RR-Agree (2)", "o", "-")
    registry.register_styles()
    assert method_style("llm:rr_agree").label == "RR-Agree"
    minimal = load_registry(_write(tmp_path, "configs:\n  rr_agree: {group_id: g1}\n"))
    assert minimal.main == ("rr_agree",) and minimal.baseline == "bt"


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("- a\n- b\n", "<top level>", "expected a mapping"),
        ("configs: {}\n", "configs", "non-empty mapping"),
        ("configs:\n  bt: {group_id: g}\ncolours: {}\n", "<top level>", "unknown key"),
        ("configs:\n  bt: {label: BT}\n", "configs.bt.group_id", "expected a group id"),
        (
            "configs:\n  x: {group_id: g, colour: red}\n",
            "configs.x",
            r"unknown key\(s\) \['colour'\]",
        ),
        ("configs:\n  x: {group_id: g, color: reddish}\n", "configs.x.color", "matplotlib colour"),
        ("configs:\n  x: {group_id: g, marker: star}\n", "configs.x.marker", "matplotlib marker"),
        (
            "configs:\n  x: {group_id: g, linestyle: wavy}\n",
            "configs.x.linestyle",
            "expected one of",
        ),
        (
            "experiments:\n  bt: {display_name: BT}\n",
            "experiments.bt.egid",
            "missing",
        ),
        (
            "experiments:\n  bt: {egid: g, colour: red}\n",
            "experiments.bt",
            "unknown key",
        ),
        (
            "configs:\n  x: {group_id: g}\n  y: {group_id: g}\n",
            "configs.y.group_id",
            "also the group of 'x'",
        ),
        ("configs:\n  x: {group_id: g}\nmain: [x, z]\n", r"main\[1\]", "'z' is not in configs"),
        ("configs:\n  x: {group_id: g}\nbaseline: z\n", "baseline", "not in configs"),
        (
            "configs:\n  x: {group_id: g}\nstudies:\n  s: {members: [x]}\n",
            "studies.s.members",
            "at least two",
        ),
        (
            "configs:\n  x: {group_id: g}\nstudies:\n  s: {members: [x, y]}\n",
            r"studies.s.members\[1\]",
            "'y' is not in configs",
        ),
    ],
)
def test_errors_name_the_file_and_the_key(tmp_path, text, key, message):
    path = _write(tmp_path, text)
    with pytest.raises(RegistryError, match=rf"{path}: {key}: .*{message}"):
        load_registry(path)


def test_unreadable_or_absent_registry(tmp_path):
    with pytest.raises(InputFileError, match=r"registry\.yaml: not valid YAML at line 2, column 1"):
        load_registry(_write(tmp_path, "configs: [unclosed\n"))
    with pytest.raises(RegistryError, match="registry not found; create it with"):
        load_registry(tmp_path / "absent.yaml")


def test_update_from_runs_keeps_styles_and_picks_the_latest_group(tmp_path):
    path = _write(tmp_path, REGISTRY_TEXT)
    groups = [
        FoundGroup("rr_agree", "rr_agree_old", 6, "2026-01-01T00:00:00+00:00"),
        FoundGroup("rr_agree", "rr_agree_new", 2, "2026-02-01T00:00:00+00:00"),
        FoundGroup("rr_stated", "rr_stated_abc", 3, "2026-01-05T00:00:00+00:00"),
    ]
    text, notes = update_from_runs(path, groups)
    assert path.read_text() == text
    raw = yaml.safe_load(text)
    assert raw["configs"]["rr_agree"] == {
        "group_id": "rr_agree_new",
        "label": "RR-Agree",
        "color": "#D55E00",
        "marker": "s",
    }
    assert raw["configs"]["rr_stated"] == {"group_id": "rr_stated_abc", "label": "rr stated"}
    assert raw["configs"]["bt"] == {"group_id": "bt_0000000001"}, "entries not found are kept"
    assert raw["main"] == ["bt", "rr_agree"]
    assert any("rr_agree: 2 groups; using rr_agree_new" in n and "rr_agree_old" in n for n in notes)
    assert "rr_agree: group rr_agree_0000000002 -> rr_agree_new" in notes
    assert "rr_stated: added with group rr_stated_abc (3 runs)" in notes
    load_registry(path)

    fresh = tmp_path / "new" / "registry.yaml"
    text, _ = update_from_runs(fresh, groups[2:], dry_run=True)
    assert not fresh.exists()
    assert yaml.safe_load(text)["configs"] == {
        "rr_stated": {"group_id": "rr_stated_abc", "label": "rr stated"}
    }


PUBLISHED_TEXT = """\
experiments:
  bt:
    egid: bt-v1.0-59a54a7b
    display_name: BT (baseline)
    color: '#E74C3C'
    marker: ^
    linestyle: --
  rr_agree:
    egid: rtrank_agreement-v1.1-98289fcd
    display_name: RR-Agree (ours)
    color: '#8D6E63'
    marker: p
    linestyle: '-'
"""


def test_published_registry_format_reads_as_configs(tmp_path):
    registry = load_registry(_write(tmp_path, PUBLISHED_TEXT))
    assert list(registry.configs) == ["bt", "rr_agree"]
    assert registry.configs["rr_agree"].group_id == "rtrank_agreement-v1.1-98289fcd"
    assert registry.baseline == "bt" and registry.main == ("bt", "rr_agree")
    bt = registry.configs["bt"].style
    assert (bt.label, bt.color, bt.marker, bt.linestyle) == ("BT (baseline)", "#E74C3C", "^", "--")


@pytest.mark.parametrize(
    ("key", "value", "default"),
    [
        ("linestyle", "':-'", "-"),
        ("marker", "star", "o"),
        ("color", "reddish", None),
    ],
)
def test_unusable_published_style_warns_and_takes_the_default(tmp_path, key, value, default):
    """The published registry is read as it is: a style matplotlib rejects is a warning naming
    the file, the configuration and the value, and that configuration gets the default."""
    text = PUBLISHED_TEXT + f"  rr_odd:\n    egid: odd-v1\n    {key}: {value}\n"
    path = _write(tmp_path, text)
    registry = load_registry(path)
    assert list(registry.configs) == ["bt", "rr_agree", "rr_odd"]
    assert len(registry.warnings) == 1
    warning = registry.warnings[0]
    assert warning.startswith(f"{path}: experiments.rr_odd.{key}: expected ")
    assert f"configuration 'rr_odd' is drawn with the default {key}" in warning
    fallback = load_registry(_write(tmp_path, PUBLISHED_TEXT + "  rr_odd:\n    egid: odd-v1\n"))
    odd = registry.configs["rr_odd"].style
    assert odd == fallback.configs["rr_odd"].style
    if default is not None:
        assert getattr(odd, key) == default
    assert registry.configs["bt"].style.linestyle == "--", "the other configurations keep theirs"


def test_unusable_style_in_this_projects_format_is_still_an_error(tmp_path):
    with pytest.raises(RegistryError, match=r"configs\.x\.linestyle: expected one of"):
        load_registry(_write(tmp_path, "configs:\n  x: {group_id: g, linestyle: ':-'}\n"))


def test_a_registry_restyles_bt_in_its_own_figures_only(tmp_path):
    shared = method_style("bt")
    registry = load_registry(_write(tmp_path, PUBLISHED_TEXT))
    registry.register_styles()
    assert method_style("llm:bt").label == "BT (baseline)"
    assert method_style("llm:bt").color == "#E74C3C"
    assert method_style("bt") == shared, "the shared style of other figures is unchanged"


def test_update_rewrites_a_published_registry_in_this_format(tmp_path):
    path = _write(tmp_path, PUBLISHED_TEXT)
    found = [FoundGroup("rr_agree", "rr_agree_0123456789", 3, "2025-01-02T00:00:00")]
    text, notes = update_from_runs(path, found)
    raw = yaml.safe_load(text)
    assert "experiments" not in raw
    assert raw["configs"]["rr_agree"] == {
        "group_id": "rr_agree_0123456789",
        "label": "RR-Agree (ours)",
        "color": "#8D6E63",
        "marker": "p",
        "linestyle": "-",
    }
    assert raw["configs"]["bt"]["group_id"] == "bt-v1.0-59a54a7b"
    assert notes == ["rr_agree: group rtrank_agreement-v1.1-98289fcd -> rr_agree_0123456789"]
    assert load_registry(path).configs["bt"].style.label == "BT (baseline)"
