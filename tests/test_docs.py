"""The documentation builds strictly, its plot is reproducible, and its code matches the output."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import copier
import pytest

from .conftest import (
    ALL_RECIPES,
    PYTEST,
    TEMPLATE,
    free_port,
    run,
    run_project_checks,
    stop,
    wait_for,
)

DOCS = TEMPLATE / "docs"
SOURCE_BLOCK = re.compile(r"<!-- source: (?:(\w+):)?(\S+) -->\n```\w*\n(.*?)\n```", re.DOTALL)
EXAMPLE_BLOCK = re.compile(r"<!-- example: (\S+) -->\n```\w*\n(.*?)\n```", re.DOTALL)
CONSOLE_BLOCK = re.compile(r"<!-- console -->\n```console\n(.*?)\n```", re.DOTALL)
# What changes from one run or machine to the next: an import's seconds, a zip listing's
# times, the database's path.
VOLATILE = [
    (re.compile(r'"seconds":[0-9.]+'), '"seconds":S'),
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d(?!:)"), "YYYY-MM-DD HH:MM"),
    (re.compile(r"database at /\S+"), "database at PATH"),
]
# The quickstart's server; the test serves the same command on a free port.
QUICKSTART_ADDRESS = "127.0.0.1:5000"
SETTING_ROW = re.compile(r"^\| `([A-Z][A-Z0-9_]+)` \| ([^|]*) \|", re.MULTILINE)


def test_mkdocs_build_is_strict_and_clean(tmp_path: Path) -> None:
    run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)], TEMPLATE
    )
    assert (tmp_path / "recipes" / "csv-export" / "index.html").exists()
    assert "Quickstart" in (tmp_path / "index.html").read_text()


@pytest.mark.parametrize("served", ["gunicorn-sqlite", "gunicorn-postgresql", "waitress-sqlite"])
def test_benchmark_plot_is_drawn_from_the_committed_output(tmp_path: Path, served: str) -> None:
    output = DOCS / "benchmarks" / f"exports-{served}.txt"
    plot = tmp_path / "plot.svg"
    run([sys.executable, "scripts/plot_bench.py", str(output), str(plot)], TEMPLATE)
    assert plot.read_text() == output.with_suffix(".svg").read_text()
    # Every endpoint, every variant: a bar each, with its value written on it.
    assert plot.read_text().count("<rect x=") >= 4 * 3 + 4 * 2 + 4 * 2
    assert "Time to first byte at 1,000,000 rows" in plot.read_text()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Projects with every recipe, one per database and one with SQLAlchemy, as the docs' code
    comes from them (a block's `<!-- source: NAME:path -->` names its project)."""
    projects = {}
    variants = {
        "sqlite": {"database": "sqlite"},
        "postgresql": {"database": "postgresql"},
        "sqlalchemy": {"database": "sqlite", "data_layer": "sqlalchemy"},
    }
    for name, answers in variants.items():
        destination = tmp_path_factory.mktemp("docs") / name
        copier.run_copy(
            str(TEMPLATE),
            destination,
            data={"recipes": ALL_RECIPES, **answers},
            defaults=True,
            vcs_ref="HEAD",
            quiet=True,
        )
        projects[name] = destination
    return projects


def matches_in_docs(pattern: re.Pattern[str]) -> list[tuple[Path, re.Match[str]]]:
    """Each match of `pattern` on the documentation's pages, with its page."""
    return [
        (page, match)
        for page in sorted(DOCS.rglob("*.md"))
        for match in pattern.finditer(page.read_text())
    ]


def test_code_in_the_docs_is_the_generated_code(rendered: dict[str, Path]) -> None:
    blocks = matches_in_docs(SOURCE_BLOCK)
    assert len(blocks) >= 12
    for page, match in blocks:
        database, source, code = match.groups()
        generated = (rendered[database or "sqlite"] / source).read_text()
        assert code in generated, f"{page.relative_to(TEMPLATE)}: no longer matches {source}"


def test_a_changed_snippet_would_be_caught(rendered: dict[str, Path]) -> None:
    page = (DOCS / "recipes" / "csv-export.md").read_text()
    match = SOURCE_BLOCK.search(page)
    assert match is not None
    (_, source, code) = match.groups()
    assert (
        code.replace("CSV_BOM", "CSV_BYTE_ORDER_MARK")
        not in (rendered["sqlite"] / source).read_text()
    )


def test_the_index_includes_the_readme() -> None:
    assert (DOCS / "index.md").read_text().startswith('--8<-- "README.md"')
    assert (
        subprocess.run(["git", "ls-files", "--error-unmatch", "README.md"], cwd=TEMPLATE).returncode
        == 0
    )


@pytest.mark.slow
def test_the_streaming_view_of_your_own_works_as_shown(render) -> None:
    project = render()
    page = (DOCS / "working-in-your-project.md").read_text()
    examples = dict(EXAMPLE_BLOCK.findall(page))
    assert list(examples) == [
        "src/sales_reports/customers.py",
        "src/sales_reports/templates/recipes/customers.html",
        "tests/test_customers.py",
    ]
    for path, code in examples.items():
        (project / path).write_text(code + "\n")
    # Registered as the page says: its import line, as the factory must read, and the blueprint.
    factory = project / "src" / "sales_reports" / "__init__.py"
    code = factory.read_text()
    found = re.search(r"^from \. import .*$", code, re.MULTILINE)
    showing = re.search(r"^from \. import .*customers.*$", page, re.MULTILINE)
    assert found and showing
    imports, shown = found[0], showing[0]
    assert shown.replace(" customers,", "") == imports
    code = code.replace(imports, shown)
    registration = "    app.register_blueprint(customers.bp)\n"
    assert f"```python\n{shown}\n\n{registration}```" in page
    code = code.replace("\n    return app", f"{registration}\n    return app")
    factory.write_text(code)
    # ruff, mypy and the project's tests (the index among them), then the example's own tests.
    run_project_checks(project)
    tests = run([*PYTEST, "tests/test_customers.py"], project, PYTHONPATH=str(project / "src"))
    assert "4 passed" in tests.stdout, tests.stdout


def console_steps(block: str) -> list[tuple[str, str]]:
    """A console block's commands (`$ `, with `\\` continuations), each with what it prints."""
    steps: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps and steps[-1][0].endswith("\\") and not steps[-1][1]:
            steps[-1] = (f"{steps[-1][0]}\n{line}", [])
        else:
            steps[-1][1].append(line)
    return [(command, "\n".join(output)) for command, output in steps]


def steady(text: str) -> str:
    """The text with what changes between runs replaced by placeholders."""
    for pattern, placeholder in VOLATILE:
        text = pattern.sub(placeholder, text)
    return text.rstrip("\n")


@pytest.fixture(scope="module")
def quickstart_server(
    rendered: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, str]]]:
    """The quickstart's `flask run` of a project with every recipe; its address and environment."""
    project = rendered["sqlite"]
    database = tmp_path_factory.mktemp("console") / "quickstart.sqlite"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(project / "src"),
        "FLASK_DATABASE": str(database),
    }
    run([sys.executable, "-m", "flask", "--app", "sales_reports", "init-db"], project, **env)
    address = f"127.0.0.1:{free_port()}"
    command = ["flask", "--app", "sales_reports", "run", "--port", address.rsplit(":")[1]]
    process = subprocess.Popen(
        command, cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(f"http://{address}/healthz", process)
        yield address, env
    finally:
        stop(process)


CONSOLE_PAGES = sorted(
    page for page in DOCS.rglob("*.md") if "<!-- console -->" in page.read_text()
)


@pytest.mark.parametrize("page", CONSOLE_PAGES, ids=lambda page: page.stem)
def test_the_console_examples_print_what_they_show(
    page: Path, quickstart_server: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    address, env = quickstart_server
    # Each page starts from the quickstart's database: its examples may change it.
    seed = [sys.executable, "-m", "flask", "--app", "sales_reports", "seed-db", "--rows", "100000"]
    run(seed, tmp_path, **env)
    blocks = CONSOLE_BLOCK.findall(page.read_text())
    assert blocks
    for block in blocks:
        for command, shown in console_steps(block):
            served = command.replace(QUICKSTART_ADDRESS, address)
            result = subprocess.run(
                ["bash", "-c", served], cwd=tmp_path, env=env, capture_output=True, timeout=30
            )
            # As a terminal shows it: a CRLF line end is a line end.
            printed = result.stdout.decode().replace("\r\n", "\n")
            assert steady(printed) == steady(shown), f"{page.name}: {command}\n{result.stderr!r}"


def test_console_steps_split_commands_from_their_output() -> None:
    block = "$ curl -N a \\\n  -d b\nline 1\n\nline 3\n$ true"
    assert console_steps(block) == [("curl -N a \\\n  -d b", "line 1\n\nline 3"), ("true", "")]


def configured(project: Path) -> dict[str, object]:
    """The settings a rendered project starts with (the defaults of create_app and its recipes)."""
    ask = (
        "from sales_reports import create_app; "
        "print(repr({k: v for k, v in create_app({}).config.items() "
        "if isinstance(v, (str, int, float, type(None)))}))"
    )
    env = {"PYTHONPATH": str(project / "src"), "DATABASE_URL": "postgresql:///unused"}
    printed = run([sys.executable, "-c", ask], project, **env).stdout
    return {name: value for name, value in ast.literal_eval(printed).items()}


def documented_default(cell: str, config: dict[str, object]) -> object:
    """The value a settings table's default cell names: a literal, another setting, or unset."""
    if cell.startswith("unset"):
        return None
    token = re.match(r"`([^`]+)`", cell)
    assert token, f"a default must start with `value` or 'unset': {cell!r}"
    text = token.group(1)
    if text in config:
        return config[text]
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def test_settings_tables_show_the_defaults_of_the_code(rendered: dict[str, Path]) -> None:
    configs = {database: configured(rendered[database]) for database in ("sqlite", "postgresql")}
    rows = matches_in_docs(SETTING_ROW)
    assert len(rows) >= 25
    for page, match in rows:
        name, cell = match.group(1), match.group(2).strip()
        # "`250` (PostgreSQL: `1000`)", "`20`, PostgreSQL only", or one value for both.
        postgresql = re.search(r"PostgreSQL: (`[^`]+`)", cell)
        expected: dict[str, str | None] = {
            "sqlite": None if "PostgreSQL only" in cell else cell,
            "postgresql": postgresql.group(1) if postgresql else cell,
        }
        for database, config in configs.items():
            if (documented := expected[database]) is not None:
                value = documented_default(documented, config)
                assert config.get(name) == value, f"{page.name}: {name} on {database}"


FIGURE_ROW = re.compile(
    r"^\| `(/[\w.]+)` \| ([\d.]+) MB/s \| ([\d.]+) MB/s \| ([\d.]+)x \| (\d+)% \| ([\d.]+) MB,"
    r" ([\d.]+) MB \|$",
    re.MULTILINE,
)
EXPORT_PATHS = {
    "csv": "/large.csv",
    "ndjson": "/export.ndjson",
    "json": "/export.json",
    "timeline": "/timeline",
    "zip": "/export.zip",
}


def measured(server: str, database: str) -> dict[str, tuple[str, ...]]:
    """What a README's table should say, from the committed benchmark output, by path."""
    lines = (DOCS / "benchmarks" / f"exports-{server}-{database}.txt").read_text().splitlines()
    rows = {(row[0], row[1], row[2]): row for row in (line.split() for line in lines[2:])}
    figures: dict[str, tuple[str, ...]] = {}
    for name, path in EXPORT_PATHS.items():
        recipe, usual = rows["1,000,000", name, "recipe"], rows["1,000,000", name, "naive"]
        small = rows["10,000", name, "recipe"]
        share = str(round(float(recipe[7]) * 100))
        figures[path] = (recipe[4], usual[4], recipe[6], share, small[-2], recipe[-2])
    return figures


@pytest.mark.parametrize(
    ("server", "database", "quoted"),
    [
        ("gunicorn", "sqlite", "gunicorn"),
        ("waitress", "sqlite", "waitress"),
        ("gunicorn", "postgresql", "gunicorn"),
        ("waitress", "postgresql", "gunicorn"),
    ],
)
def test_the_readme_quotes_the_benchmark_of_its_own_server(
    render, server: str, database: str, quoted: str
) -> None:
    answers = {"recipes": ALL_RECIPES, "wsgi_server": server, "database": database}
    readme = (render(**answers) / "README.md").read_text()
    table = {path: figures for path, *figures in FIGURE_ROW.findall(readme)}
    assert table == {path: list(row) for path, row in measured(quoted, database).items()}
    # A server quoted for another says so.
    assert ("has not been measured here" in readme) == (quoted != server)
