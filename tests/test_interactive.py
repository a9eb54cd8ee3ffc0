"""copier copy driven through a real terminal, answered the way a person types."""

from __future__ import annotations

import os
import subprocess
import sys

import pexpect
import pytest
import yaml

from .conftest import TEMPLATE, run_project_checks

CLEAR = "\x15"  # Ctrl-U: a text prompt shows its default as editable text
DOWN = "\x1b[B"


@pytest.mark.interactive
def test_person_answers_the_questions(tmp_path) -> None:
    destination = tmp_path / "inventory"
    child = pexpect.spawn(
        sys.executable,
        ["-m", "copier", "copy", "--vcs-ref", "HEAD", str(TEMPLATE), str(destination)],
        encoding="utf-8",
        dimensions=(40, 80),
        timeout=60,
        # pexpect's terminal does not answer cursor position requests; a person's terminal does.
        env={**os.environ, "PROMPT_TOOLKIT_NO_CPR": "1"},
    )

    def answer(prompt: str, keys: str) -> None:
        child.expect_exact(prompt)
        child.send(keys + "\r")

    answer("Project name, as people read it", CLEAR + "Inventory Feed")
    answer("Distribution name", "")  # derived: inventory-feed
    # A bad answer is refused under the question, which stays open for a good one.
    answer("Python import name", CLEAR + "my-app")
    child.expect_exact("Validation error for question 'package_name': Use a-z, 0-9, _; no digit")
    child.send(CLEAR + "stock_feed\r")
    answer("One sentence that says", "")
    answer("Author's name", CLEAR + "Ada Lovelace")
    answer("Author's e-mail", CLEAR + "ada@example.org")
    answer("Oldest Python version", DOWN)  # 3.12
    # All three recipes start selected: move to template_stream and untoggle it.
    answer("Streaming recipes to include", DOWN + " ")
    answer("Production WSGI server", DOWN)  # waitress
    answer("Database the streams read from", "")  # sqlite
    answer("How the app reaches its database", DOWN)  # sqlalchemy
    child.expect_exact("is ready in")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    answers = yaml.safe_load((destination / ".copier-answers.yml").read_text())
    assert {key: value for key, value in answers.items() if not key.startswith("_")} == {
        "project_name": "Inventory Feed",
        "project_slug": "inventory-feed",
        "package_name": "stock_feed",
        "description": "Inventory Feed: streaming endpoints built with Flask",
        "author_name": "Ada Lovelace",
        "author_email": "ada@example.org",
        "python_version": "3.12",
        "recipes": ["csv_export", "context_stream"],
        "wsgi_server": "waitress",
        "database": "sqlite",
        "data_layer": "sqlalchemy",
    }
    assert (destination / "src/stock_feed/csv_export.py").exists()
    assert (destination / "src/stock_feed/models.py").exists()
    assert not (destination / "src/stock_feed/schema.sql").exists()
    assert not (destination / "src/stock_feed/template_stream.py").exists()
    assert not (destination / "gunicorn.conf.py").exists()
    run_project_checks(destination)


def test_a_bad_answer_on_the_command_line_ends_with_the_rule(tmp_path) -> None:
    destination = tmp_path / "project"
    command = [sys.executable, "-m", "copier", "copy", "--defaults", "--vcs-ref", "HEAD"]
    command += ["-d", "package_name=my-app", str(TEMPLATE), str(destination)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    # What docs/getting-started.md promises: Copier's traceback, then the sentence on its own line.
    assert result.stderr.splitlines()[-1] == (
        "ValueError: Validation error for question 'package_name': Use a-z, 0-9, _; no digit"
        " first: 'my-app'"
    )
    assert not destination.exists()


@pytest.mark.parametrize("relative", [True, False])
def test_the_message_after_copy_warns_about_a_relative_source(tmp_path, relative) -> None:
    source = TEMPLATE.name if relative else str(TEMPLATE)
    command = [sys.executable, "-m", "copier", "copy", "--defaults", "--vcs-ref", "HEAD"]
    result = subprocess.run(
        [*command, source, str(tmp_path / "app")],
        cwd=TEMPLATE.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    warned = f'Note: this copy records the template as "{source}", a path relative' in result.stderr
    assert warned == relative
    if relative:
        # What the note says a user would see from inside the project.
        check = subprocess.run(
            [sys.executable, "-m", "copier", "check-update"],
            cwd=tmp_path / "app",
            capture_output=True,
            text=True,
            check=False,
        )
        assert "Checking is only supported in git-tracked templates" in check.stdout + check.stderr
