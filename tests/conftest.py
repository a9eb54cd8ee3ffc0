"""Fixtures that render the template into temporary folders and run what it generated."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import copier
import pytest

TEMPLATE = Path(__file__).resolve().parent.parent


def run(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a command, failing the test with its output when it fails."""
    result = subprocess.run(
        command, cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture
def render(tmp_path: Path) -> Callable[..., Path]:
    """Render the working tree (uncommitted edits included) with the defaults and `answers`."""

    def render_project(name: str = "project", **answers: Any) -> Path:
        destination = tmp_path / name
        copier.run_copy(
            str(TEMPLATE),
            destination,
            data=answers,
            defaults=True,
            vcs_ref="HEAD",
            quiet=True,
            unsafe=False,
        )
        return destination

    return render_project


def run_project_checks(project: Path) -> subprocess.CompletedProcess[str]:
    """Lint the rendered project and run its own test suite in this environment."""
    python = sys.executable
    run([python, "-m", "ruff", "check", "--no-cache", "."], project)
    run([python, "-m", "ruff", "format", "--check", "--no-cache", "."], project)
    # This environment has the projects' dependencies; src/ on the path stands in for an install.
    return run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        project,
        PYTHONPATH=str(project / "src"),
    )
