"""Charts as inline SVG geometry: column charts and share-over-time lines, with labels short
enough for a phone. No style attributes (the CSP forbids them); colours come from CSS classes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

NO_VALUE = "\u2013"  # an en dash: shown where there is no number

CHART_WIDTH = 600
CHART_HEIGHT = 220
CHART_TOP = 22  # room for the value written above the tallest column
CHART_BOTTOM = 26  # room for the labels under the columns
MAX_COLUMN_WIDTH = 64  # a cycle's first months stay columns, not slabs


@dataclasses.dataclass(frozen=True)
class Column:
    label: str
    shown: str  # the value as written above the column (NO_VALUE when suppressed)
    suppressed: bool
    x: float
    y: float
    width: float
    height: float

    @property
    def center(self) -> float:
        return round(self.x + self.width / 2, 1)


@dataclasses.dataclass(frozen=True)
class ColumnChart:
    columns: list[Column]
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    baseline: float = CHART_HEIGHT - CHART_BOTTOM


def column_chart(values: Sequence[tuple[str, float | None]]) -> ColumnChart:
    """Columns scaled to the largest value; a suppressed value (None) gets a stub, no height."""
    baseline = CHART_HEIGHT - CHART_BOTTOM
    room = baseline - CHART_TOP
    largest = max((v for _, v in values if v is not None), default=0) or 1
    slot = CHART_WIDTH / max(len(values), 1)
    width = round(min(slot * 0.6, MAX_COLUMN_WIDTH), 1)
    columns = []
    for index, (label, value) in enumerate(values):
        x = round(index * slot + (slot - width) / 2, 1)
        if value is None:
            columns.append(Column(label, NO_VALUE, True, x, baseline - 2, width, 2))
            continue
        height = round(room * value / largest, 1)
        shown = f"{value:g}"
        columns.append(Column(label, shown, False, x, round(baseline - height, 1), width, height))
    return ColumnChart(columns)


@dataclasses.dataclass(frozen=True)
class Point:
    label: str
    x: float
    y: float | None  # None: suppressed or no value, the line breaks there


@dataclasses.dataclass(frozen=True)
class LineChart:
    points: list[Point]
    lines: list[str]  # polyline `points` attributes, one per unbroken run
    grid: list[tuple[float, str]]  # (y, label) for 0%, 50% and 100%
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    left: int = 44  # room for the percentage labels


def share_line_chart(values: Sequence[tuple[str, float | None]]) -> LineChart:
    """Shares (0 to 1) over time as a line; a missing value breaks the line."""
    left = 44
    baseline = CHART_HEIGHT - CHART_BOTTOM
    room = baseline - CHART_TOP
    slot = (CHART_WIDTH - left) / max(len(values), 1)
    points, lines, run = [], [], []
    for index, (label, share) in enumerate(values):
        x = round(left + index * slot + slot / 2, 1)
        y = None if share is None else round(baseline - room * share, 1)
        points.append(Point(label, x, y))
        if y is None:
            if run:
                lines.append(" ".join(run))
            run = []
        else:
            run.append(f"{x},{y}")
    if run:
        lines.append(" ".join(run))
    grid = [(round(baseline - room * f, 1), f"{round(f * 100)}%") for f in (0, 0.5, 1)]
    return LineChart(points, lines, grid)


def month_labels(months: Sequence[str]) -> list[str]:
    """['2025-12', '2026-01', '2026-02'] -> ['Dec 25', 'Jan 26', 'Feb']: short enough for a
    phone, with the year on the first month and at each new year."""
    labels = []
    for index, month in enumerate(months):
        day = dt.date.fromisoformat(f"{month}-01")
        labels.append(day.strftime("%b %y" if index == 0 or day.month == 1 else "%b"))
    return labels


def fraction(value: float | None, largest: float) -> float:
    return 0.0 if value is None or not largest else min(value / largest, 1.0)
