"""Bad answers are refused with a sentence that names the question and the rule."""

from __future__ import annotations

import keyword
import re
import subprocess
import sys
from pathlib import Path

import copier
import pytest
import yaml

from .conftest import TEMPLATE

BAD_ANSWERS = [
    ({"package_name": "my-app"}, "package_name 'my-app' is not a valid import name"),
    ({"package_name": "MyApp"}, "use lowercase letters, digits and underscores"),
    ({"package_name": "2fast"}, "not starting with a digit"),
    ({"package_name": "class"}, "package_name 'class' is a Python keyword"),
    ({"package_name": "flask"}, "would shadow the 'flask' package this project depends on"),
    ({"package_name": "jinja2"}, "would shadow the 'jinja2' package"),
    ({"package_name": "tests"}, "would shadow the 'tests' package"),
    ({"package_name": "test"}, "would shadow the 'test' package"),
    ({"package_name": "csv"}, "would shadow the standard library module 'csv'"),
    ({"package_name": "logging"}, "would shadow the standard library module 'logging'"),
    ({"project_slug": "my app"}, "project_slug 'my app' is not a valid distribution name"),
    ({"project_slug": "-app"}, "project_slug '-app' is not a valid distribution name"),
    ({"author_email": "nobody"}, "author_email 'nobody' does not look like an e-mail address"),
    ({"author_email": "a@b"}, "author_email 'a@b' does not look like an e-mail address"),
    ({"project_name": "   "}, "project_name must not be empty"),
    ({"project_name": 'The "Best" App'}, "project_name must not contain double quotes"),
]


@pytest.mark.parametrize(("answers", "message"), BAD_ANSWERS)
def test_bad_answer_is_refused_and_nothing_is_written(tmp_path, answers, message) -> None:
    destination = tmp_path / "project"
    with pytest.raises(ValueError, match=re.escape(message)):
        copier.run_copy(
            str(TEMPLATE), destination, data=answers, defaults=True, vcs_ref="HEAD", quiet=True
        )
    assert not destination.exists() or not any(destination.iterdir())


def test_cli_refuses_a_dashed_package_name(tmp_path) -> None:
    destination = tmp_path / "project"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "copier",
            "copy",
            "--defaults",
            "--vcs-ref",
            "HEAD",
            "-d",
            "package_name=my-app",
            str(TEMPLATE),
            str(destination),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "package_name 'my-app' is not a valid import name" in result.stderr
    assert not destination.exists() or not any(destination.iterdir())


def reserved_names(kind: str) -> set[str]:
    validator = yaml.safe_load((TEMPLATE / "copier.yml").read_text())["package_name"]["validator"]
    (names,) = re.findall(rf'{{% set {kind} = "([^"]*)"', validator)
    return set(names.split())


def test_reserved_names_cover_keywords_and_the_standard_library() -> None:
    public_stdlib = {name for name in sys.stdlib_module_names if not name.startswith("_")}
    assert public_stdlib <= reserved_names("stdlib")
    assert set(keyword.kwlist) - {"False", "None", "True"} == reserved_names("keywords")


def test_no_default_name_leaks_into_the_template() -> None:
    defaults = ["Sales Reports", "sales-reports", "sales_reports", "Your Name", "you@example.com"]
    for path in (TEMPLATE / "template").rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            for default in defaults:
                assert default not in text, f"{default!r} is hard-coded in {path}"
                assert default not in str(path.relative_to(TEMPLATE)), path


def test_answers_file_records_every_answer(tmp_path) -> None:
    destination = tmp_path / "project"
    copier.run_copy(str(TEMPLATE), destination, defaults=True, vcs_ref="HEAD", quiet=True)
    answers = yaml.safe_load((destination / ".copier-answers.yml").read_text())
    assert Path(answers["_src_path"]) == TEMPLATE
    assert set(answers) == {
        "_commit",
        "_src_path",
        "project_name",
        "project_slug",
        "package_name",
        "description",
        "author_name",
        "author_email",
        "python_version",
        "recipes",
        "wsgi_server",
        "database",
    }
