"""The pack's charts (matplotlib, Agg): readable in black and white and by colour-blind readers.

Each bar series has its own hatching as well as its own colour (Okabe–Ito palette), and every bar carries its
value as a direct label, so no reading depends on colour. Each chart has a title and axis labels; its data table
is printed beside it by the outputs. Counts hidden by the "< 5" rule draw no bar and say "< 5". The coverage map
is a scatter of the zones' centres over their coordinates (no tiles): the marker's size says how many service
places are near, its shape whether thématiques are missing there.
"""

from __future__ import annotations

import io
import textwrap
from typing import Any

from hub.reporting import Table, count_text

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
HATCHES = ("", "///", "...", "xxx", "\\\\\\", "ooo", "---", "+++")
MAX_BARS = 15  # longer tables: the largest rows are drawn, the whole table is beside the chart
SMALL_LABEL = "< 5"
WIDTH_IN, HEIGHT_IN, DPI = 6.4, 3.8, 150


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "font.family": "sans-serif",
            "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial"],
            "font.size": 8,
            "axes.titlesize": 10,
            "axes.titleweight": "bold",
            "hatch.linewidth": 0.6,
            "svg.fonttype": "none",
        }
    )
    return plt


def numeric_columns(table: Table) -> list[int]:
    """Indexes of the columns (after the label) holding only numbers or hidden counts."""
    found = []
    for index in range(1, len(table.columns)):
        values = [row[index] for row in table.rows if index < len(row)]
        if values and all(v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in values):
            found.append(index)
    return found


def drawable(table: Table) -> bool:
    if not table.chart or table.empty or not table.rows:
        return False
    if table.chart == "map":
        return len(table.rows) > 0
    return bool(numeric_columns(table))


def _value_label(value: Any) -> str:
    if value is None:
        return SMALL_LABEL
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}".replace(".", ",")
    return count_text(int(value))


def _wrap(text: str, width: int = 28) -> str:
    return "\n".join(textwrap.wrap(str(text), width)[:2]) or " "


def render(table: Table, fmt: str = "png") -> bytes:
    """The chart of a table, as PNG (documents) or SVG (the dashboard)."""
    plt = _pyplot()
    if table.chart == "map":
        fig = _map(plt, table)
    else:
        fig = _bars(plt, table)
    out = io.BytesIO()
    fig.savefig(out, format=fmt, dpi=DPI, bbox_inches="tight", metadata=_metadata(fmt))
    plt.close(fig)
    return out.getvalue()


def _metadata(fmt: str) -> dict[str, Any]:
    return {"Date": None} if fmt == "svg" else {"Software": None}


def title_of(table: Table) -> str:
    if table.chart != "map" and len(table.rows) > MAX_BARS:
        return f"{table.title} ({MAX_BARS} premières lignes)"
    return table.title


def _bars(plt: Any, table: Table) -> Any:
    columns = numeric_columns(table)
    rows = list(table.rows)
    if len(rows) > MAX_BARS:
        rows = sorted(rows, key=lambda r: -sum((r[i] or 0) for i in columns))[:MAX_BARS]
    labels = [_wrap(row[0]) for row in rows]
    series = len(columns)
    horizontal = table.chart != "columns"
    height = max(HEIGHT_IN, 0.32 * len(rows) * max(1, series * 0.6) + 1.2) if horizontal else HEIGHT_IN
    fig, ax = plt.subplots(figsize=(WIDTH_IN, min(height, 9.0)))
    group = 0.8
    bar = group / series
    positions = list(range(len(rows)))
    peak = max([float(row[i] or 0) for row in rows for i in columns] + [1.0])
    for n, index in enumerate(columns):
        values = [row[index] for row in rows]
        offsets = [p - group / 2 + bar * (n + 0.5) for p in positions]
        drawn = [float(v) if v is not None else 0.0 for v in values]
        style = {
            "color": OKABE_ITO[n % len(OKABE_ITO)],
            "hatch": HATCHES[n % len(HATCHES)],
            "edgecolor": "black",
            "linewidth": 0.6,
            "label": table.columns[index],
        }
        bars = (ax.barh if horizontal else ax.bar)(offsets, drawn, bar, **style)
        for rect, value in zip(bars, values, strict=True):
            text = _value_label(value)
            if horizontal:
                ax.text(
                    rect.get_width() + peak * 0.01,
                    rect.get_y() + rect.get_height() / 2,
                    text,
                    va="center",
                    ha="left",
                    fontsize=7,
                )
            else:
                ax.text(
                    rect.get_x() + rect.get_width() / 2,
                    rect.get_height() + peak * 0.01,
                    text,
                    va="bottom",
                    ha="center",
                    fontsize=7,
                )
    value_axis = table.columns[columns[0]] if series == 1 else "Nombre"
    if horizontal:
        ax.set_yticks(positions, labels)
        ax.invert_yaxis()
        ax.set_xlabel(value_axis)
        ax.set_ylabel(table.columns[0])
        ax.set_xlim(0, peak * 1.15)
    else:
        ax.set_xticks(
            positions, labels, rotation=0 if len(rows) <= 4 else 30, ha="center" if len(rows) <= 4 else "right"
        )
        ax.set_ylabel(value_axis)
        ax.set_xlabel(table.columns[0])
        ax.set_ylim(0, peak * 1.15)
    ax.set_title(title_of(table), loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    if series > 1 and horizontal:
        ax.legend(frameon=False, fontsize=7, loc="lower right")
    elif series > 1:  # one line at the top, in the room left above the tallest bar: never over a value label
        ax.set_ylim(0, peak * 1.35)
        ax.legend(frameon=False, fontsize=7, loc="upper right", ncol=series)
    fig.tight_layout()
    return fig


def _map(plt: Any, table: Table) -> Any:
    """Zones' centres: size = service places near (< 5 km), a filled disc when every thématique is near,
    a hollow triangle when some are missing (a "zone blanche"); each zone named beside its marker."""
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 4.8))
    rows = [r for r in table.rows if r[1] is not None and r[2] is not None]
    peak = max([float(r[3] or 0) for r in rows] + [1.0])
    full = [r for r in rows if not r[4]]
    gaps = [r for r in rows if r[4]]
    for group, marker, face, label in (
        (full, "o", OKABE_ITO[0], "Toutes les thématiques du réseau à moins de 5 km"),
        (gaps, "^", "white", "Zone blanche : au moins une thématique absente"),
    ):
        if not group:
            continue
        sizes = [30 + 270 * float(r[3] or 0) / peak for r in group]
        ax.scatter(
            [r[2] for r in group],
            [r[1] for r in group],
            s=sizes,
            marker=marker,
            facecolors=face,
            edgecolors="black",
            linewidths=1.0,
            label=label,
            zorder=3,
        )
    for r in rows[:40]:
        ax.annotate(_wrap(r[0], 22), (r[2], r[1]), xytext=(5, 4), textcoords="offset points", fontsize=6.5)
    ax.set_title(table.title, loc="left")
    ax.set_xlabel("Longitude (degrés)")
    ax.set_ylabel("Latitude (degrés)")
    ax.set_aspect(1.45)  # about 1 / cos(46°): distances look alike in both directions in France
    ax.margins(0.15)
    ax.grid(True, linestyle=":", linewidth=0.5)
    ax.legend(frameon=False, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=1)
    fig.tight_layout()
    return fig
