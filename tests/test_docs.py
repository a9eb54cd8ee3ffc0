"""The documentation builds strictly, its plot is reproducible, and its code matches the output."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import copier
import pytest

from .conftest import ALL_RECIPES, TEMPLATE, run, run_project_checks

DOCS = TEMPLATE / "docs"
SOURCE_BLOCK = re.compile(r"<!-- source: (?:(\w+):)?(\S+) -->\n```\w*\n(.*?)\n```", re.DOTALL)
EXAMPLE_BLOCK = re.compile(r"<!-- example: (\S+) -->\n```\w*\n(.*?)\n```", re.DOTALL)


def test_mkdocs_build_is_strict_and_clean(tmp_path: Path) -> None:
    run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)], TEMPLATE
    )
    assert (tmp_path / "recipes" / "csv-export" / "index.html").exists()
    assert "Quickstart" in (tmp_path / "index.html").read_text()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_benchmark_plot_is_drawn_from_the_committed_output(tmp_path: Path, database: str) -> None:
    output = DOCS / "benchmarks" / f"exports-gunicorn-{database}.txt"
    plot = tmp_path / "plot.svg"
    run([sys.executable, "scripts/plot_bench.py", str(output), str(plot)], TEMPLATE)
    assert plot.read_text() == output.with_suffix(".svg").read_text()
    # Every endpoint, every variant: a bar each, with its value written on it.
    assert plot.read_text().count("<rect x=") >= 4 * 3 + 4 * 2


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Projects with every recipe, one per database, as the docs' code comes from them."""
    projects = {}
    for database in ("sqlite", "postgresql"):
        destination = tmp_path_factory.mktemp("docs") / database
        answers = {"recipes": ALL_RECIPES, "database": database}
        copier.run_copy(
            str(TEMPLATE), destination, data=answers, defaults=True, vcs_ref="HEAD", quiet=True
        )
        projects[database] = destination
    return projects


def test_code_in_the_docs_is_the_generated_code(rendered: dict[str, Path]) -> None:
    blocks = [
        (page, match)
        for page in sorted(DOCS.rglob("*.md"))
        for match in SOURCE_BLOCK.finditer(page.read_text())
    ]
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
    assert list(examples) == ["src/sales_reports/customers.py", "tests/test_customers.py"]
    for path, code in examples.items():
        (project / path).write_text(code + "\n")
    # Registered as the page says, the import joining the factory's one sorted line.
    assert "from . import customers\n\napp.register_blueprint(customers.bp)" in page
    factory = project / "src" / "sales_reports" / "__init__.py"
    code = factory.read_text().replace(" csv_export, db,", " csv_export, customers, db,")
    code = code.replace(
        "    app.register_blueprint(context_stream.bp)\n",
        "    app.register_blueprint(context_stream.bp)\n    app.register_blueprint(customers.bp)\n",
    )
    factory.write_text(code)
    # ruff, mypy and the project's tests (the index among them), then the example's own tests.
    run_project_checks(project)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    tests = run([*command, "tests/test_customers.py"], project, PYTHONPATH=str(project / "src"))
    assert "2 passed" in tests.stdout, tests.stdout
