"""copier update with real git: two tagged template versions, a project with its own edits."""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tomllib
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml
from copier import VcsRef
from copier.errors import UserMessageError

from .conftest import PYTEST, TEMPLATE, run, run_project_checks
from .test_render import expected_files

pytestmark = pytest.mark.slow

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Template Tests",
    "GIT_AUTHOR_EMAIL": "tests@example.com",
    "GIT_COMMITTER_NAME": "Template Tests",
    "GIT_COMMITTER_EMAIL": "tests@example.com",
}
STREAMING = "template/src/{{ package_name }}/streaming.py"
STREAMING_PY = "src/sales_reports/streaming.py"
SETTINGS = "template/src/{{ package_name }}/settings.py"
README = "template/README.md.jinja"
# What v0.2.0 changed on its way from v0.1.0, in template-owned files and a user-owned one.
OLD_HEADING = "## Installation\n"
NEW_HEADING = "## Install\n"
OLD_COMMENT = "# The first chunk is sent early so the headers leave at once."
NEW_COMMENT = (
    "# The first chunk leaves as soon as it holds this much, so the headers and the top of the"
)
OLD_SETTINGS = '"""Settings of v0.1.0."""\n'
# The last commit whose file names carried their conditions and whose db.py came in two copies.
PREVIOUS_LAYOUT = "d194cea1561aa887f6fdfd390303e536dda8e75b"


def git(*args: str, cwd: Path) -> str:
    """Run git with a test identity (never the global config) and return its output."""
    return run(["git", *args], cwd, **GIT_IDENTITY).stdout


def copy_working_tree(repo: Path) -> None:
    """Copy this template as it is now (tracked and new files, uncommitted edits) into `repo`."""
    listed = git("ls-files", "-co", "--exclude-standard", "-z", cwd=TEMPLATE).split("\0")
    for name in filter(None, listed):
        if (TEMPLATE / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(TEMPLATE / name, repo / name)


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A git repository of this template: v0.1.0 (an older variant), then v0.2.0 (this tree)."""
    repo = tmp_path_factory.mktemp("template") / "repo"
    copy_working_tree(repo)
    current_streaming = (repo / STREAMING).read_text()
    current_settings = (repo / SETTINGS).read_text()
    current_readme = (repo / README).read_text()
    # Fail loudly here, not vaguely later, if an edit to the template moved these anchors.
    assert NEW_COMMENT in current_streaming
    assert current_readme.count(NEW_HEADING) == 1

    git("init", "-q", "-b", "main", cwd=repo)
    (repo / STREAMING).write_text(current_streaming.replace(NEW_COMMENT, OLD_COMMENT))
    (repo / README).write_text(current_readme.replace(NEW_HEADING, OLD_HEADING))
    (repo / SETTINGS).write_text(OLD_SETTINGS)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "v0.1.0", cwd=repo)
    git("tag", "v0.1.0", cwd=repo)
    (repo / STREAMING).write_text(current_streaming)
    (repo / README).write_text(current_readme)
    (repo / SETTINGS).write_text(current_settings)
    git("commit", "-q", "-am", "v0.2.0", cwd=repo)
    git("tag", "v0.2.0", cwd=repo)
    yield repo


@pytest.fixture
def project(template_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project copied at v0.1.0 and committed, as a user starts one."""
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    destination = tmp_path / "project"
    copier.run_copy(str(template_repo), destination, vcs_ref="v0.1.0", defaults=True, quiet=True)
    git("init", "-q", "-b", "main", cwd=destination)
    git("add", "-A", cwd=destination)
    git("commit", "-q", "-m", "Start from the template", cwd=destination)
    return destination


def commit_all(project: Path, message: str) -> None:
    """Commit everything in the project, as copier update wants a clean tree."""
    git("add", "-A", cwd=project)
    git("commit", "-q", "-m", message, cwd=project)


def update(project: Path, **options: Any) -> None:
    """copier update without questions, as `copier update --defaults` runs it."""
    copier.run_update(project, defaults=True, overwrite=True, quiet=True, **options)


def snapshot(project: Path) -> dict[Path, bytes]:
    """Every file of the project outside .git, with its bytes."""
    return {
        path: path.read_bytes()
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.parts
    }


def answers(project: Path) -> dict[str, Any]:
    """The project's .copier-answers.yml."""
    stored: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return stored


def test_update_keeps_user_edits_and_brings_the_new_version(project: Path) -> None:
    streaming = project / "src/sales_reports/streaming.py"
    settings = project / "src/sales_reports/settings.py"
    readme = project / "README.md"
    assert OLD_COMMENT in streaming.read_text()
    assert OLD_HEADING in readme.read_text()
    assert settings.read_text() == OLD_SETTINGS
    readme.write_text(readme.read_text() + "\n## Our team's notes\n\nAsk Ada about deploys.\n")
    settings.write_text(OLD_SETTINGS + "\nSTREAM_FETCH_SIZE = 5_000\n")
    commit_all(project, "Our edits")

    update(project, vcs_ref="v0.2.0")

    assert answers(project)["_commit"] == "v0.2.0"
    # The template's changes arrived; in the README they were merged with the user's section.
    assert NEW_COMMENT in streaming.read_text()
    assert OLD_COMMENT not in streaming.read_text()
    assert NEW_HEADING in readme.read_text()
    assert OLD_HEADING not in readme.read_text()
    assert readme.read_text().endswith("## Our team's notes\n\nAsk Ada about deploys.\n")
    assert "<<<<<<<" not in readme.read_text()
    # settings.py is the project's: the update left the user's version as it was.
    assert settings.read_text() == OLD_SETTINGS + "\nSTREAM_FETCH_SIZE = 5_000\n"
    run_project_checks(project)


def clash(project: Path, name: str, old: str, new: str, conflict: str) -> Path:
    """Change a line of `name` that v0.2.0 also changes, commit, and update to v0.2.0."""
    path = project / name
    path.write_text(path.read_text().replace(old, new))
    commit_all(project, "Our wording")
    update(project, vcs_ref="v0.2.0", conflict=conflict)
    return path


def test_a_clashing_edit_becomes_an_inline_conflict(project: Path) -> None:
    streaming = clash(project, STREAMING_PY, OLD_COMMENT, "# Our own wording.", "inline")

    text = streaming.read_text()
    before = text.index("<<<<<<< before updating")
    assert before < text.index("# Our own wording.") < text.index("=======")
    assert text.index("=======") < text.index(NEW_COMMENT) < text.index(">>>>>>> after updating")
    # Only that spot conflicts: the rest of the file is the new version's.
    assert text.count("<<<<<<<") == 1
    assert "streaming.py" in git("diff", "--name-only", "--diff-filter=U", cwd=project)
    # A conflict in a .py file stops the project's tests on a SyntaxError already.
    assert conflict_check(project).returncode != 0


def test_a_conflict_in_the_readme_fails_the_project_tests_until_resolved(project: Path) -> None:
    readme = clash(project, "README.md", OLD_HEADING, "## Getting it running\n", "inline")

    text = readme.read_text()
    assert text.count("<<<<<<< before updating") == 1
    # Markdown does not mind the markers; the project's own check does, and so does its hook.
    refused = conflict_check(project)
    assert refused.returncode == 1
    assert "copier update left conflicts to resolve: README.md:" in refused.stdout
    blocked = merge_conflict_hook(project)
    assert blocked.returncode == 1
    assert "README.md:" in blocked.stdout
    start = text.index("<<<<<<< before updating")
    middle = text.index("=======\n", start)
    end = text.index(">>>>>>> after updating\n", middle)
    readme.write_text(text[:start] + text[middle + 8 : end] + text[end + 23 :])
    assert NEW_HEADING in readme.read_text()
    assert conflict_check(project).returncode == 0
    assert merge_conflict_hook(project).returncode == 0


def test_markers_inside_a_python_string_fail_the_project_tests_too(project: Path) -> None:
    # Python imports such a module without a word; the project's conflict check reads the text.
    module = project / "src/sales_reports/notes.py"
    marked = "<" * 7 + " before updating\nours\n=======\ntheirs\n" + ">" * 7 + " after updating"
    module.write_text(f'NOTES = """\n{marked}\n"""\n')
    run(
        [sys.executable, "-c", "import sales_reports.notes"],
        project,
        PYTHONPATH=str(project / "src"),
    )
    refused = conflict_check(project)
    assert refused.returncode == 1
    assert "src/sales_reports/notes.py:2" in refused.stdout


def test_rejected_hunks_fail_the_project_tests_until_applied(project: Path) -> None:
    streaming = clash(project, STREAMING_PY, OLD_COMMENT, "# Our own wording.", "rej")

    # The new version took the file; the user's clashing change waits in a .rej file beside it.
    rejected = project / "src/sales_reports/streaming.py.rej"
    assert "+# Our own wording." in rejected.read_text()
    assert NEW_COMMENT in streaming.read_text()
    assert "# Our own wording." not in streaming.read_text()
    refused = conflict_check(project)
    assert refused.returncode == 1
    assert "src/sales_reports/streaming.py.rej" in refused.stdout
    # The whitespace hooks leave the patch as written: its blank context lines are one space.
    patch = rejected.read_bytes()
    assert b"\n \n" in patch
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    for hook in ("trailing-whitespace", "end-of-file-fixer"):
        command = [sys.executable, "-m", "pre_commit", "run", hook, "--files", str(rejected)]
        run(command, project, PATH=path)
    assert rejected.read_bytes() == patch
    rejected.unlink()
    assert conflict_check(project).returncode == 0


@pytest.mark.parametrize("conflict", ["inline", "rej"])
def test_rej_mode_sets_aside_an_edit_near_a_line_the_new_version_changed(
    project: Path, conflict: str
) -> None:
    # One edit two lines below the comment v0.2.0 rewrites (one untouched line between them),
    # one far from it: neither clashes with the new version.
    streaming = project / STREAMING_PY
    text = streaming.read_text()
    assert f"{OLD_COMMENT}\n# document reach" in text
    assert "# document reach the client at once; the rest travels in full chunks.\n" in text
    text = text.replace("FIRST_CHUNK_SIZE = 1024\n", "FIRST_CHUNK_SIZE = 2048\n")
    streaming.write_text("# Our note at the top.\n" + text)
    commit_all(project, "Our edits")
    update(project, vcs_ref="v0.2.0", conflict=conflict)

    text = streaming.read_text()
    assert NEW_COMMENT in text and "<<<<<<<" not in text
    assert text.startswith("# Our note at the top.\n")
    rejected = project / f"{STREAMING_PY}.rej"
    if conflict == "inline":
        # A three-way merge, line by line: both edits kept.
        assert "FIRST_CHUNK_SIZE = 2048\n" in text
        assert not rejected.exists()
    else:
        # git apply needs the three lines around an edit as they were: the near one waits.
        assert "FIRST_CHUNK_SIZE = 1024\n" in text
        assert "+FIRST_CHUNK_SIZE = 2048" in rejected.read_text()
        assert conflict_check(project).returncode == 1


def test_a_user_dependency_survives_a_change_of_server(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    marker = "    # Add yours below this line"
    end = text.index("]", text.index(marker))
    pyproject.write_text(text[:end] + '    "requests>=2",\n' + text[end:])
    commit_all(project, "Our dependency")

    update(project, vcs_ref=VcsRef.CURRENT, data={"wsgi_server": "waitress"})

    dependencies = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    assert "waitress>=3" in dependencies
    assert not any(name.startswith("gunicorn") for name in dependencies)
    assert dependencies[-1] == "requests>=2"
    assert conflict_check(project).returncode == 0


def test_an_update_says_what_dropping_a_recipe_deletes(project: Path) -> None:
    update(project, vcs_ref="v0.2.0")
    commit_all(project, "Update to v0.2.0")
    routes = project / "src/sales_reports/context_stream.py"
    routes.write_text(routes.read_text() + "\n# Our own route would be here.\n")
    commit_all(project, "Our route")

    command = [sys.executable, "-m", "copier", "update", "--defaults", "--vcs-ref=:current:"]
    result = subprocess.run(
        [*command, "-d", "recipes=[csv_export]"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    # What docs/updating.md shows, for a folder named sales-reports.
    page = (TEMPLATE / "docs/updating.md").read_text()
    (shown,) = re.findall(r"every update prints.*?\n```\n(Updating .*?)```", page, re.DOTALL)
    assert result.stderr.startswith(shown.replace("sales-reports", "project"))
    assert not routes.exists()
    # git status lists the deletion (staged or not), and git brings the file back.
    status = git("status", "--porcelain", cwd=project).splitlines()
    assert "D src/sales_reports/context_stream.py" in [" ".join(line.split()) for line in status]
    git("checkout", "HEAD", "--", "src/sales_reports/context_stream.py", cwd=project)
    assert "# Our own route would be here." in routes.read_text()


def merge_conflict_hook(project: Path) -> subprocess.CompletedProcess[str]:
    """Run the project's pre-commit hook against conflict markers over every file."""
    hook = [sys.executable, "-m", "pre_commit", "run", "check-merge-conflict", "--all-files"]
    # The hook runs the dev tools of the active environment, as in an activated virtualenv.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(
        hook, cwd=project, env={**os.environ, "PATH": path}, capture_output=True, text=True
    )


def conflict_check(project: Path) -> subprocess.CompletedProcess[str]:
    """Run the project's own check for update conflicts."""
    return subprocess.run(
        [*PYTEST, "tests/test_no_conflicts.py"],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(project / "src")},
        capture_output=True,
        text=True,
        check=False,
    )


def test_recipes_are_added_and_removed_by_changing_answers(project: Path) -> None:
    update(project, vcs_ref="v0.2.0")
    commit_all(project, "Update to v0.2.0")

    update(project, vcs_ref=VcsRef.CURRENT, data={"recipes": ["csv_export", "sse"]})
    assert answers(project)["recipes"] == ["csv_export", "sse"]
    assert (project / "src/sales_reports/sse.py").exists()
    assert (project / "tests/test_sse.py").exists()
    assert (project / "src/sales_reports/templates/sse_demo.html").exists()
    assert (project / "src/sales_reports/templates/recipes/sse.html").exists()
    assert not (project / "src/sales_reports/template_stream.py").exists()
    assert not (project / "src/sales_reports/templates/timeline.html").exists()
    assert not (project / "tests/test_context_stream.py").exists()
    run_project_checks(project)
    commit_all(project, "Recipes: csv_export and sse")

    update(project, vcs_ref=VcsRef.CURRENT, data={"recipes": ["sse"]})
    assert not (project / "src/sales_reports/csv_export.py").exists()
    assert not (project / "src/sales_reports/orders.py").exists()
    assert not (project / "scripts/bench_exports.py").exists()
    assert not (project / "tests/test_csv_export.py").exists()
    assert (project / "src/sales_reports/sse.py").exists()
    run_project_checks(project)


def flask(project: Path, *args: str) -> str:
    """Run one of the project's `flask` commands, as its README does, and return the output."""
    command = [sys.executable, "-m", "flask", "--app", "sales_reports", *args]
    return run(command, project, PYTHONPATH=str(project / "src")).stdout


def test_a_dbapi_project_switches_to_sqlalchemy_and_keeps_its_rows(project: Path) -> None:
    update(project, vcs_ref="v0.2.0")
    commit_all(project, "Update to v0.2.0")
    flask(project, "seed-db", "--rows", "20")

    update(project, vcs_ref=VcsRef.CURRENT, data={"data_layer": "sqlalchemy"})

    assert answers(project)["data_layer"] == "sqlalchemy"
    package = project / "src/sales_reports"
    assert not (package / "schema.sql").exists()
    assert (package / "migrations/versions/0001_orders_and_events.py").exists()
    # What copier's closing message says to run: the database init-db made is adopted...
    flask(project, "db", "stamp", "0001")
    flask(project, "db", "upgrade")
    # ...as the models describe it (Alembic compares every table, column and type)...
    assert "No new upgrade operations detected" in flask(project, "db", "check")
    # ...with its rows.
    (database,) = project.rglob("sales_reports.sqlite")
    with closing(sqlite3.connect(database)) as connection:
        counts = [
            connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("orders", "events")
        ]
    assert counts == [20, 20]
    run_project_checks(project)


def test_a_project_without_recipes_gets_them_as_its_message_says(
    template_repo: Path, tmp_path: Path
) -> None:
    destination = tmp_path / "bare"
    command = [sys.executable, "-m", "copier", "copy", "--defaults", "-d", "recipes=[]"]
    copied = run([*command, str(template_repo), str(destination)], tmp_path)
    assert not (destination / "src/sales_reports/csv_export.py").exists()
    # The message says what the app is and the command that adds recipes, to run as it stands.
    assert "No recipe was chosen: the app has its index page and /healthz only." in copied.stderr
    (shown,) = re.findall(r"^commit, then run: (copier update .*)$", copied.stderr, re.MULTILINE)
    git("init", "-q", "-b", "main", cwd=destination)
    commit_all(destination, "Start from the template")
    program, *arguments = shlex.split(shown)
    run([str(Path(sys.executable).parent / program), *arguments], destination)
    assert answers(destination)["recipes"] == ["csv_export", "sse"]
    assert (destination / "src/sales_reports/csv_export.py").exists()
    assert (destination / "src/sales_reports/sse.py").exists()
    index = (destination / "src/sales_reports/templates/index.html").read_text()
    assert shown.replace("copier update", "").strip() in index


def test_without_tags_a_copy_records_its_commit_and_updates_to_the_newest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    repo = tmp_path / "template"
    copy_working_tree(repo)
    git("init", "-q", "-b", "main", cwd=repo)
    commit_all(repo, "Untagged")
    first = git("rev-parse", "--short", "HEAD", cwd=repo).strip()
    destination = tmp_path / "project"
    copier.run_copy(str(repo), destination, defaults=True, quiet=True)
    assert answers(destination)["_commit"] == first
    git("init", "-q", "-b", "main", cwd=destination)
    commit_all(destination, "Start from the template")

    readme = repo / README
    readme.write_text(readme.read_text().replace(NEW_HEADING, "## Installing\n"))
    commit_all(repo, "Newer")
    update(destination)
    assert answers(destination)["_commit"] == git("rev-parse", "--short", "HEAD", cwd=repo).strip()
    assert "## Installing\n" in (destination / "README.md").read_text()


def test_an_update_of_a_dirty_project_is_refused(project: Path) -> None:
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "uncommitted\n")
    before = snapshot(project)

    with pytest.raises(UserMessageError, match="Destination repository is dirty"):
        update(project, vcs_ref="v0.2.0")

    assert snapshot(project) == before
    assert "_commit: v0.1.0" in (project / ".copier-answers.yml").read_text()


def test_check_update_reports_the_newer_version(project: Path) -> None:
    copier_cli = Path(sys.executable).parent / "copier"
    result = run([str(copier_cli), "check-update", "--output-format", "json"], project)
    report = json.loads(result.stdout)
    assert report["update_available"] is True, report
    assert report["latest_version"] == "0.2.0"


def test_recopy_restores_template_files_and_keeps_settings(project: Path) -> None:
    streaming = project / "src/sales_reports/streaming.py"
    settings = project / "src/sales_reports/settings.py"
    streaming.write_text(streaming.read_text().replace(OLD_COMMENT, "# Our own wording."))
    settings.write_text(OLD_SETTINGS + "\nSTREAM_FETCH_SIZE = 5_000\n")
    commit_all(project, "Our edits")

    copier.run_recopy(project, defaults=True, overwrite=True, quiet=True)

    # The way back from a bad merge: template files are the newest version's, edits gone.
    assert answers(project)["_commit"] == "v0.2.0"
    assert NEW_COMMENT in streaming.read_text()
    assert "# Our own wording." not in streaming.read_text()
    assert settings.read_text() == OLD_SETTINGS + "\nSTREAM_FETCH_SIZE = 5_000\n"


def test_a_deleted_settings_module_stays_deleted_until_a_recopy(project: Path) -> None:
    settings = project / "src/sales_reports/settings.py"
    settings.unlink()
    commit_all(project, "Drop settings.py")

    # An update re-applies the deletion like any other edit (docs/updating.md warns about it)...
    update(project, vcs_ref="v0.2.0")
    assert not settings.exists()
    commit_all(project, "Update to v0.2.0")

    # ...and a recopy, which ignores the project's edits, brings the file back.
    copier.run_recopy(project, defaults=True, overwrite=True, quiet=True)
    assert settings.read_text() == (TEMPLATE / SETTINGS).read_text()


@pytest.fixture(scope="module")
def layout_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """v0.1.0: this repository at PREVIOUS_LAYOUT; v0.2.0: this tree, with plain file names."""
    repo = tmp_path_factory.mktemp("layout") / "repo"
    repo.mkdir()
    archive = subprocess.run(
        ["git", "archive", PREVIOUS_LAYOUT], cwd=TEMPLATE, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(repo, filter="data")
    assert (
        repo / "template/src/{{ package_name }}/{% if 'sse' in recipes %}sse.py{% endif %}"
    ).exists()
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "v0.1.0", cwd=repo)
    git("tag", "v0.1.0", cwd=repo)
    git("rm", "-rq", ".", cwd=repo)
    copy_working_tree(repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "v0.2.0", cwd=repo)
    git("tag", "v0.2.0", cwd=repo)
    return repo


USER_HELPER = '''

def downloadable_columns() -> tuple[str, ...]:
    """Our own addition: the columns a download can have."""
    return orders.COLUMNS
'''
USER_DB_HELPER = '''

def table_names() -> list[str]:
    """Our own addition: the tables the project streams from."""
    return list(seed.TABLES)
'''


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_project_of_the_previous_layout_updates_to_this_one(
    layout_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database: str
) -> None:
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    project = tmp_path / "project"
    recipes = ["csv_export", "sse"]
    data = {"database": database, "recipes": recipes}
    copier.run_copy(
        str(layout_repo), project, data=data, vcs_ref="v0.1.0", defaults=True, quiet=True
    )
    package = project / "src/sales_reports"
    csv_export = package / "csv_export.py"
    csv_export.write_text(csv_export.read_text() + USER_HELPER)
    (package / "db.py").write_text((package / "db.py").read_text() + USER_DB_HELPER)
    git("init", "-q", "-b", "main", cwd=project)
    commit_all(project, "Start from the template, with our own helpers")

    update(project, vcs_ref="v0.2.0")

    assert answers(project)["_commit"] == "v0.2.0"
    assert git("diff", "--name-only", "--diff-filter=U", cwd=project) == ""
    assert "<<<<<<<" not in "".join(path.read_text() for path in package.rglob("*.py"))
    # The user's edits survived, in the new layout's modules.
    assert csv_export.read_text().endswith(USER_HELPER)
    db_module = (package / "db.py").read_text()
    assert db_module.endswith(USER_DB_HELPER)
    assert "def stream_cursor(" in (package / f"db_{database}.py").read_text()
    factory = (package / "__init__.py").read_text()
    assert "from . import csv_export, db, lifecycle, main, sse\n" in factory
    assert "    app.register_blueprint(sse.bp)\n" in factory
    # Exactly the files of the chosen recipes, server and database: nothing of the others.
    files = {str(path.relative_to(project)) for path in project.rglob("*") if path.is_file()}
    files = {name for name in files if not name.startswith(".git/")}
    assert files == expected_files("sales_reports", recipes, "gunicorn", database)
    run_project_checks(project)
