"""The index page, the health check and plain-text error messages."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from . import db
from .limits import CLOSE_AFTER, RETRY_AFTER

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


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The icon, for what a browser asks on its own (a CSV or JSON response has no <link>)."""
    return current_app.send_static_file("favicon.svg")


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int] | tuple[dict[str, str], int, dict[str, str]]:
    """Answer 200 when the app can query its database and each recipe's check passes, else 503.

    A recipe adds a check to app.extensions["health_checks"]: a name and a function that
    returns "ok" or what is wrong (the event poller, a database that refuses writes).
    """
    try:
        db.scalar(db.get_db(), "SELECT 1")
    except Exception as error:  # any failure means "not healthy"
        current_app.logger.warning("Health check failed: %s", error)
        unreachable = {"status": "unavailable", "database": "unreachable"}
        return unreachable, 503, {"Retry-After": str(RETRY_AFTER)}
    report = {"database": "ok"}
    for name, check in current_app.extensions.get("health_checks", {}).items():
        report[name] = check()
    healthy = all(state == "ok" for state in report.values())
    if not healthy:
        current_app.logger.warning("Health check failed: %s", report)
        return {"status": "unavailable", **report}, 503, {"Retry-After": str(RETRY_AFTER)}
    return {"status": "ok", **report}, 200


@bp.app_errorhandler(db.Error)
def database_unavailable(error: Exception) -> Response:
    """Answer 503 + Retry-After when the database cannot serve now (gone, locked, full...)."""
    if not db.unavailable(error):
        raise error  # a mistake in the code: the 500 it is
    current_app.logger.warning("The database cannot serve now: %s", error)
    return plain_error(
        ServiceUnavailable(
            "The database cannot answer now; try again shortly.", retry_after=RETRY_AFTER
        )
    )


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
    if error.code == 503:
        # Turned away: the connection is let go too, for the clients the server can serve.
        request.environ[CLOSE_AFTER] = True
    return response
