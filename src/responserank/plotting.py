"""One figure style for every experiment family (synthetic, LLM, RL control).

Every analysis CLI draws inside ``style_context`` and names its learners/methods through the method
registry, so a method has the same colour, marker and display name in every figure of the paper.
Text is rendered with matplotlib's mathtext by default, which needs no LaTeX install; ``usetex=True``
switches to a real LaTeX run for camera-ready output.
"""

from __future__ import annotations

import io
import shutil
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from responserank.atomic_io import write_bytes_atomic
from responserank.stats import MIN_BAND_SAMPLES, summarize

FIGURE_FORMATS: tuple[str, ...] = ("pdf", "png")
PNG_DPI = 200
#: Share of a metric's range left free beyond its bounds, so markers at a bound stay visible.
BOUND_MARGIN = 0.02

_BASE_RC: dict[str, Any] = {
    "font.family": "serif",
    "font.serif": ["STIXGeneral", "DejaVu Serif"],
    "mathtext.fontset": "stix",
    "axes.formatter.use_mathtext": True,
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.5,
    "lines.linewidth": 1.4,
    "lines.markersize": 4,
    "figure.dpi": 100,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.02,
    "pdf.fonttype": 42,
    "text.usetex": False,
}

_USETEX_RC: dict[str, Any] = {
    "text.usetex": True,
    "font.family": "serif",
    "font.serif": ["Computer Modern Roman"],
    "text.latex.preamble": r"\usepackage{amsmath}",
}


@contextmanager
def style_context(usetex: bool = False, **overrides: Any) -> Iterator[None]:
    """Apply the project style (and optional rcParams overrides) for the duration of the block."""
    rc = dict(_BASE_RC)
    if usetex:
        missing = [tool for tool in ("latex", "dvipng") if shutil.which(tool) is None]
        if missing:
            raise RuntimeError(
                f"usetex needs a LaTeX installation, but {', '.join(missing)} is not on PATH; "
                "render without usetex (mathtext) instead"
            )
        rc.update(_USETEX_RC)
    rc.update(overrides)
    with matplotlib.rc_context(rc):
        yield


@dataclass(frozen=True)
class MethodStyle:
    """How one learner/method looks in every figure."""

    label: str
    color: str
    marker: str = "o"
    linestyle: str = "-"


_METHODS: dict[str, MethodStyle] = {}

# Colour-blind safe (Okabe-Ito) for registered methods; unregistered names get a muted fallback.
_FALLBACK_COLORS = ("#8c564b", "#7f7f7f", "#bcbd22", "#17becf", "#9467bd", "#5b4b8a")


def register_method(
    name: str,
    label: str,
    color: str,
    marker: str = "o",
    linestyle: str = "-",
    *,
    overwrite: bool = False,
) -> MethodStyle:
    """Give method ``name`` a display name, colour, marker and line style for all figures.

    Registering the same name twice with a different look is an error unless ``overwrite`` is set,
    so two families cannot silently disagree on how a shared method (e.g. ``bt``) looks.
    """
    style = MethodStyle(label=label, color=color, marker=marker, linestyle=linestyle)
    existing = _METHODS.get(name)
    if existing is not None and existing != style and not overwrite:
        raise ValueError(
            f"method {name!r} is already registered as {existing}; pass overwrite=True"
        )
    _METHODS[name] = style
    return style


def method_style(name: str) -> MethodStyle:
    """The registered style of ``name``; unregistered names get a stable fallback look.

    The fallback label spells underscores as spaces, so it also typesets under usetex.
    """
    style = _METHODS.get(name)
    if style is not None:
        return style
    color = _FALLBACK_COLORS[zlib.crc32(name.encode()) % len(_FALLBACK_COLORS)]
    return MethodStyle(label=name.replace("_", " "), color=color, marker="x", linestyle="-.")


def method_label(name: str) -> str:
    """Display name of a method (the raw name when unregistered)."""
    return method_style(name).label


def registered_methods() -> tuple[str, ...]:
    """Names with a registered style, in registration order."""
    return tuple(_METHODS)


register_method("bt", "BT", "#0072B2", marker="o")
register_method("rr", "RR", "#D55E00", marker="s")


def plot_mean_band(
    ax: Axes,
    x: Sequence[float],
    samples: Sequence[Sequence[float] | np.ndarray],
    *,
    method: str,
    confidence: float = 0.95,
    label: str | None = None,
    bounds: tuple[float, float] | None = None,
    min_samples: int = MIN_BAND_SAMPLES,
) -> Line2D:
    """Plot the mean of ``samples[i]`` at ``x[i]`` with a shaded confidence band in the method's look.

    The band (Student's t interval of the mean) is drawn only between points with at least
    ``min_samples`` finite values, and clipped to ``bounds`` (the metric's range, e.g. (0, 1) for
    an accuracy) when given.
    """
    if len(x) != len(samples):
        raise ValueError(f"x has {len(x)} points but samples has {len(samples)}")
    style = method_style(method)
    summaries = [summarize(s, confidence) for s in samples]
    mean = np.array([s.mean for s in summaries])
    low = np.array([s.ci_low for s in summaries])
    high = np.array([s.ci_high for s in summaries])
    banded = np.array([s.n >= min_samples for s in summaries], dtype=bool)
    if bounds is not None:
        low, high = np.clip(low, *bounds), np.clip(high, *bounds)
    (line,) = ax.plot(
        x,
        mean,
        color=style.color,
        marker=style.marker,
        linestyle=style.linestyle,
        label=style.label if label is None else label,
    )
    if banded.any():
        ax.fill_between(x, low, high, where=banded, color=style.color, alpha=0.18, linewidth=0)
    return line


def fewest_samples(samples: Iterable[Sequence[float] | np.ndarray]) -> int:
    """The smallest number of finite values among ``samples`` (0 for none)."""
    counts = [int(np.isfinite(np.asarray(s, dtype=float)).sum()) for s in samples]
    return min(counts, default=0)


def no_band_entry(samples_per_point: int, unit: str = "values") -> tuple[Artist, str]:
    """A legend entry (no marker) saying why a figure shows means without confidence bands,
    e.g. ``no 95% band: 2 trials per point (a band needs 3)``."""
    label = f"no 95% band: {samples_per_point} {unit} per point (a band needs {MIN_BAND_SAMPLES})"
    return Line2D([], [], linestyle="none"), label


def clamp_ylim(ax: Axes, bounds: tuple[float, float], margin: float = BOUND_MARGIN) -> None:
    """Keep the y axis inside a metric's range (plus a small margin for markers at a bound)."""
    pad = margin * (bounds[1] - bounds[0])
    low, high = ax.get_ylim()
    ax.set_ylim(max(low, bounds[0] - pad), min(high, bounds[1] + pad))


def integer_ticks(axis: Any) -> None:
    """Ticks at whole numbers only (counts such as trials or seeds): ``integer_ticks(ax.yaxis)``."""
    axis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))


def data_caption(fig: Figure, text: str) -> Artist:
    """A line above the panels saying where the data comes from (e.g. a generated fixture)."""
    return fig.suptitle(text, fontsize=7, style="italic")


def reference_line_style(method: str) -> dict[str, Any]:
    """Keyword arguments of the dashed line that marks ``method``'s full-data level in a panel."""
    return {"color": method_style(method).color, "linestyle": (0, (4, 2)), "linewidth": 0.9}


def mark_crossing(ax: Axes, x: float, method: str) -> Line2D:
    """A dotted vertical line where ``method``'s curve reaches a reference level."""
    return ax.axvline(x, color=method_style(method).color, linestyle=":", linewidth=0.9, zorder=1)


def panel_note(ax: Axes, text: str, *, loc: str = "upper left") -> Artist:
    """A small boxed note inside a panel (e.g. where a curve reaches a reference level).

    ``loc`` is ``"upper left"``, ``"upper right"``, ``"lower left"`` or ``"lower right"``.
    """
    vertical, horizontal = loc.split()
    return ax.text(
        0.03 if horizontal == "left" else 0.97,
        0.97 if vertical == "upper" else 0.03,
        text,
        transform=ax.transAxes,
        va="top" if vertical == "upper" else "bottom",
        ha=horizontal,
        fontsize=7,
        bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1.5},
        zorder=5,
    )


def shared_legend(
    fig: Figure,
    axes: Iterable[Axes],
    extra: Sequence[tuple[Artist, str]] = (),
    *,
    max_columns: int = 4,
) -> Legend | None:
    """One legend below all panels (needs a constrained-layout figure), each label once.

    ``extra`` adds entries that no panel labelled, e.g. a reference line drawn in every panel.
    """
    entries: dict[str, Artist] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, handle)
    for handle, label in extra:
        entries.setdefault(label, handle)
    if not entries:
        return None
    return fig.legend(
        list(entries.values()),
        list(entries),
        loc="outside lower center",
        ncol=min(len(entries), max_columns),
    )


def save_figure(
    fig: Figure,
    stem: str | Path,
    formats: Sequence[str] = FIGURE_FORMATS,
    *,
    dpi: int = PNG_DPI,
    close: bool = True,
) -> list[Path]:
    """Write ``fig`` to ``<stem>.<fmt>`` for every format, each file atomically; return the paths.

    The PDF creation date is left out so re-rendering the same data gives the same bytes.
    """
    paths = []
    for fmt in formats:
        buffer = io.BytesIO()
        metadata = {"CreationDate": None} if fmt == "pdf" else None
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata)
        paths.append(write_bytes_atomic(Path(f"{stem}.{fmt}"), buffer.getvalue()))
    if close:
        plt.close(fig)
    return paths
