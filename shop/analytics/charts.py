"""Charts drawn on the server as SVG geometry (the template writes the <svg>): no chart
script to download, readable on a phone (they scale to the screen's width)."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT = 320, 120   # the viewBox; the picture scales to the column's width
LABEL_ROOM = 16            # below the bars, for the first and last day


@dataclass
class Bar:
    x: int
    y: int
    width: int
    height: int
    label: str   # what a screen reader and the tooltip say: "11-02: 35"


@dataclass
class BarChart:
    bars: list[Bar]
    top: str          # the largest value, written at the top left
    first: str        # the first and last labels under the axis
    last: str
    width: int = WIDTH
    height: int = HEIGHT + LABEL_ROOM
    base: int = HEIGHT


def bar_chart(points: list[tuple[str, int]], show=str) -> BarChart:
    """One bar per (label, value); `show` writes a value for people (money, a count)."""
    most = max((value for _label, value in points), default=0)
    step = WIDTH // max(len(points), 1)
    gap = 1 if step > 3 else 0
    bars = []
    for n, (label, value) in enumerate(points):
        height = value * (HEIGHT - 12) // most if most else 0   # 12: room for the top label
        bars.append(Bar(x=n * step, y=HEIGHT - height, width=max(step - gap, 1), height=height,
                        label=f"{label}: {show(value)}"))
    return BarChart(bars=bars, top=show(most), first=points[0][0] if points else "",
                    last=points[-1][0] if points else "")


@dataclass
class Stage:
    name: str
    value: int
    width: int          # of WIDTH
    y: int
    rate_bp: int | None  # of the stage before


def funnel(stages: list[tuple[str, int]], row: int = 26) -> tuple[list[Stage], int]:
    """Horizontal bars, the first stage full width; returns the stages and the height."""
    first = stages[0][1] if stages else 0
    out, previous = [], None
    for n, (name, value) in enumerate(stages):
        width = value * WIDTH // first if first else 0
        rate = (value * 10_000 + previous // 2) // previous if previous else None
        out.append(Stage(name, value, max(width, 1 if value else 0), n * row, rate))
        previous = value
    return out, len(stages) * row
