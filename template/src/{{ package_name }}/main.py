"""The index page, the health check and plain-text error messages."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template
from werkzeug.exceptions import HTTPException

from .db import get_db

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> str:
    """List the enabled recipes with links to try, each blueprint's templates/recipes/NAME.html."""
    # A blueprint of your own gets a section too once it has such a template, and none till then.
    templates = set(current_app.jinja_env.list_templates())
    sections = [
        path for name in current_app.blueprints if (path := f"recipes/{name}.html") in templates
    ]
    return render_template("index.html", sections=sections)


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """Answer 200 when the app can query its database, 503 otherwise."""
    try:
        get_db().execute("SELECT 1").fetchone()
    except Exception as error:  # any failure means "not healthy"
        current_app.logger.warning("Health check failed: %s", error)
        return {"status": "unavailable", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}, 200


@bp.app_errorhandler(HTTPException)
def plain_error(error: HTTPException) -> Response:
    """Answer errors with one readable line (curl users see the reason, not an HTML page)."""
    response = Response(
        f"{error.code} {error.name}: {error.description}\n", error.code, mimetype="text/plain"
    )
    # Keep what the error adds to its headers: Retry-After on a 503, Allow on a 405.
    for name, value in error.get_headers():
        if name != "Content-Type":
            response.headers[name] = value
    return response
