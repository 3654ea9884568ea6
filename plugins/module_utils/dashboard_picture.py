"""Draw a Grafana dashboard's panels from Prometheus range-query answers into one PNG.

Why matplotlib: it draws PNG files in-process with its Agg backend, without a display, a browser or a server,
from one wheel on PyPI (with numpy and Pillow, already on the controller); Grafana's own renderer needs Grafana
and a headless Chromium, and plotly's static export needs Chrome through kaleido, neither of which these
machines can download. Its figure coordinates let each panel sit where Grafana's 24-column grid puts it.

The picture is a person's view of the data, not a copy of Grafana's: every panel is drawn as lines over the
time range (a stat panel as its series over time, a heatmap as one line per bucket), titled as in Grafana, with
Grafana's legend format. A panel whose queries returned no finite value is drawn with "No data" in it, as
Grafana does, and reported by :func:`draw`, so an empty panel is never hidden.
"""

from __future__ import annotations

import io
import math
import re
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle
except ImportError:
    MATPLOTLIB_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    MATPLOTLIB_IMPORT_ERROR = None

GRID_COLUMNS = 24
# A Grafana grid unit is 30 px high and a column a 24th of the width; these sizes keep that look.
COLUMN_INCHES = 0.8
ROW_INCHES = 0.42
MARGIN_INCHES = 0.25
HEADER_INCHES = 0.7
ROW_TITLE_UNITS = 1
DPI = 80
# Room inside a panel's cell for its title, the tick labels and the gap to the next panel.
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 0.7, 0.15, 0.35, 0.4
MAX_LEGEND_ENTRIES = 8
LEGEND = re.compile(r"\{\{\s*([^}\s]+)\s*\}\}")


@dataclass
class Series:
    """One line: its legend and its points, non-finite values as NaN (drawn as gaps)."""

    label: str
    times: list[float]
    values: list[float]

    @property
    def has_data(self) -> bool:
        return any(math.isfinite(value) for value in self.values)


@dataclass
class Panel:
    """One panel to draw: where it sits on Grafana's grid, and its lines."""

    title: str
    unit: str
    column: int
    row: int
    width: int
    height: int
    series: list[Series] = field(default_factory=list)

    @property
    def has_data(self) -> bool:
        return any(line.has_data for line in self.series)


@dataclass(frozen=True)
class RowTitle:
    """A dashboard row's title, drawn across the grid above its panels."""

    title: str
    row: int


@dataclass(frozen=True)
class Drawn:
    """A panel as drawn: its plot's box in the PNG in pixels (left, top, right, bottom, origin top left)."""

    title: str
    box: tuple[int, int, int, int]
    series: int
    has_data: bool


def legend(metric: Mapping[str, str], legend_format: str) -> str:
    """The series' name as Grafana shows it: the legend format with ``{{label}}`` filled in, else its labels."""
    if legend_format and legend_format != "__auto":
        return LEGEND.sub(lambda match: metric.get(match[1], ""), legend_format)
    labels = ", ".join(f'{name}="{value}"' for name, value in sorted(metric.items()) if name != "__name__")
    return f"{metric.get('__name__', '')}{{{labels}}}"


def series_of(answer: Mapping[str, Any], legend_format: str) -> list[Series]:
    """The lines of a range query's answer (``resultType`` matrix)."""
    lines = []
    for result in answer.get("data", {}).get("result", []):
        points = [(float(moment), float(value)) for moment, value in result.get("values", [])]
        lines.append(
            Series(
                label=legend(result.get("metric", {}), legend_format),
                times=[moment for moment, value in points],
                values=[value if math.isfinite(value) else math.nan for moment, value in points],
            )
        )
    return lines


def layout(
    entries: Sequence[Mapping[str, Any]],
) -> tuple[list[tuple[Mapping[str, Any], int, int, int, int]], list[RowTitle]]:
    """Place panels (dicts with a ``gridPos``) and rows (``type: row``) on the grid, in dashboard order.

    Left to right as far as each panel's width allows, then on a new line below the tallest panel of the line;
    a row starts a new line under its title. A dashboard laid out in Grafana's editor comes out as it does
    there; overlapping or collapsed ``gridPos`` values cannot put two panels on top of each other.
    """
    placed: list[tuple[Mapping[str, Any], int, int, int, int]] = []
    rows: list[RowTitle] = []
    column = line_top = line_bottom = 0
    for entry in entries:
        grid = entry.get("gridPos", {})
        if entry.get("type") == "row":
            rows.append(RowTitle(str(entry.get("title", "")), line_bottom))
            column, line_top = 0, line_bottom + ROW_TITLE_UNITS
            line_bottom = line_top
            continue
        width = min(max(int(grid.get("w", GRID_COLUMNS // 2)), 1), GRID_COLUMNS)
        height = max(int(grid.get("h", 8)), 3)
        if column + width > GRID_COLUMNS:
            column, line_top = 0, line_bottom
        placed.append((entry, column, line_top, width, height))
        column += width
        line_bottom = max(line_bottom, line_top + height)
    return placed, rows


def draw(
    title: str, panels: Sequence[Panel], rows: Sequence[RowTitle], start: float, end: float
) -> tuple[bytes, list[Drawn], int]:
    """The PNG of the panels over [start, end] (Unix seconds), each panel as drawn, and the figure's axes count."""
    grid_units = max([panel.row + panel.height for panel in panels] + [row.row + ROW_TITLE_UNITS for row in rows] + [1])
    width = 2 * MARGIN_INCHES + GRID_COLUMNS * COLUMN_INCHES
    height = HEADER_INCHES + grid_units * ROW_INCHES + MARGIN_INCHES
    figure = Figure(figsize=(width, height), dpi=DPI, facecolor="white")
    window = (datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))
    figure.text(
        MARGIN_INCHES / width,
        1 - 0.45 / height,
        f"{title}   {window[0]:%Y-%m-%d %H:%M:%S} to {window[1]:%H:%M:%S} UTC",
        fontsize=14,
        weight="bold",
    )
    for row in rows:
        top = HEADER_INCHES + row.row * ROW_INCHES
        figure.text(MARGIN_INCHES / width, 1 - (top + 0.3) / height, row.title, fontsize=12, weight="bold")
    axes_of = []
    for panel in panels:
        left = MARGIN_INCHES + panel.column * COLUMN_INCHES
        top = HEADER_INCHES + panel.row * ROW_INCHES
        cell_width, cell_height = panel.width * COLUMN_INCHES, panel.height * ROW_INCHES
        figure.patches.append(
            Rectangle(
                (left / width, 1 - (top + cell_height - 0.05) / height),
                (cell_width - 0.1) / width,
                (cell_height - 0.1) / height,
                transform=figure.transFigure,
                facecolor="#f4f5f5",
                edgecolor="#d8d9da",
                zorder=-1,
            )
        )
        axes = figure.add_axes(
            (
                (left + PAD_LEFT) / width,
                1 - (top + cell_height - PAD_BOTTOM) / height,
                (cell_width - PAD_LEFT - PAD_RIGHT) / width,
                (cell_height - PAD_TOP - PAD_BOTTOM) / height,
            )
        )
        _plot(axes, panel, window)
        axes_of.append(axes)
    figure.canvas.draw()
    pixels_high = figure.bbox.height
    drawn = []
    for panel, axes in zip(panels, axes_of, strict=True):
        box = axes.get_window_extent()
        drawn.append(
            Drawn(
                title=panel.title,
                box=(round(box.x0), round(pixels_high - box.y1), round(box.x1), round(pixels_high - box.y0)),
                series=sum(1 for line in panel.series if line.has_data),
                has_data=panel.has_data,
            )
        )
    output = io.BytesIO()
    figure.savefig(output, format="png", dpi=DPI, metadata={"Software": None})
    return output.getvalue(), drawn, len(figure.axes)


def _plot(axes: Any, panel: Panel, window: tuple[datetime, datetime]) -> None:
    axes.set_title(panel.title, loc="left", fontsize=10)
    axes.set_xlim(*window)
    locator = mdates.AutoDateLocator(tz=UTC)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=UTC))
    axes.tick_params(labelsize=7)
    for spine in ("top", "right"):
        axes.spines[spine].set_visible(False)
    if not panel.has_data:
        axes.set_yticks([])
        axes.text(0.5, 0.5, "No data", transform=axes.transAxes, ha="center", va="center", fontsize=12, color="#555555")
        return
    if panel.unit and panel.unit not in ("short", "none"):
        axes.set_ylabel(panel.unit, fontsize=7)
    for line in panel.series:
        if not line.has_data:
            continue
        times = [datetime.fromtimestamp(moment, UTC) for moment in line.times]
        single = sum(1 for value in line.values if math.isfinite(value)) == 1
        axes.plot(
            times, line.values, label=line.label[:60], linewidth=1.5, marker="o" if single else None, markersize=3
        )
    handles, labels = axes.get_legend_handles_labels()
    axes.legend(handles[:MAX_LEGEND_ENTRIES], labels[:MAX_LEGEND_ENTRIES], fontsize=6, loc="upper left", frameon=False)
