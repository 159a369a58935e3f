"""Small line charts drawn server-side as inline SVG for the model and payers page.

The page is served with a Content-Security-Policy that allows only this server's scripts and
styles, and the app must work offline (no CDN, no charting library in the browser), so the
reliability and dollars-caught plots are plain SVG markup computed here from numbers the page
already has (the calibration bins and the dollars-caught points of ``worklist.outcomes``).
Colours are presentation attributes, not ``style=`` (which that policy refuses). Every chart is an
``img`` with a title, and the same numbers are in a table beside it for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 420, 320
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 48
INK = "#1b1b1b"
GRID = "#767676"  # 4.5:1 on white
SERIES_COLOURS = ("#0b5394", "#8a3b00")


@dataclass(frozen=True)
class Series:
    """One line of a chart: points in [0, 1] x [0, 1], drawn with markers when ``markers``."""

    name: str
    points: Sequence[tuple[float, float]]
    markers: bool = False


def _x(value: float) -> float:
    return LEFT + max(0.0, min(1.0, value)) * (WIDTH - LEFT - RIGHT)


def _y(value: float) -> float:
    return HEIGHT - BOTTOM - max(0.0, min(1.0, value)) * (HEIGHT - TOP - BOTTOM)


def _axes(x_label: str, y_label: str) -> list[str]:
    parts = [
        f'<line x1="{_x(0)}" y1="{_y(0)}" x2="{_x(1)}" y2="{_y(0)}" stroke="{INK}"/>',
        f'<line x1="{_x(0)}" y1="{_y(0)}" x2="{_x(0)}" y2="{_y(1)}" stroke="{INK}"/>',
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<text x="{_x(tick)}" y="{_y(0) + 16}" text-anchor="middle" font-size="11" fill="{INK}">{tick:.2f}</text>'
            f'<text x="{_x(0) - 6}" y="{_y(tick) + 4}" text-anchor="end" font-size="11" fill="{INK}">{tick:.2f}</text>'
        )
    parts.append(
        f'<text x="{(_x(0) + _x(1)) / 2}" y="{HEIGHT - 10}" text-anchor="middle" font-size="12" fill="{INK}">'
        f"{escape(x_label)}</text>"
        f'<text x="14" y="{(_y(0) + _y(1)) / 2}" text-anchor="middle" font-size="12" fill="{INK}" '
        f'transform="rotate(-90 14 {(_y(0) + _y(1)) / 2})">{escape(y_label)}</text>'
    )
    return parts


def _series(series: Series, colour: str) -> list[str]:
    path = " ".join(f"{_x(x):.1f},{_y(y):.1f}" for x, y in series.points)
    parts = [f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'] if path else []
    if series.markers:
        parts += [f'<circle cx="{_x(x):.1f}" cy="{_y(y):.1f}" r="3.5" fill="{colour}"/>' for x, y in series.points]
    return parts


def line_chart(title: str, x_label: str, y_label: str, series: Sequence[Series], reference: str) -> Markup:
    """An SVG chart of ``series`` over the unit square with a dotted diagonal named ``reference``
    (perfect calibration, or a random review order) and a legend."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>',
        *_axes(x_label, y_label),
        f'<line x1="{_x(0)}" y1="{_y(0)}" x2="{_x(1)}" y2="{_y(1)}" stroke="{GRID}" stroke-dasharray="3 3"/>',
    ]
    legend = [(reference, GRID)]
    for k, line in enumerate(series):
        colour = SERIES_COLOURS[k % len(SERIES_COLOURS)]
        parts += _series(line, colour)
        legend.append((line.name, colour))
    for k, (name, colour) in enumerate(legend):
        y = TOP + 8 + 16 * k
        parts.append(
            f'<line x1="{_x(0) + 10}" y1="{y}" x2="{_x(0) + 30}" y2="{y}" stroke="{colour}" stroke-width="2"/>'
            f'<text x="{_x(0) + 36}" y="{y + 4}" font-size="11" fill="{INK}">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped; numbers are formatted floats
