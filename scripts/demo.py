"""Render the default project into a folder, install it, seed it and serve it on 127.0.0.1.

Usage: python3 scripts/demo.py [FOLDER] [--port PORT]   (default: demo-app on port 8000)
Needs only Python 3.11+ and git.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent
ROWS = 100_000


def step(message: str, *command: str | Path, cwd: Path = TEMPLATE) -> None:
    """Print what is about to happen, then run it, stopping at the first failure."""
    print(f"==> {message}", flush=True)
    subprocess.run([str(part) for part in command], cwd=cwd, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default="demo-app", type=Path)
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    destination = args.folder.resolve()
    tools = TEMPLATE / ".venv"
    if not (tools / "bin" / "copier").exists():
        step("Creating .venv with copier", sys.executable, "-m", "venv", tools)
        step("Upgrading pip", tools / "bin" / "python", "-m", "pip", "install", "-q", "-U", "pip")
        step(
            "Installing copier",
            tools / "bin" / "python",
            "-m",
            "pip",
            "install",
            "-q",
            "--group",
            "demo",
        )
    step(
        f"Rendering the default project into {destination}",
        tools / "bin" / "copier",
        "copy",
        "--defaults",
        "--overwrite",
        "--quiet",
        "--vcs-ref",
        "HEAD",
        TEMPLATE,
        destination,
    )

    answers = (destination / ".copier-answers.yml").read_text(encoding="utf-8")
    package = next(
        line.split(":", 1)[1].strip()
        for line in answers.splitlines()
        if line.startswith("package_name:")
    )
    venv = destination / ".venv"
    # From here on: the generated README's instructions, word for word.
    if not (venv / "bin" / "flask").exists():
        # The README's pip way (this machine may not have uv).
        step("python3 -m venv .venv", sys.executable, "-m", "venv", venv, cwd=destination)
        pip = venv / "bin" / "pip"
        step("pip install -U pip", pip, "install", "-q", "-U", "pip", cwd=destination)
        step(
            "pip install -e . --group dev",
            pip,
            "install",
            "-q",
            "-e",
            ".",
            "--group",
            "dev",
            cwd=destination,
        )
    flask = venv / "bin" / "flask"
    step(f"flask --app {package} init-db", flask, "--app", package, "init-db", cwd=destination)
    step(
        f"flask --app {package} seed-db --rows {ROWS}",
        flask,
        "--app",
        package,
        "seed-db",
        "--rows",
        str(ROWS),
        cwd=destination,
    )

    base = f"http://127.0.0.1:{args.port}"
    print(
        f"""
Serving {destination.name} at {base}/ with its production server (Ctrl-C stops it). Try:
    curl -N '{base}/large.csv?limit=5'
    curl -sS -o /dev/null -w '%{{size_download}} bytes in %{{time_total}}s\\n' {base}/large.csv
    curl -N '{base}/timeline?limit=20'
    curl -N '{base}/stream?name=World'
    open {base}/ in a browser for the index of every endpoint
""",
        flush=True,
    )
    os.chdir(destination)
    # gunicorn reads gunicorn.conf.py from the project folder, as the generated README says.
    os.environ["BIND"] = f"127.0.0.1:{args.port}"
    os.execv(venv / "bin" / "gunicorn", ["gunicorn", f"{package}:create_app()"])


if __name__ == "__main__":
    main()
