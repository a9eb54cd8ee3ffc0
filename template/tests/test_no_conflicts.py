"""An update that clashed must be resolved before anything else passes."""

from __future__ import annotations

import subprocess
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
# What `copier update` writes where the template's change and yours clash (built here, so that
# this file does not hold them itself).
MARKERS = ("<" * 7 + " before updating", ">" * 7 + " after updating")
# Places that are not the project's own files.
SKIPPED = {".git", ".venv", "venv", "build", "dist", "node_modules"}


def project_files() -> list[Path]:
    """The files git tracks or would track; every file outside SKIPPED without git."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=PROJECT,
        capture_output=True,
        check=False,
    )
    if listed.returncode == 0:
        return [PROJECT / name for name in listed.stdout.decode().split("\0") if name]
    return [
        path
        for path in PROJECT.rglob("*")
        if path.is_file() and not SKIPPED & set(path.relative_to(PROJECT).parts)
    ]


def test_no_file_holds_update_conflict_markers() -> None:
    clashes = []
    for path in project_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError):
            continue  # not text, or deleted but not yet committed
        lines = text.splitlines()
        clashes += [
            f"{path.relative_to(PROJECT)}:{number}"
            for number, line in enumerate(lines, start=1)
            if line.startswith(MARKERS)
        ]
    assert not clashes, f"copier update left conflicts to resolve: {', '.join(clashes)}"


def test_no_rejected_hunks_are_left() -> None:
    rejected = [str(path.relative_to(PROJECT)) for path in project_files() if path.suffix == ".rej"]
    assert not rejected, f"copier update --conflict rej left hunks to apply: {', '.join(rejected)}"
