"""Release the template: check the repository, run the suite, create the annotated tag.

Usage: python3 scripts/release.py VERSION     (e.g. 0.2.0; the tag is v0.2.0)

Before it, rename CHANGELOG.md's "## [Unreleased]" section to "## [VERSION] - YYYY-MM-DD" (and
start a new, empty "## [Unreleased]" above it) and commit. Afterwards push the tag.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def git(*args: str) -> str:
    """Run git in the repository and return its output."""
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


def problems(version: str) -> list[str]:
    """What stops `version` from being released now, in words; none when it can be."""
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        return [f"{version!r} is not a version: write MAJOR.MINOR.PATCH, such as 0.2.0."]
    found = []
    if git("status", "--porcelain"):
        found.append("The working tree has uncommitted changes: commit or stash them first.")
    if git("tag", "--list", f"v{version}"):
        found.append(f"The tag v{version} exists already.")
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    heading = rf"^## \[{re.escape(version)}\] - \d{{4}}-\d{{2}}-\d{{2}}$"
    # The section runs to the next version's heading: its notes are the list items in it.
    section = re.search(rf"{heading}\n(.*?)(?=^## |\Z)", changelog, re.M | re.S)
    if not section:
        found.append(f'CHANGELOG.md has no "## [{version}] - YYYY-MM-DD" section.')
    elif not re.search(r"^\s*[-*] \S", section[1], re.M):
        found.append(f"CHANGELOG.md's section for {version} lists no changes: say what it brings.")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version")
    version = parser.parse_args().version
    if found := problems(version):
        print("\n".join(found), file=sys.stderr)
        return 1
    # The same suite CI runs; a release of a commit that fails it would ship the failure.
    if subprocess.run([sys.executable, "-m", "pytest", "-q"], cwd=ROOT, check=False).returncode:
        print("The test suite failed: nothing was tagged.", file=sys.stderr)
        return 1
    git("tag", "--annotate", f"v{version}", "--message", f"flask-streaming-template {version}")
    print(f"Tagged v{version} at {git('rev-parse', '--short', 'HEAD').strip()}.")
    print(f"Push it: git push origin v{version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
