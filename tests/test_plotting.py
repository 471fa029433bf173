"""The shared figure style: method registry, atomic PDF+PNG output, usetex guard."""

from __future__ import annotations

import shutil

import matplotlib.pyplot as plt
import numpy as np
import pytest

from responserank import plotting


def test_registry_keeps_one_look_per_method():
    assert plotting.method_label("bt") == "BT"
    plotting.register_method("bt", "BT", plotting.method_style("bt").color, marker="o")
    with pytest.raises(ValueError, match="already registered"):
        plotting.register_method("bt", "Bradley-Terry", "#000000")
    assert "rr" in plotting.registered_methods()


def test_unregistered_method_gets_a_stable_fallback():
    first = plotting.method_style("some_new_learner")
    assert first == plotting.method_style("some_new_learner")
    assert first.label == "some new learner"
    assert "some_new_learner" not in plotting.registered_methods()


def test_plot_mean_band_draws_the_means(tmp_path):
    samples = [np.array([0.1, 0.3]), np.array([0.5, 0.7, 0.9])]
    with plotting.style_context():
        fig, ax = plt.subplots()
        line = plotting.plot_mean_band(ax, [0.5, 1.0], samples, method="rr")
    np.testing.assert_allclose(line.get_ydata(), [0.2, 0.7])
    assert line.get_label() == "RR"
    assert line.get_color() == plotting.method_style("rr").color
    plt.close(fig)


def test_save_figure_writes_pdf_and_png_reproducibly(tmp_path):
    with plotting.style_context():
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1])
        ax.set_xlabel(r"$\tau_b$")
        first = plotting.save_figure(fig, tmp_path / "a", close=False)
        second = plotting.save_figure(fig, tmp_path / "b")
    assert [p.name for p in first] == ["a.pdf", "a.png"]
    assert first[0].read_bytes().startswith(b"%PDF")
    assert first[1].read_bytes().startswith(b"\x89PNG")
    assert first[0].read_bytes() == second[0].read_bytes()
    assert not list(tmp_path.glob(".*tmp"))


@pytest.mark.skipif(shutil.which("latex") is not None, reason="LaTeX is installed here")
def test_usetex_without_latex_fails_early():
    with (
        pytest.raises(RuntimeError, match="usetex needs a LaTeX installation"),
        plotting.style_context(usetex=True),
    ):
        pass


def test_style_context_restores_rcparams():
    before = plt.rcParams["font.size"]
    with plotting.style_context(**{"font.size": 21}):
        assert plt.rcParams["font.size"] == 21
    assert plt.rcParams["font.size"] == before


def test_shared_legend_lists_each_label_once():
    with plotting.style_context():
        fig, axes = plt.subplots(1, 2, layout="constrained")
        for ax in axes:
            plotting.plot_mean_band(ax, [0, 1], [[0.1, 0.2], [0.3, 0.4]], method="bt")
        (extra,) = axes[0].plot([], [], linestyle="--")
        legend = plotting.shared_legend(fig, axes, [(extra, "reference")])
    assert [text.get_text() for text in legend.get_texts()] == ["BT", "reference"]
    plt.close(fig)


def _band_vertices(ax) -> np.ndarray:
    """The y values of every shaded band of ``ax`` (empty when none is drawn)."""
    paths = [path for collection in ax.collections for path in collection.get_paths()]
    return np.concatenate([path.vertices[:, 1] for path in paths]) if paths else np.array([])


def test_a_band_needs_three_values_and_stays_inside_the_bounds():
    two = [np.array([0.55, 0.95]), np.array([0.6, 0.99])]  # t with 1 df: a band from -2 to 3
    three = [np.array([0.55, 0.95, 0.97]), np.array([0.6, 0.99, 0.98])]
    with plotting.style_context():
        fig, (narrow, wide) = plt.subplots(1, 2)
        plotting.plot_mean_band(narrow, [0.5, 1.0], two, method="bt", bounds=(0.0, 1.0))
        plotting.plot_mean_band(wide, [0.5, 1.0], three, method="bt", bounds=(0.0, 1.0))
        plotting.clamp_ylim(wide, (0.0, 1.0))
    assert _band_vertices(narrow).size == 0
    band = _band_vertices(wide)
    assert band.size and band.min() >= 0.0 and band.max() <= 1.0
    low, high = wide.get_ylim()
    assert low >= -0.02 and high <= 1.02
    assert plotting.fewest_samples([*two, np.array([np.nan, 1.0, 2.0])]) == 2
    assert plotting.no_band_entry(2, "trials")[1] == (
        "no 95% band: 2 trials per point (a band needs 3)"
    )
    plt.close(fig)


def test_integer_ticks_and_data_caption():
    with plotting.style_context():
        fig, ax = plt.subplots()
        ax.bar([0, 1], [1, 2])
        plotting.integer_ticks(ax.yaxis)
        caption = plotting.data_caption(fig, "Data: generated fixture, not human preferences")
        fig.canvas.draw()
    ticks = ax.get_yticks()
    assert np.allclose(ticks, np.round(ticks))
    assert caption.get_text().startswith("Data: generated fixture")
    plt.close(fig)
