"""Plot a bench_exports.py output table as an SVG: each endpoint's MB/s and the server's memory.

Usage: python3 scripts/plot_bench.py BENCH_OUTPUT.txt PLOT.svg
(the docs' plots: docs/benchmarks/exports-gunicorn-sqlite.txt -> exports-gunicorn-sqlite.svg, and
the same for postgresql)

Top left: at the largest row count, the MB/s of the recipe, the Flask docs' pattern and the
recipe's in-process limit for each endpoint. Top right: the recipe's peak server memory at the
smallest and the largest row count. Below: the time to the first byte of the recipe and of the
docs' pattern at the largest row count, on a log scale. Every bar carries its value; gridlines
mark the scale.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

# rows, endpoint, variant, MB, MB/s, min MB/s, x naive, of limit, first byte, peak RSS, cut
ROW = re.compile(
    r"^\s*([\d,]+)\s+(\w+)\s+(recipe|naive|limit)\s+[\d.]+\s+([\d.]+)\s+[\d.]+\s+\S+\s+\S+"
    r"\s+([\d.]+) ms\s+(?:([\d.]+) MB|-)( cut)?$"
)
VARIANTS = {
    "recipe": ("this recipe", "#1f77b4"),
    "naive": ("usual pattern (naive)", "#d62728"),
    "limit": ("recipe in process (limit)", "#9fbfdf"),
}
WIDTH, HEIGHT = 900, 370
TOP, BOTTOM, LEFT = 40, 90, 50
PANELS = ((0, 520), (560, 340))


@dataclass(frozen=True)
class Figure:
    """One download of the table."""

    speed: float  # MB/s
    first_byte: float  # ms
    memory: float | None  # the server's peak RSS in MB, None for the in-process limit
    cut: bool  # whether the server cut the body short


# (rows, endpoint, variant) -> its figures
Figures = dict[tuple[int, str, str], Figure]


def parse(text: str) -> Figures:
    """Each row of the table by its row count, endpoint and variant."""
    figures: Figures = {}
    for line in text.splitlines():
        if match := ROW.match(line):
            rows, endpoint, variant, speed, first_byte, memory, cut = match.groups()
            figures[int(rows.replace(",", "")), endpoint, variant] = Figure(
                float(speed), float(first_byte), float(memory) if memory else None, bool(cut)
            )
    return figures


def nice_top(value: float) -> tuple[float, float]:
    """A round upper bound for an axis and the step of its gridlines."""
    step = 10 ** math.floor(math.log10(value or 1))
    for factor in (1, 2, 5, 10):
        if value / (step * factor) <= 5:
            step *= factor
            break
    return math.ceil(value * 1.1 / step) * step, step


def linear_ticks(values: list[float]) -> list[float]:
    """Gridlines from 0 to a round value above the largest."""
    top, step = nice_top(max(values))
    return [step * index for index in range(round(top / step) + 1)]


def log_ticks(values: list[float]) -> list[float]:
    """Gridlines at the powers of ten from 1 to the first above the largest."""
    return [10.0**power for power in range(math.ceil(math.log10(max(values) * 1.2)) + 1)]


def bars(
    origin: tuple[int, int],
    width: int,
    title: str,
    unit: str,
    groups: list[str],
    series: list[tuple[str, str, list[tuple[float, str]]]],
    *,
    log: bool = False,
) -> list[str]:
    """One grouped bar chart with gridlines and a value (and its mark, if any) on each bar."""
    x0, y0 = origin
    every_value = [value for _, _, numbers in series for value, _ in numbers]
    ticks = log_ticks(every_value) if log else linear_ticks(every_value)
    plot_height = HEIGHT - TOP - BOTTOM
    bottom = y0 + TOP + plot_height
    left = x0 + LEFT
    plot_width = width - LEFT - 10

    def y(value: float) -> float:
        # A log scale starts at 1 ms: a value below it sits on the axis.
        share = math.log10(max(value, 1.0)) / math.log10(ticks[-1]) if log else value / ticks[-1]
        return bottom - share * plot_height

    parts = [f'<text x="{left}" y="{y0 + 22}" font-weight="bold">{title}</text>']
    for tick in ticks:
        parts.append(
            f'<line x1="{left}" y1="{y(tick):.1f}" x2="{left + plot_width}" y2="{y(tick):.1f}" '
            f'stroke="#ddd"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" font-size="11" '
            f'text-anchor="end">{tick:g}</text>'
        )
    parts.append(f'<text x="{x0 + 4}" y="{y0 + TOP - 8}" font-size="11">{unit}</text>')
    group_width = plot_width / len(groups)
    bar_width = group_width * 0.8 / len(series)
    for number, group in enumerate(groups):
        start = left + number * group_width + group_width * 0.1
        parts.append(
            f'<text x="{left + (number + 0.5) * group_width:.1f}" y="{bottom + 16}" '
            f'font-size="12" text-anchor="middle">{group}</text>'
        )
        for index, (_, colour, values) in enumerate(series):
            value, mark = values[number]
            x = start + index * bar_width
            parts.append(
                f'<rect x="{x:.1f}" y="{y(value):.1f}" width="{bar_width - 2:.1f}" '
                f'height="{bottom - y(value):.1f}" fill="{colour}"/>'
            )
            parts.append(
                f'<text x="{x + bar_width / 2 - 1:.1f}" y="{y(value) - 3:.1f}" font-size="10" '
                f'text-anchor="middle">{value:.{0 if value >= 10 else 1}f}{mark}</text>'
            )
    parts.append(
        f'<line x1="{left}" y1="{bottom}" x2="{left + plot_width}" y2="{bottom}" stroke="#888"/>'
    )
    for index, (label, colour, _) in enumerate(series):
        x = left + index * 175
        parts.append(
            f'<rect x="{x}" y="{y0 + HEIGHT - 22}" width="12" height="12" fill="{colour}"/>'
        )
        parts.append(f'<text x="{x + 16}" y="{y0 + HEIGHT - 12}" font-size="12">{label}</text>')
    return parts


def marked(figure: Figure, value: str) -> tuple[float, str]:
    """A download's `value` (speed, first_byte) and its mark: * when the server cut the body."""
    return getattr(figure, value), "*" if figure.cut else ""


def render(figures: Figures) -> str:
    """The whole SVG: throughput and peak memory above, the time to the first byte below."""
    row_counts = sorted({rows for rows, _, _ in figures})
    small, large = row_counts[0], row_counts[-1]
    endpoints = list(dict.fromkeys(endpoint for _, endpoint, _ in figures))

    def series(variants: list[str], value: str) -> list[tuple[str, str, list[tuple[float, str]]]]:
        return [
            (
                VARIANTS[variant][0],
                VARIANTS[variant][1],
                [marked(figures[large, endpoint, variant], value) for endpoint in endpoints],
            )
            for variant in variants
        ]

    memory = [
        (
            f"{rows:,} rows",
            colour,
            [(figures[rows, endpoint, "recipe"].memory or 0.0, "") for endpoint in endpoints],
        )
        for rows, colour in ((small, "#9fbfdf"), (large, "#1f77b4"))
    ]
    (speed_x, speed_width), (memory_x, memory_width) = PANELS
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{2 * HEIGHT}" '
        f'font-family="sans-serif" font-size="13">',
        f'<rect width="{WIDTH}" height="{2 * HEIGHT}" fill="white"/>',
        *bars(
            (speed_x, 0),
            speed_width,
            f"Throughput at {large:,} rows",
            "MB/s",
            endpoints,
            series(list(VARIANTS), "speed"),
        ),
        *bars((memory_x, 0), memory_width, "Server peak memory, recipe", "MB", endpoints, memory),
        *bars(
            (speed_x, HEIGHT),
            speed_width,
            f"Time to first byte at {large:,} rows",
            "ms (log)",
            endpoints,
            series(["recipe", "naive"], "first_byte"),
            log=True,
        ),
        f'<text x="{memory_x + LEFT}" y="{HEIGHT + 60}" font-size="12">'
        "* the server cut the body short:</text>",
        f'<text x="{memory_x + LEFT}" y="{HEIGHT + 76}" font-size="12">MB/s of what arrived</text>',
        "</svg>",
    ]
    return "\n".join(parts) + "\n"


def main() -> None:
    source, target = map(Path, sys.argv[1:3])
    target.write_text(render(parse(source.read_text())))


if __name__ == "__main__":
    main()
