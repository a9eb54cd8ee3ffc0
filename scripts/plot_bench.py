"""Plot a bench_csv.py output table as an SVG: throughput and peak memory against row count.

Usage: python3 scripts/plot_bench.py BENCH_OUTPUT.txt PLOT.svg
(the docs' plot: docs/benchmarks/bench-gunicorn.txt -> docs/benchmarks/bench-gunicorn.svg)
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

# rows, variant, [clients,] MB, MB/s, [min MB/s,] first byte, peak RSS: older output has no
# clients or minimum column.
ROW = re.compile(
    r"^\s*([\d,]+)\s+(\w+)\s+(?:\d+\s+)?[\d.]+\s+([\d.]+)\s+(?:[\d.]+\s+)?[\d.]+ ms\s+([\d.]+) MB$"
)
COLOURS = {"recipe": "#1f77b4", "naive": "#d62728"}
LABELS = {"recipe": "this recipe", "naive": "Flask docs' pattern"}
WIDTH, HEIGHT, PANEL = 760, 320, 340
LEFT, TOP, BOTTOM = 60, 40, 50


def parse(text: str) -> dict[str, list[tuple[int, float, float]]]:
    """Map each variant to its (rows, MB/s, peak RSS MB) points."""
    series: dict[str, list[tuple[int, float, float]]] = {}
    for line in text.splitlines():
        if match := ROW.match(line):
            rows, variant, speed, memory = match.groups()
            series.setdefault(variant, []).append(
                (int(rows.replace(",", "")), float(speed), float(memory))
            )
    return series


def panel(
    series: dict[str, list[tuple[int, float, float]]], index: int, title: str, unit: str, x0: int
) -> list[str]:
    """One chart: log-scaled rows across, the chosen measure (from zero) up."""
    rows = [point[0] for points in series.values() for point in points]
    low, high = math.log10(min(rows)), math.log10(max(rows))
    top = max(point[index] for points in series.values() for point in points) * 1.15
    plot_width, plot_height = PANEL - LEFT - 10, HEIGHT - TOP - BOTTOM

    def x(value: int) -> float:
        return x0 + LEFT + (math.log10(value) - low) / ((high - low) or 1) * plot_width

    def y(value: float) -> float:
        return TOP + plot_height - value / top * plot_height

    parts = [
        f'<text x="{x0 + LEFT}" y="22" font-weight="bold">{title}</text>',
        f'<line x1="{x0 + LEFT}" y1="{TOP + plot_height}" x2="{x0 + LEFT + plot_width}" '
        f'y2="{TOP + plot_height}" stroke="#888"/>',
        f'<line x1="{x0 + LEFT}" y1="{TOP}" x2="{x0 + LEFT}" y2="{TOP + plot_height}" '
        'stroke="#888"/>',
        f'<text x="{x0 + 8}" y="{TOP + 4}" font-size="11">{top:.0f} {unit}</text>',
        f'<text x="{x0 + 8}" y="{TOP + plot_height}" font-size="11">0</text>',
    ]
    for value in sorted(set(rows)):
        parts.append(
            f'<text x="{x(value):.1f}" y="{TOP + plot_height + 16}" font-size="11" '
            f'text-anchor="middle">{value:,}</text>'
        )
    for variant, points in series.items():
        colour = COLOURS.get(variant, "#555")
        path = " ".join(f"{x(point[0]):.1f},{y(point[index]):.1f}" for point in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for point in points:
            parts.append(
                f'<circle cx="{x(point[0]):.1f}" cy="{y(point[index]):.1f}" r="3" fill="{colour}"/>'
            )
    parts.append(
        f'<text x="{x0 + LEFT + plot_width / 2}" y="{HEIGHT - 12}" font-size="11" '
        f'text-anchor="middle">rows (log scale)</text>'
    )
    return parts


def render(series: dict[str, list[tuple[int, float, float]]]) -> str:
    """The whole SVG document: throughput on the left, peak memory on the right, a legend."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT + 20}" '
        f'font-family="sans-serif" font-size="13">',
        f'<rect width="{WIDTH}" height="{HEIGHT + 20}" fill="white"/>',
        *panel(series, 1, "Throughput (MB/s)", "MB/s", 0),
        *panel(series, 2, "Server peak memory (MB)", "MB", PANEL + 40),
    ]
    for number, variant in enumerate(series):
        y = HEIGHT + 8
        x = LEFT + number * 200
        colour = COLOURS.get(variant, "#555")
        parts.append(f'<rect x="{x}" y="{y - 9}" width="12" height="3" fill="{colour}"/>')
        parts.append(
            f'<text x="{x + 18}" y="{y - 4}" font-size="12">{LABELS.get(variant, variant)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main() -> None:
    source, target = map(Path, sys.argv[1:3])
    target.write_text(render(parse(source.read_text())))


if __name__ == "__main__":
    main()
