"""Render answer combinations, check the exact files, then lint and test each project."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from .conftest import ALL_RECIPES, PYTEST, run, run_project_checks

BASE_FILES = {
    ".copier-answers.yml",
    ".python-version",
    ".github/dependabot.yml",
    ".github/workflows/ci.yml",
    ".github/workflows/template-update.yml",
    ".pre-commit-config.yaml",
    ".dockerignore",
    ".gitignore",
    "Dockerfile",
    "compose.yaml",
    "README.md",
    "deploy/nginx.conf",
    "pyproject.toml",
    "src/{pkg}/__init__.py",
    "src/{pkg}/db_interface.py",
    "src/{pkg}/db.py",
    "src/{pkg}/lifecycle.py",
    "src/{pkg}/main.py",
    "src/{pkg}/params.py",
    "src/{pkg}/py.typed",
    "src/{pkg}/seed.py",
    "src/{pkg}/settings.py",
    "src/{pkg}/streaming.py",
    "src/{pkg}/formats.py",
    "src/{pkg}/cooperative.py",
    "src/{pkg}/limits.py",
    "src/{pkg}/static/favicon.svg",
    "src/{pkg}/static/style.css",
    "src/{pkg}/templates/base.html",
    "src/{pkg}/templates/index.html",
    "tests/__init__.py",
    "tests/conftest.py",
    "tests/test_factory.py",
    "tests/test_no_conflicts.py",
    "tests/test_params.py",
    "tests/test_formats.py",
    "tests/test_streaming.py",
    "tests/test_db.py",
    "tests/live.py",
    "tests/fixtures/__init__.py",
    "scripts/serving.py",
}
RECIPE_FILES = {
    "csv_export": {
        "src/{pkg}/csv_export.py",
        "src/{pkg}/templates/recipes/csv_export.html",
        "tests/test_csv_export.py",
        "tests/test_live_csv_export.py",
    },
    "template_stream": {
        "src/{pkg}/template_stream.py",
        "src/{pkg}/templates/timeline.html",
        "src/{pkg}/templates/recipes/template_stream.html",
        "tests/test_template_stream.py",
        "tests/test_live_template_stream.py",
    },
    "context_stream": {
        "src/{pkg}/context_stream.py",
        "src/{pkg}/templates/recipes/context_stream.html",
        "tests/test_context_stream.py",
        "tests/test_live_context_stream.py",
    },
    "sse": {
        "src/{pkg}/sse.py",
        "src/{pkg}/broadcast.py",
        "scripts/bench_sse.py",
        "src/{pkg}/templates/sse_demo.html",
        "src/{pkg}/templates/recipes/sse.html",
        "tests/test_sse.py",
        "tests/test_broadcast.py",
        "tests/test_live_sse.py",
        "tests/fixtures/sse.py",
        "tests/fixtures/shutdown.py",
        "tests/test_live_shutdown.py",
    },
    "ndjson": {
        "src/{pkg}/ndjson.py",
        "src/{pkg}/templates/recipes/ndjson.html",
        "tests/test_ndjson.py",
        "tests/test_live_ndjson.py",
    },
    "zip_export": {
        "src/{pkg}/zip_export.py",
        "src/{pkg}/templates/recipes/zip_export.html",
        "tests/test_zip_export.py",
        "tests/test_live_zip_export.py",
    },
    "csv_import": {
        "src/{pkg}/csv_import.py",
        "src/{pkg}/cells.py",
        "src/{pkg}/uploads.py",
        "scripts/bench_import.py",
        "src/{pkg}/templates/import.html",
        "src/{pkg}/templates/recipes/csv_import.html",
        "tests/test_csv_import.py",
        "tests/test_csv_import_refusals.py",
        "tests/test_live_csv_import.py",
        "tests/fixtures/csv_import.py",
    },
    "token_relay": {
        "src/{pkg}/token_relay.py",
        "src/{pkg}/chat_upstream.py",
        "src/{pkg}/fake_chat.py",
        "scripts/bench_relay.py",
        "src/{pkg}/templates/chat_demo.html",
        "src/{pkg}/templates/recipes/token_relay.html",
        "tests/test_token_relay.py",
        "tests/test_chat_upstream.py",
        "tests/test_live_token_relay.py",
        "tests/fake_upstream.py",
        "tests/fixtures/token_relay.py",
    },
}
# Modules that more than one recipe needs.
SHARED_FILES = {
    "src/{pkg}/orders.py": {"csv_export", "ndjson", "zip_export", "csv_import"},
    "src/{pkg}/events.py": {"template_stream", "context_stream", "sse", "zip_export"},
    "tests/test_orders.py": {"csv_export", "ndjson", "zip_export", "csv_import"},
    "scripts/bench_exports.py": {"csv_export", "ndjson", "template_stream", "zip_export"},
    # The recipes whose live tests use the shared live_server: all but these two.
    "tests/test_live_server.py": set(ALL_RECIPES) - {"csv_import", "token_relay"},
}
# Tests of where two recipes meet: rendered with both.
PAIR_FILES = {
    "tests/test_zip_export_and_csv_export.py": {"zip_export", "csv_export"},
    "tests/test_csv_import_and_csv_export.py": {"csv_import", "csv_export"},
    "tests/test_live_shutdown_download.py": {"sse", "csv_export"},
}
SERVER_FILES = {
    "gunicorn": {"gunicorn.conf.py", "tests/test_gunicorn_conf.py"},
    "waitress": {"src/{pkg}/serve.py", "tests/test_serve.py"},
}
DEFAULT_RECIPES = ALL_RECIPES[:3]

CASES = {
    "defaults": {},
    "every recipe": {"recipes": ALL_RECIPES},
    "csv_export only": {"recipes": ["csv_export"]},
    "template_stream only": {"recipes": ["template_stream"]},
    "context_stream only": {"recipes": ["context_stream"]},
    "sse only": {"recipes": ["sse"]},
    "ndjson only": {"recipes": ["ndjson"]},
    # Both without csv_export, whose settings and shared modules they must not need.
    "zip_export and csv_import": {"recipes": ["zip_export", "csv_import"]},
    "token_relay only": {"recipes": ["token_relay"]},
    "no recipe": {"recipes": []},
    "every recipe, waitress": {"recipes": ALL_RECIPES, "wsgi_server": "waitress"},
    "postgresql, every recipe": {"database": "postgresql", "recipes": ALL_RECIPES},
    "postgresql, waitress, csv_export only": {
        "database": "postgresql",
        "wsgi_server": "waitress",
        "recipes": ["csv_export"],
    },
    "waitress": {"wsgi_server": "waitress"},
    "python 3.12, waitress, two recipes": {
        "python_version": "3.12",
        "wsgi_server": "waitress",
        "recipes": ["template_stream", "csv_export"],
    },
    "sqlalchemy, every recipe": {"data_layer": "sqlalchemy", "recipes": ALL_RECIPES},
    "sqlalchemy, postgresql, every recipe": {
        "data_layer": "sqlalchemy",
        "database": "postgresql",
        "recipes": ALL_RECIPES,
    },
    "python 3.13, other names": {
        "python_version": "3.13",
        "project_name": "Inventory Feed",
        "author_name": 'Zoë "Z" Doe',
        "description": 'Streams the warehouse\'s stock, "live".',
    },
}


# What each data layer brings: SQL and schema.sql, or the models and their migrations.
DATA_LAYER_FILES = {
    "dbapi": {"src/{pkg}/schema.sql"},
    "sqlalchemy": {
        "src/{pkg}/models.py",
        "src/{pkg}/migrations/env.py",
        "src/{pkg}/migrations/script.py.mako",
        "src/{pkg}/migrations/versions/0001_orders_and_events.py",
        "src/{pkg}/migrations/versions/0002_notify_new_events.py",
        "tests/test_models.py",
        "scripts/bench_data_layers.py",
    },
}


def expected_files(
    package: str,
    recipes: list[str],
    server: str,
    database: str = "sqlite",
    data_layer: str = "dbapi",
) -> set[str]:
    names = (
        set(BASE_FILES)
        | SERVER_FILES[server]
        | {
            f"src/{{pkg}}/db_{database}.py",
            f"tests/fixtures/{database}.py",
            f"tests/test_db_{database}.py",
        }
    )
    names |= DATA_LAYER_FILES[data_layer]
    if database == "postgresql":
        # The pool, on the production server; with dbapi, psycopg_pool's.
        names.add("tests/test_live_db_postgresql.py")
        if data_layer == "dbapi":
            names.add("src/{pkg}/pool.py")
    if server == "gunicorn" and {"csv_export", "template_stream", "ndjson", "zip_export"} & set(
        recipes
    ):
        names.add("tests/test_live_gunicorn.py")
    for recipe in recipes:
        names |= RECIPE_FILES[recipe]
    names |= {name for name, users in SHARED_FILES.items() if users & set(recipes)}
    names |= {name for name, pair in PAIR_FILES.items() if pair <= set(recipes)}
    return {name.format(pkg=package) for name in names}


def found(pattern: str, text: str, flags: int = 0) -> str:
    """The first group of `pattern`'s first match in `text`; fail if there is none."""
    match = re.search(pattern, text, flags)
    assert match is not None, pattern
    return match[1]


def check_github_files(project: Path) -> None:
    """Validate the workflows and Dependabot config against their schemas, offline."""
    checker = [sys.executable, "-m", "check_jsonschema", "--builtin-schema"]
    workflows = sorted(str(path) for path in (project / ".github/workflows").glob("*.yml"))
    run([*checker, "vendor.github-workflows", *workflows], project)
    run([*checker, "vendor.dependabot", str(project / ".github/dependabot.yml")], project)
    ci = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    # The oldest Python the project supports, and the newest.
    versions = ci["jobs"]["test"]["strategy"]["matrix"]["python-version"]
    assert versions == sorted({answers["python_version"], "3.13"})
    steps = [step.get("run") for step in ci["jobs"]["lint"]["steps"] + ci["jobs"]["test"]["steps"]]
    checks = {"uv run ruff check .", "uv run ruff format --check .", "uv run mypy", "uv run pytest"}
    assert checks <= set(steps)
    postgres = answers["database"] == "postgresql"
    assert ("services" in ci["jobs"]["test"]) == postgres
    if postgres:
        assert ci["jobs"]["test"]["env"]["REQUIRE_POSTGRES"] == "1"


def check_compose(project: Path) -> None:
    """Validate compose.yaml offline; check it against the Dockerfile, nginx.conf and README."""
    checker = [sys.executable, "-m", "check_jsonschema", "--builtin-schema"]
    run([*checker, "vendor.compose-spec", str(project / "compose.yaml")], project)
    compose = yaml.safe_load((project / "compose.yaml").read_text())
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    app, proxy = compose["services"]["app"], compose["services"]["proxy"]
    # nginx, in the app's network, reaches the port the image's server listens on.
    nginx = (project / "deploy/nginx.conf").read_text()
    dockerfile = (project / "Dockerfile").read_text()
    assert "server 127.0.0.1:8000;" in nginx and "listen 80;" in nginx
    assert "EXPOSE 8000" in dockerfile and "0.0.0.0:8000" in dockerfile
    assert proxy["network_mode"] == "service:app"
    assert app["ports"] == ["127.0.0.1:8080:80"]
    assert proxy["volumes"] == ["./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro"]
    assert proxy["depends_on"] == {"app": {"condition": "service_healthy"}}
    assert "HEALTHCHECK" in dockerfile
    # The commands in its header are the README's.
    readme = (project / "README.md").read_text()
    header = (project / "compose.yaml").read_text().splitlines()[1:3]
    commands = [line.removeprefix("#").strip() for line in header]
    assert all(f"  {command}\n" in readme for command in commands), commands
    package = answers["package_name"]
    assert commands[0] == f"docker compose run --rm app flask --app {package} seed-db --rows 100000"
    if answers["database"] == "postgresql":
        db = compose["services"]["db"]
        assert "pg_isready" in " ".join(db["healthcheck"]["test"])
        assert app["depends_on"] == {"db": {"condition": "service_healthy"}}
        database = db["environment"]["POSTGRES_DB"]
        assert app["environment"]["DATABASE_URL"].endswith(f"@db:5432/{database}")
    else:
        assert app["volumes"] == ["data:/data"]
        assert "FLASK_DATABASE=/data/" in dockerfile


def check_markdown_layout(text: str) -> None:
    """Headings, tables and code blocks stand apart from what is around them, as Markdown needs."""
    lines = text.splitlines()
    fenced = False
    for number, line in enumerate(lines, start=1):
        previous = lines[number - 2] if number > 1 else ""
        where = f"line {number}: {line!r} after {previous!r}"
        if line.startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        if line.startswith("#") or (line.startswith("|") and not previous.startswith("|")):
            assert number == 1 or previous == "", where
        if previous.startswith("|") and not line.startswith("|"):
            assert line == "", where
        assert "|#" not in line.replace(" ", ""), where
    assert not fenced, "a code block is not closed"


def check_commit_hooks(project: Path) -> None:
    """Run every pre-commit hook over the fresh project, as its first commit would."""
    run(["git", "init", "-q"], project)
    run(["git", "add", "-A"], project)
    # The hooks run the dev tools of the active environment, as in an activated virtualenv.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    # mypy runs in run_project_checks: once is enough.
    hooks = run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files"], project, PATH=path, SKIP="mypy"
    )
    assert "Failed" not in hooks.stdout
    assert hooks.stdout.count("Passed") == 7
    assert "mypy" in hooks.stdout


@pytest.mark.slow
@pytest.mark.parametrize("answers", CASES.values(), ids=CASES.keys())
def test_rendered_project_passes_its_own_checks(render, answers) -> None:
    project = render(**answers)
    stored = yaml.safe_load((project / ".copier-answers.yml").read_text())
    package = stored["package_name"]
    recipes = answers.get("recipes", DEFAULT_RECIPES)
    server = answers.get("wsgi_server", "gunicorn")
    assert stored["recipes"] == [recipe for recipe in ALL_RECIPES if recipe in recipes]

    files = {str(path.relative_to(project)) for path in project.rglob("*") if path.is_file()}
    database, data_layer = answers.get("database", "sqlite"), answers.get("data_layer", "dbapi")
    assert files == expected_files(package, recipes, server, database, data_layer)
    # Small modules with one job: none of the app's past 250 lines, no test file past 350.
    for name, most in (("src", 250), ("tests", 350)):
        sizes = {path: path.read_text().count("\n") for path in (project / name).rglob("*.py")}
        assert {str(path): size for path, size in sizes.items() if size > most} == {}

    metadata = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    assert metadata["name"] == stored["project_slug"]
    python = answers.get("python_version", "3.11")
    assert metadata["requires-python"] == f">={python}"
    # uv and pyenv read the version from .python-version.
    assert (project / ".python-version").read_text() == f"{python}\n"
    # The install steps make the virtual environment with the chosen Python, not any python3.
    assert f"\npython{python} -m venv .venv\n" in (project / "README.md").read_text()
    assert metadata["description"] == stored["description"]
    assert metadata["authors"] == [{"name": stored["author_name"], "email": stored["author_email"]}]
    assert any(dependency.startswith(server) for dependency in metadata["dependencies"])

    check_github_files(project)
    check_compose(project)
    check_markdown_layout((project / "README.md").read_text())
    check_commit_hooks(project)
    # Every recipe's live tests run on each server and database; the other renders run the rest.
    live = answers.get("recipes") == ALL_RECIPES
    result = run_project_checks(project, live=live)
    if recipes:
        assert ("deselected" in result.stdout) != live, result.stdout[-300:]
    assert " passed" in result.stdout and "failed" not in result.stdout


def test_defaults_derive_names_from_the_project_name(render) -> None:
    project = render(project_name="  Zoë's Sales: Q3 Reports! ")
    stored = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert stored["project_slug"] == "zoe-s-sales-q3-reports"
    assert stored["package_name"] == "zoe_s_sales_q3_reports"


def test_pyproject_keeps_answers_as_utf8_and_valid_toml(render) -> None:
    description = 'Zoë\'s "café" <reports> & C:\\data\tnow\x7f'
    project = render(description=description, author_name="José Núñez")
    text = (project / "pyproject.toml").read_text(encoding="utf-8")
    assert 'name = "José Núñez"' in text
    metadata = tomllib.loads(text)["project"]
    # TOML allows a tab in a basic string, not the other control characters: they become spaces.
    assert metadata["description"] == description.replace("\x7f", " ")
    assert metadata["authors"][0]["name"] == "José Núñez"


@pytest.mark.parametrize(
    ("project_name", "slug", "package"),
    [
        ("Café Reports", "cafe-reports", "cafe_reports"),
        ("Zoë's Straße Øl", "zoe-s-strasse-ol", "zoe_s_strasse_ol"),
        ("Łódź Sales", "lodz-sales", "lodz_sales"),
    ],
)
def test_accented_letters_become_their_base_letter(render, project_name, slug, package) -> None:
    project = render(project_name=project_name)
    stored = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert (stored["project_slug"], stored["package_name"]) == (slug, package)
    assert (project / "src" / package / "__init__.py").exists()


def test_a_slug_starting_with_a_digit_gives_a_valid_package_name(render) -> None:
    project = render(project_name="3D Prints")
    stored = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert (stored["project_slug"], stored["package_name"]) == ("3d-prints", "_3d_prints")


@pytest.mark.parametrize("server", ["gunicorn", "waitress"])
def test_dockerfile_runs_the_readme_production_command(render, server) -> None:
    project = render(wsgi_server=server)
    readme = (project / "README.md").read_text()
    production = found(r"Production server on .*?```sh\n(.*?)\n```", readme, re.DOTALL)
    dockerfile = (project / "Dockerfile").read_text()
    command = json.loads(found(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE))
    # The container listens on every interface; locally the README binds to the loopback.
    assert [part.replace("0.0.0.0", "127.0.0.1") for part in command] == shlex.split(production)
    assert "FROM python:3.11-slim" in dockerfile
    # The health check asks the port the server listens on for /healthz.
    check = json.loads(found(r"^    CMD (\[.*\])$", dockerfile, re.MULTILINE))
    assert "http://127.0.0.1:8000/healthz" in check[-1]
    assert "0.0.0.0:8000" in dockerfile  # gunicorn's BIND, or waitress's --listen


@pytest.mark.slow
def test_postgresql_tests_skip_or_fail_without_a_server(render) -> None:
    project = render(database="postgresql", recipes=["csv_export"])
    command = [*PYTEST, "-rs", "tests"]
    env = {
        **os.environ,
        "PYTHONPATH": str(project / "src"),
        "DATABASE_URL": "postgresql://127.0.0.1:1/nowhere?connect_timeout=2",
    }
    env.pop("REQUIRE_POSTGRES", None)
    skipped = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    assert skipped.returncode == 0, skipped.stdout
    assert "PostgreSQL is not reachable at DATABASE_URL=" in skipped.stdout
    assert " passed" in skipped.stdout  # what needs no database still runs
    required = subprocess.run(
        command, cwd=project, env={**env, "REQUIRE_POSTGRES": "1"}, capture_output=True, text=True
    )
    assert required.returncode == 1
    assert "PostgreSQL is not reachable at DATABASE_URL=" in required.stdout


@pytest.mark.slow
def test_the_projects_own_settings_leave_its_tests_passing(render) -> None:
    # settings.py is the user's: documented values there must not break the shipped tests,
    # the live ones included (their servers start from the defaults, as the unit tests do).
    project = render()
    settings = project / "src" / "sales_reports" / "settings.py"
    settings.write_text(settings.read_text() + "CSV_BOM = True\nSTREAM_FETCH_SIZE = 5_000\n")
    result = run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "csv or large"],
        project,
        PYTHONPATH=str(project / "src"),
    )
    assert " passed" in result.stdout and "failed" not in result.stdout
