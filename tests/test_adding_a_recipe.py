"""docs/contributing.md's "Adding a recipe", followed in a scratch copy of the template."""

from __future__ import annotations

from pathlib import Path

import copier
import pytest

from .conftest import PYTEST, run, run_project_checks
from .test_update import copy_working_tree

pytestmark = pytest.mark.slow

PACKAGE = "template/src/{{ package_name }}"
# Step 1: the choice, and the group of files that leave with it.
CHOICE = '    "hello: GET /hello?name=... streams a greeting and the orders\' count": hello\n'
EXCLUDE = """\
  # Recipe hello: GET /hello.
  - |-
    {% if 'hello' not in recipes %}
    src/{{ package_name }}/hello.py
    src/{{ package_name }}/templates/recipes/hello.html
    tests/test_hello.py
    tests/test_live_hello.py
    tests/fixtures/hello.py
    {% endif %}
"""
# Step 2: the module, validated with params, its query run before the response starts.
MODULE = '''\
"""Recipe hello: GET /hello?name=... streams a greeting and the number of orders."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Response, current_app

from . import db, params, streaming

bp = Blueprint("hello", __name__)


@bp.get("/hello")
def hello() -> Response:
    """Greet ?name=... (400 without one), then count the orders."""
    name = params.text("name", max_length=100)
    cursor, close = db.open_cursor("SELECT count(*) FROM orders")

    def lines() -> Iterator[str]:
        yield f"Hello, {name}!\\n"
        yield f"There are {cursor.fetchmany(1)[0][0]} orders.\\n"

    chunks = streaming.chunked(lines(), current_app.config["STREAM_CHUNK_SIZE"])
    return streaming.stream(chunks, mimetype="text/plain", on_close=(close,))
'''
# Step 3: the index partial and the recipe's tests.
PARTIAL = """\
<section>
  <h2>Hello</h2>
  <ul>
    <li><a href="{{ url_for('hello.hello', name='Ada') }}">/hello?name=Ada</a></li>
  </ul>
</section>
"""
# ...with a fixture of its own, which conftest loads from tests/fixtures/ with nothing edited.
FIXTURES = """\
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse


@pytest.fixture
def greeting(client: FlaskClient) -> Callable[[str], TestResponse]:
    \"\"\"GET /hello for a name: the response.\"\"\"

    def get(name: str) -> TestResponse:
        return client.get("/hello", query_string={"name": name})

    return get
"""
TESTS = """\
def test_hello_greets_and_counts(greeting, seed) -> None:
    seed(3)
    response = greeting("Ada")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "Hello, Ada!\\nThere are 3 orders.\\n"


def test_hello_without_a_name_is_a_400(client) -> None:
    assert client.get("/hello").status_code == 400
"""


# Step 4: the checks every stream passes on the production server, for its path.
LIVE_TESTS = """\
import pytest

from tests.live import StreamChecks

pytestmark = pytest.mark.live


class TestHello(StreamChecks):
    path = "/hello?name=Ada"
"""


def add_the_recipe(template: Path) -> None:
    """Steps 1 to 4 of the page, and nothing else."""
    copier_yml = template / "copier.yml"
    text = copier_yml.read_text()
    last_choice = text.index("\n", text.index('"token_relay: POST /chat')) + 1
    text = text[:last_choice] + CHOICE + text[last_choice:]
    before = text.index("  # Recipe token_relay:")
    copier_yml.write_text(text[:before] + EXCLUDE + text[before:])
    package = template / PACKAGE
    (package / "hello.py").write_text(MODULE)
    (package / "templates/recipes/hello.html").write_text(PARTIAL)
    (template / "template/tests/fixtures/hello.py").write_text(FIXTURES)
    (template / "template/tests/test_hello.py").write_text(TESTS)
    (template / "template/tests/test_live_hello.py").write_text(LIVE_TESTS)


def test_a_recipe_added_as_the_page_says_is_rendered_registered_and_tested(
    tmp_path: Path,
) -> None:
    template = tmp_path / "template"
    copy_working_tree(template)
    add_the_recipe(template)

    chosen = tmp_path / "chosen"
    copier.run_copy(str(template), chosen, data={"recipes": ["hello"]}, defaults=True, quiet=True)
    package = chosen / "src/sales_reports"
    # The factory imports and registers it with nothing added; the index links it.
    factory = (package / "__init__.py").read_text()
    assert "from . import db, hello, lifecycle, main\n" in factory
    assert "    app.register_blueprint(hello.bp)\n" in factory
    result = run_project_checks(chosen, live=True)
    # Its own tests ran among the project's (test_factory checks the index's link to it), and
    # the production server streamed it.
    assert "failed" not in result.stdout and " passed" in result.stdout
    assert (chosen / "tests/test_hello.py").exists()
    assert (chosen / "tests/fixtures/hello.py").exists()
    hello = [*PYTEST, "tests/test_live_hello.py"]
    assert "2 passed" in run(hello, chosen, PYTHONPATH=str(chosen / "src")).stdout

    other = tmp_path / "other"
    copier.run_copy(str(template), other, data={"recipes": ["sse"]}, defaults=True, quiet=True)
    leftovers = [path.name for path in other.rglob("*hello*")]
    assert leftovers == []
    assert "hello" not in (other / "src/sales_reports/__init__.py").read_text()
