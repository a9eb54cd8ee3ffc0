"""scripts/release.py, run in a scratch repository shaped like this one."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import TEMPLATE

IDENTITY = ["-c", "user.name=Release Tests", "-c", "user.email=release@example.com"]
# The script's own git calls (commit-free) need no identity; the tag it makes does.
IDENTITY_ENV = {"GIT_COMMITTER_NAME": "Release Tests", "GIT_COMMITTER_EMAIL": "release@example.com"}
CHANGELOG = "# Changelog\n\n## [Unreleased]\n\n## [0.2.0] - 2026-11-25\n\n- Things.\n"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *IDENTITY, *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A committed repository with the script, a CHANGELOG for 0.2.0 and a passing test."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(TEMPLATE / "scripts/release.py", tmp_path / "scripts/release.py")
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_it.py").write_text("def test_it() -> None:\n    assert True\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "Release candidate")
    return tmp_path


def release(repo: Path, version: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "scripts/release.py", version],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "GIT_CONFIG_GLOBAL": "/dev/null", **IDENTITY_ENV},
    )


def test_a_clean_tested_version_with_notes_is_tagged(repo: Path) -> None:
    result = release(repo, "0.2.0")
    assert result.returncode == 0, result.stderr
    assert "Tagged v0.2.0" in result.stdout
    assert git(repo, "cat-file", "-t", "v0.2.0").strip() == "tag"  # annotated
    assert git(repo, "rev-parse", "v0.2.0^{commit}") == git(repo, "rev-parse", "HEAD")


@pytest.mark.parametrize(
    ("change", "version", "message"),
    [
        ("dirty", "0.2.0", "uncommitted changes"),
        ("none", "0.3.0", 'CHANGELOG.md has no "## [0.3.0] - YYYY-MM-DD" section.'),
        ("none", "v0.2", "is not a version"),
        ("failing test", "0.2.0", "The test suite failed: nothing was tagged."),
        ("tagged", "0.2.0", "The tag v0.2.0 exists already."),
        ("empty notes", "0.2.0", "CHANGELOG.md's section for 0.2.0 lists no changes"),
        ("headings only", "0.2.0", "CHANGELOG.md's section for 0.2.0 lists no changes"),
    ],
)
def test_what_is_not_ready_is_not_tagged(repo: Path, change, version, message) -> None:
    if change == "dirty":
        (repo / "notes.txt").write_text("draft\n")
    elif change == "failing test":
        (repo / "tests/test_it.py").write_text("def test_it() -> None:\n    assert False\n")
        git(repo, "commit", "-q", "-am", "Break it")
    elif change in ("empty notes", "headings only"):
        # The next version's notes below must not count for this one.
        notes = "\n" if change == "empty notes" else "### Added\n\n### Fixed\n"
        changelog = (
            CHANGELOG.replace("\n- Things.\n", notes) + "\n## [0.1.0] - 2026-11-01\n\n- Old.\n"
        )
        (repo / "CHANGELOG.md").write_text(changelog)
        git(repo, "commit", "-q", "-am", "Empty notes")
    elif change == "tagged":
        git(repo, "tag", "-a", "v0.2.0", "-m", "earlier")
    tags = git(repo, "tag")
    result = release(repo, version)
    assert result.returncode == 1
    assert message in result.stderr
    assert git(repo, "tag") == tags
