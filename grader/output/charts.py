"""Geometry for the SVG charts in the HTML reports.

The templates only draw; the arithmetic (bin edges, bar heights, axis ticks) lives here as
pure functions, so it can be unit-tested without parsing SVG and the templates stay free of
maths. Coordinates are in the SVG's own viewBox units; the browser scales the picture to
the width of the screen or the page.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

_NICE_STEPS = (1, 2, 5)


@dataclass(frozen=True)
class Bar:
    """One bin of a histogram: the values in [low, high), or [low, high] for the last bin."""

    low: float
    high: float
    count: int
    x: float
    y: float
    width: float
    height: float

    @property
    def label(self) -> str:
        return f"{self.low:g}–{self.high:g}%"


@dataclass(frozen=True)
class Tick:
    """An axis label: `position` is x on the horizontal axis, y on the vertical one."""

    position: float
    text: str


@dataclass(frozen=True)
class Histogram:
    width: float
    height: float
    left: float  # the plot area, inside the axis labels
    top: float
    right: float
    bottom: float  # the baseline the bars stand on
    bars: tuple[Bar, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]


def nice_step(largest: int, most_ticks: int = 5) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50... that labels 0..largest in at most
    `most_ticks` steps, so the count axis reads 0, 5, 10 and never 0, 3, 6, 9, 12."""
    magnitude = 1
    while True:
        for step in _NICE_STEPS:
            if math.ceil(largest / (step * magnitude)) <= most_ticks - 1:
                return step * magnitude
        magnitude *= 10


def bin_counts(values: Sequence[float], bins: int, low: float, high: float) -> list[int]:
    """How many values fall in each of `bins` equal bins over [low, high]; values outside
    the range are clamped into the first or last bin (a score above the maximum is still
    a full score), and the top edge belongs to the last bin."""
    counts = [0] * bins
    span = high - low
    for value in values:
        index = math.floor((value - low) / span * bins)
        counts[min(max(index, 0), bins - 1)] += 1
    return counts


def histogram(
    values: Sequence[float],
    *,
    bins: int = 10,
    low: float = 0.0,
    high: float = 100.0,
    width: float = 420.0,
    height: float = 210.0,
) -> Histogram:
    """Bars, ticks and plot area for a histogram of `values` (percentages by default)."""
    left, top, right, bottom = 36.0, 22.0, width - 22.0, height - 30.0
    counts = bin_counts(values, bins, low, high)
    step = nice_step(max(counts, default=0))
    y_max = max(step * math.ceil(max(counts, default=0) / step), step)
    slot = (right - left) / bins
    gap = min(4.0, slot / 5)
    edge = (high - low) / bins

    bars = []
    for index, count in enumerate(counts):
        bar_height = (bottom - top) * count / y_max
        bars.append(
            Bar(
                low=low + index * edge,
                high=low + (index + 1) * edge,
                count=count,
                x=left + index * slot + gap / 2,
                y=bottom - bar_height,
                width=slot - gap,
                height=bar_height,
            )
        )
    label_every = max(1, math.ceil(bins / 5))  # five labels fit on a phone
    x_ticks = tuple(
        Tick(position=left + index * slot, text=f"{low + index * edge:g}%")
        for index in range(0, bins + 1, label_every)
    )
    y_ticks = tuple(
        Tick(position=bottom - (bottom - top) * value / y_max, text=str(value))
        for value in range(0, y_max + 1, step)
    )
    return Histogram(width, height, left, top, right, bottom, tuple(bars), x_ticks, y_ticks)
