"""Plot a bench_exports.py output table as an SVG: each endpoint's MB/s and the server's memory.

Usage: python3 scripts/plot_bench.py BENCH_OUTPUT.txt PLOT.svg
(the docs' plots: docs/benchmarks/exports-gunicorn-sqlite.txt -> exports-gunicorn-sqlite.svg, and
the same for postgresql)

Left: at the largest row count, the MB/s of the recipe, the Flask docs' pattern and the recipe's
in-process limit for each endpoint. Right: the recipe's peak server memory at the smallest and
the largest row count. Every bar carries its value; gridlines mark the scale.
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

# rows, endpoint, variant, MB, MB/s, min MB/s, x naive, of limit, first byte, peak RSS, cut
ROW = re.compile(
    r"^\s*([\d,]+)\s+(\w+)\s+(recipe|naive|limit)\s+[\d.]+\s+([\d.]+)\s+[\d.]+\s+\S+\s+\S+"
    r"\s+[\d.]+ ms\s+(?:([\d.]+) MB|-)( cut)?$"
)
VARIANTS = {
    "recipe": ("this recipe", "#1f77b4"),
    "naive": ("usual pattern (naive)", "#d62728"),
    "limit": ("recipe in process (limit)", "#9fbfdf"),
}
WIDTH, HEIGHT = 900, 370
TOP, BOTTOM, LEFT = 40, 90, 50
PANELS = ((0, 520), (560, 340))

# (rows, endpoint, variant) -> (MB/s, peak RSS MB or None, whether the server cut the body)
Figures = dict[tuple[int, str, str], tuple[float, float | None, bool]]


def parse(text: str) -> Figures:
    """Each row of the table by its row count, endpoint and variant."""
    figures: Figures = {}
    for line in text.splitlines():
        if match := ROW.match(line):
            rows, endpoint, variant, speed, memory, cut = match.groups()
            figures[int(rows.replace(",", "")), endpoint, variant] = (
                float(speed),
                float(memory) if memory else None,
                bool(cut),
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


def bars(
    x0: int,
    width: int,
    title: str,
    unit: str,
    groups: list[str],
    series: list[tuple[str, str, list[tuple[float, str]]]],
) -> list[str]:
    """One grouped bar chart with gridlines and a value (and its mark, if any) on each bar."""
    top, step = nice_top(max(value for _, _, values in series for value, _ in values))
    plot_height = HEIGHT - TOP - BOTTOM
    left = x0 + LEFT
    plot_width = width - LEFT - 10

    def y(value: float) -> float:
        return TOP + plot_height - value / top * plot_height

    parts = [f'<text x="{left}" y="22" font-weight="bold">{title}</text>']
    tick = 0.0
    while tick <= top + step / 2:
        parts.append(
            f'<line x1="{left}" y1="{y(tick):.1f}" x2="{left + plot_width}" y2="{y(tick):.1f}" '
            f'stroke="#ddd"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" font-size="11" '
            f'text-anchor="end">{tick:g}</text>'
        )
        tick += step
    parts.append(f'<text x="{x0 + 4}" y="{TOP - 8}" font-size="11">{unit}</text>')
    group_width = plot_width / len(groups)
    bar_width = group_width * 0.8 / len(series)
    for number, group in enumerate(groups):
        start = left + number * group_width + group_width * 0.1
        parts.append(
            f'<text x="{left + (number + 0.5) * group_width:.1f}" y="{TOP + plot_height + 16}" '
            f'font-size="12" text-anchor="middle">{group}</text>'
        )
        for index, (_, colour, values) in enumerate(series):
            value, mark = values[number]
            x = start + index * bar_width
            parts.append(
                f'<rect x="{x:.1f}" y="{y(value):.1f}" width="{bar_width - 2:.1f}" '
                f'height="{TOP + plot_height - y(value):.1f}" fill="{colour}"/>'
            )
            parts.append(
                f'<text x="{x + bar_width / 2 - 1:.1f}" y="{y(value) - 3:.1f}" font-size="10" '
                f'text-anchor="middle">{value:.0f}{mark}</text>'
            )
    parts.append(
        f'<line x1="{left}" y1="{TOP + plot_height}" x2="{left + plot_width}" '
        f'y2="{TOP + plot_height}" stroke="#888"/>'
    )
    for index, (label, colour, _) in enumerate(series):
        x = left + index * 175
        parts.append(f'<rect x="{x}" y="{HEIGHT - 22}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16}" y="{HEIGHT - 12}" font-size="12">{label}</text>')
    return parts


def speed(figure: tuple[float, float | None, bool]) -> tuple[float, str]:
    """A download's MB/s and its mark: * when the server cut the body short."""
    return figure[0], "*" if figure[2] else ""


def render(figures: Figures) -> str:
    """The whole SVG document: throughput on the left, the recipe's peak memory on the right."""
    row_counts = sorted({rows for rows, _, _ in figures})
    small, large = row_counts[0], row_counts[-1]
    endpoints = list(dict.fromkeys(endpoint for _, endpoint, _ in figures))
    speeds = [
        (label, colour, [speed(figures[large, endpoint, variant]) for endpoint in endpoints])
        for variant, (label, colour) in VARIANTS.items()
    ]
    memory = [
        (
            f"{rows:,} rows",
            colour,
            [(figures[rows, endpoint, "recipe"][1] or 0.0, "") for endpoint in endpoints],
        )
        for rows, colour in ((small, "#9fbfdf"), (large, "#1f77b4"))
    ]
    (speed_x, speed_width), (memory_x, memory_width) = PANELS
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'font-family="sans-serif" font-size="13">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        *bars(speed_x, speed_width, f"Throughput at {large:,} rows", "MB/s", endpoints, speeds),
        *bars(memory_x, memory_width, "Server peak memory, recipe", "MB", endpoints, memory),
        f'<text x="{speed_x + LEFT}" y="{HEIGHT - 40}" font-size="11">'
        "* the server cut the body short: MB/s of what arrived</text>",
        "</svg>",
    ]
    return "\n".join(parts) + "\n"


def main() -> None:
    source, target = map(Path, sys.argv[1:3])
    target.write_text(render(parse(source.read_text())))


if __name__ == "__main__":
    main()
