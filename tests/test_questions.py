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

PACKAGE_RULE = "Use a-z, 0-9, _; no digit first: "
SLUG_RULE = "Use a-z 0-9 . _ -, alnum at ends: "
SHADOWS = "Shadows a dependency or tests: "
STDLIB = "Shadows a standard library: "
# Copier prints the question's name before the message: the message says the rule, then the value.
BAD_ANSWERS = [
    ({"package_name": "my-app"}, PACKAGE_RULE + "'my-app'"),
    ({"package_name": "MyApp"}, PACKAGE_RULE + "'MyApp'"),
    ({"package_name": "2fast"}, PACKAGE_RULE + "'2fast'"),
    ({"package_name": "class"}, "Is a Python keyword: 'class'"),
    ({"package_name": "flask"}, SHADOWS + "'flask'"),
    ({"package_name": "jinja2"}, SHADOWS + "'jinja2'"),
    ({"package_name": "tests"}, SHADOWS + "'tests'"),
    ({"package_name": "test"}, SHADOWS + "'test'"),
    ({"package_name": "csv"}, STDLIB + "'csv'"),
    ({"package_name": "logging"}, STDLIB + "'logging'"),
    ({"project_slug": "my app"}, SLUG_RULE + "'my app'"),
    ({"project_slug": "-app"}, SLUG_RULE + "'-app'"),
    ({"author_email": "nobody"}, "Use the form name@domain.tld: 'nobody'"),
    ({"author_email": "a@b"}, "Use the form name@domain.tld: 'a@b'"),
    ({"project_name": "   "}, "Must not be empty."),
    ({"project_name": 'The "Best" App'}, "No double quotes or backslashes: 'The \"Best\" App'"),
]


@pytest.mark.parametrize(("answers", "message"), BAD_ANSWERS)
def test_bad_answer_is_refused_and_nothing_is_written(tmp_path, answers, message) -> None:
    destination = tmp_path / "project"
    (question,) = answers
    with pytest.raises(ValueError) as refused:
        copier.run_copy(
            str(TEMPLATE), destination, data=answers, defaults=True, vcs_ref="HEAD", quiet=True
        )
    assert str(refused.value) == f"Validation error for question '{question}': {message}"
    # A terminal 80 columns wide shows the whole rule, after Copier's words, under the question.
    rule = message.split(": '")[0]
    assert len(f"Validation error for question '{question}': {rule}") < 80
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
    assert f"question 'package_name': {PACKAGE_RULE}'my-app'" in result.stderr
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
        "data_layer",
    }
