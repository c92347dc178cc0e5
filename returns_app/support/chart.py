"""The dashboard's bar chart as numbers an SVG template draws: no JavaScript, no library."""

from __future__ import annotations

from dataclasses import dataclass

from ..services.dashboard import Bin

WIDTH, HEIGHT = 600, 240
LEFT, BOTTOM, TOP = 40, 40, 24


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    low: int
    high: int | None
    late: bool  # beyond the legal 14 days

    @property
    def label_x(self) -> float:
        return self.x + self.width / 2


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline: float
    bars: list[Bar]
    max_count: int


def bar_chart(bins: list[Bin]) -> Chart:
    plot_width = WIDTH - LEFT - 10
    plot_height = HEIGHT - BOTTOM - TOP
    slot = plot_width / max(1, len(bins))
    top = max([b.count for b in bins] + [1])
    bars = []
    for i, b in enumerate(bins):
        height = plot_height * b.count / top
        bars.append(Bar(x=LEFT + i * slot + slot * 0.15, y=TOP + plot_height - height,
                        width=slot * 0.7, height=height, count=b.count, low=b.low, high=b.high,
                        late=b.high is None))
    return Chart(WIDTH, HEIGHT, TOP + plot_height, bars, top)
