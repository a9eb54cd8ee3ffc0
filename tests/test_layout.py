"""The template's own layout: plain file names, one map of answers to files, lintable Python."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jinja2
import pytest
import yaml

from .conftest import ALL_RECIPES, MYPY_CACHE, TEMPLATE, run
from .test_render import DEFAULT_RECIPES, expected_files

SOURCES = TEMPLATE / "template"
# The only templated names: the package folder and the answers file.
TEMPLATED_NAMES = {"{{ package_name }}", "{{ _copier_conf.answers_file }}.jinja"}
# Excluded whatever the answers: files that tools leave behind.
NEVER_COPIED = {"__pycache__", "*.py[co]", ".DS_Store"}


def excluded_paths(**answers: object) -> set[str]:
    """The paths copier.yml's `_exclude` renders to for these answers."""
    config = yaml.safe_load((TEMPLATE / "copier.yml").read_text())
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined)
    rendered = (environment.from_string(entry).render(**answers) for entry in config["_exclude"])
    return {line.strip() for entry in rendered for line in entry.splitlines() if line.strip()}


def test_every_name_under_template_is_plain() -> None:
    for path in SOURCES.rglob("*"):
        name = path.name
        assert "{%" not in name, f"{path.relative_to(TEMPLATE)}: a condition belongs in _exclude"
        assert "{{" not in name or name in TEMPLATED_NAMES, path.relative_to(TEMPLATE)


def test_every_excluded_path_names_a_template_file() -> None:
    # With no recipe and the other server, every conditional entry renders its paths.
    answers = {"recipes": [], "wsgi_server": "waitress", "database": "sqlite"}
    paths = set()
    for data_layer in ("dbapi", "sqlalchemy"):
        chosen = {**answers, "data_layer": data_layer}
        paths |= excluded_paths(package_name="{{ package_name }}", **chosen) - NEVER_COPIED
    assert {"src/{{ package_name }}/sse.py", "gunicorn.conf.py"} <= paths
    assert {"src/{{ package_name }}/models.py", "src/{{ package_name }}/schema.sql"} <= paths
    for path in paths:
        source = SOURCES / path
        assert source.exists() or source.with_name(source.name + ".jinja").is_file(), path


def test_a_full_answer_set_excludes_nothing_but_the_other_servers_and_databases_files() -> None:
    answers = {"recipes": ALL_RECIPES, "database": "sqlite", "data_layer": "dbapi"}
    sqlalchemy_files = {
        "src/pkg/models.py",
        "src/pkg/migrations",
        "tests/test_models.py",
        "scripts/bench_data_layers.py",
    }
    other_database = {
        "src/pkg/pool.py",
        "src/pkg/db_postgresql.py",
        "tests/fixtures/postgresql.py",
        "tests/test_db_postgresql.py",
        "tests/test_live_db_postgresql.py",
    }
    gunicorn = excluded_paths(package_name="pkg", wsgi_server="gunicorn", **answers)
    waitress_files = {"src/pkg/serve.py", "tests/test_serve.py"}
    assert gunicorn == NEVER_COPIED | other_database | waitress_files | sqlalchemy_files
    waitress = excluded_paths(package_name="pkg", wsgi_server="waitress", **answers)
    gunicorn_files = {
        "gunicorn.conf.py",
        "tests/test_gunicorn_conf.py",
        "tests/test_live_gunicorn.py",
    }
    assert waitress == NEVER_COPIED | other_database | gunicorn_files | sqlalchemy_files
    everything = {"package_name": "pkg", "wsgi_server": "gunicorn", "recipes": ALL_RECIPES}
    postgresql = excluded_paths(**everything, database="postgresql", data_layer="dbapi")
    sqlite_files = {"src/pkg/db_sqlite.py", "tests/fixtures/sqlite.py", "tests/test_db_sqlite.py"}
    assert postgresql == NEVER_COPIED | sqlite_files | waitress_files | sqlalchemy_files
    # With SQLAlchemy, the models and migrations instead of schema.sql, and its pool instead.
    sqlalchemy = excluded_paths(**everything, database="postgresql", data_layer="sqlalchemy")
    dbapi_files = {"src/pkg/schema.sql", "src/pkg/pool.py"}
    assert sqlalchemy == NEVER_COPIED | sqlite_files | waitress_files | dbapi_files


def test_plain_python_in_the_template_passes_ruff() -> None:
    python = sys.executable
    checked = run(
        [python, "-m", "ruff", "check", "--no-cache", "--show-files", "template"], TEMPLATE
    )
    # The recipe modules are plain Python now, so the template's own lint reaches them.
    for module in ("csv_export.py", "sse.py", "orders.py", "streaming.py", "db_sqlite.py"):
        assert f"/{module}\n" in checked.stdout
    run([python, "-m", "ruff", "check", "--no-cache", "template"], TEMPLATE)
    run([python, "-m", "ruff", "format", "--check", "--no-cache", "template"], TEMPLATE)


@pytest.mark.install
def test_the_minimum_copier_renders_the_exact_files_and_the_one_before_refuses(
    tmp_path: Path,
) -> None:
    minimum = yaml.safe_load((TEMPLATE / "copier.yml").read_text())["_min_copier_version"]
    for version in (minimum, "9.17.2"):
        venv = tmp_path / version
        run([sys.executable, "-m", "venv", str(venv)], tmp_path)
        run(
            [str(venv / "bin/python"), "-m", "pip", "install", "-q", f"copier=={version}"], tmp_path
        )
    command = ["copy", "--defaults", "--vcs-ref", "HEAD", "--quiet", str(TEMPLATE)]

    run([str(tmp_path / minimum / "bin/copier"), *command, str(tmp_path / "app")], tmp_path)
    files = {str(path.relative_to(tmp_path / "app")) for path in (tmp_path / "app").rglob("*")}
    files = {name for name in files if (tmp_path / "app" / name).is_file()}
    assert files == expected_files("sales_reports", DEFAULT_RECIPES, "gunicorn")

    # 9.17 would keep every file of a multi-line _exclude entry: it must refuse instead.
    older = subprocess.run(
        [str(tmp_path / "9.17.2/bin/copier"), *command, str(tmp_path / "old")],
        capture_output=True,
        text=True,
    )
    assert older.returncode != 0
    assert f"requires Copier version >= {minimum}" in older.stdout + older.stderr
    assert not (tmp_path / "old").exists()


def test_the_template_repository_lints_and_type_checks() -> None:
    python = sys.executable
    run([python, "-m", "ruff", "check", "--no-cache", "."], TEMPLATE)
    run([python, "-m", "ruff", "format", "--check", "--no-cache", "."], TEMPLATE)
    # [tool.mypy] in pyproject.toml: scripts/ and tests/, strict. The cache stays out of the
    # repository: Copier adds every untracked file of a template checkout while it copies.
    run([python, "-m", "mypy", "--cache-dir", str(MYPY_CACHE / "template")], TEMPLATE)
    checker = [python, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows"]
    run([*checker, str(TEMPLATE / ".github/workflows/ci.yml")], TEMPLATE)
