"""Recipe token_relay: relay a language model's tokens from an upstream API to the browser."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask.sansio.blueprints import BlueprintSetupState
from werkzeug.exceptions import HTTPException

from . import formats, limits, streaming
from .chat_upstream import Answer, UpstreamFailed

bp = Blueprint("token_relay", __name__)

ROLES = ("system", "user", "assistant")
# A comment: what the relay writes when it has nothing to say (a write is how a client that has
# gone is noticed).
KEEP_ALIVE = b": keep-alive\n\n"


@bp.record_once
def set_defaults(state: BlueprintSetupState) -> None:
    """Add this recipe's settings unless the environment or test config set them."""
    config = state.app.config
    # An OpenAI-compatible chat completions URL (OpenAI, llama.cpp's server, vLLM, Ollama...).
    # Unset, a built-in fake answers, so that the demo works offline.
    config.setdefault("CHAT_UPSTREAM_URL", None)
    config.setdefault("CHAT_UPSTREAM_API_KEY", None)
    config.setdefault("CHAT_MODEL", "default")
    # Seconds to connect to the upstream, and to wait for each token (the first one included).
    config.setdefault("CHAT_CONNECT_TIMEOUT", 5.0)
    config.setdefault("CHAT_READ_TIMEOUT", 60.0)
    # Seconds the view waits for the upstream before it answers (a failure within them is a 502
    # or 504, later an error event), then between two writes: with no token to send, a comment
    # checks that the browser is still there. One that has gone is noticed at the second write,
    # and the upstream connection is cut.
    config.setdefault("CHAT_HEARTBEAT", 0.5)
    # Relays at once per process, counted before going upstream (under waitress a relay holds
    # a thread, and its reader one more); each holds one upstream connection (httpx's pool
    # limit too).
    config.setdefault("CHAT_MAX_RELAYS", config["STREAM_MAX_OPEN"])
    # Bytes in one line of the upstream's event stream (a token is part of one): real APIs send
    # a few hundred; past it the relay fails rather than hold an endless line in memory.
    config.setdefault("CHAT_MAX_LINE", 256 * 1024)
    # What a request may carry: bytes of body, messages, characters in all of them.
    config.setdefault("CHAT_MAX_BODY", 64 * 1024)
    config.setdefault("CHAT_MAX_MESSAGES", 50)
    config.setdefault("CHAT_MAX_CHARACTERS", 32_000)
    # The built-in fake's seconds between two tokens.
    config.setdefault("CHAT_FAKE_DELAY", 0.05)


def read_body() -> Any:
    """The request's JSON body; None if it is not JSON; 413 past CHAT_MAX_BODY, chunked or not."""
    limit = current_app.config["CHAT_MAX_BODY"]
    too_large = f"The body may hold at most {limit:,} bytes."
    if (request.content_length or 0) > limit:
        abort(413, too_large)
    # Read one byte past the limit: a chunked body (no Content-Length) that fills the limit
    # exactly is fine, one that goes past it is too large, on every server.
    request.max_content_length = limit + 1
    try:
        body = request.get_data(cache=False)
    except HTTPException:
        raise
    # gunicorn raises its own errors (not OSError) on a malformed chunked body.
    except Exception:
        abort(400, "The body could not be read: its chunked encoding is malformed.")
    if len(body) > limit:
        abort(413, too_large)
    try:
        return json.loads(body)
    # RecursionError: nested deeper than Python's stack (get_json does not catch it).
    except (ValueError, RecursionError):
        return None


def read_messages() -> list[dict[str, str]]:
    """Read {"messages": [{"role": ..., "content": ...}, ...]} from the body; 4xx when bad."""
    config = current_app.config
    if request.mimetype != "application/json":
        abort(415, "POST /chat takes a JSON body (Content-Type: application/json).")
    body = read_body()
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list) or not 1 <= len(messages) <= config["CHAT_MAX_MESSAGES"]:
        abort(
            400,
            'The body must be {"messages": [{"role": "user", "content": "..."}]}, with 1 to'
            f" {config['CHAT_MAX_MESSAGES']} messages.",
        )
    for number, message in enumerate(messages, start=1):
        if (
            not isinstance(message, dict)
            or message.keys() != {"role", "content"}
            or message["role"] not in ROLES
            or not isinstance(message["content"], str)
        ):
            abort(
                400,
                f'Message {number} must be {{"role": ..., "content": "..."}} with a role'
                f" of {', '.join(ROLES)}.",
            )
        if not is_unicode(message["content"]):
            abort(
                400,
                f"Message {number} holds a lone surrogate (\\ud800 to \\udfff), which is not text.",
            )
    if sum(len(message["content"]) for message in messages) > config["CHAT_MAX_CHARACTERS"]:
        abort(413, f"The messages may hold at most {config['CHAT_MAX_CHARACTERS']:,} characters.")
    return messages


def is_unicode(text: str) -> bool:
    """Whether `text` can go upstream as UTF-8 (JSON lets a lone surrogate in, UTF-8 does not)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def token_event(text: str) -> bytes:
    """Frame a token as an event; JSON keeps its line breaks and spaces intact."""
    return formats.sse_event(json.dumps(text), event="token")


def events(answer: Answer, heartbeat: float) -> Iterator[bytes]:
    """Each token as an event when it arrives, a comment after `heartbeat` s without one, `done`."""
    while (text := answer.next(heartbeat)) is not None:
        yield token_event(text) if text else KEEP_ALIVE
    yield formats.sse_event("", event="done")


def relay(first: bytes, rest: Iterator[bytes], logger: logging.Logger) -> Iterator[bytes]:
    """Send the first event, then the rest as they come; end with `error` if the upstream fails."""
    yield first
    try:
        yield from rest
    except UpstreamFailed as error:
        # The status line is gone: say so in the stream, which the page shows, rather than end
        # as if the answer were complete.
        logger.warning("Chat relay failed after its status line: %s %s", error, error.detail)
        yield formats.sse_event(str(error), event="error")


@bp.post("/chat")
def chat() -> Response:
    """Relay the upstream's answer to {"messages": [...]} as Server-Sent Events, token by token."""
    messages = read_messages()
    config = current_app.config
    # Whatever fails from here on releases what was taken; once streaming, the stream does.
    with ExitStack() as taken:
        taken.callback(limits.admit("chat relays", config["CHAT_MAX_RELAYS"]))
        answer = Answer(messages)
        # A browser that goes away cuts the upstream connection: nothing keeps generating.
        taken.callback(answer.close)
        sent = events(answer, config["CHAT_HEARTBEAT"])
        # Wait one heartbeat for the upstream before answering: a failure within it (refused,
        # 401, 429, 5xx) is a clean 502 or 504; past it the status line leaves with a
        # keep-alive, and a failure becomes an error event.
        try:
            first = next(sent)
        except UpstreamFailed as error:
            current_app.logger.warning(
                "Chat relay failed before its status line: %s %s", error, error.detail
            )
            abort(error.status, str(error))
        release = taken.pop_all()
    return streaming.stream(
        relay(first, sent, current_app.logger),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache"},
        on_close=(release.close,),
    )


@bp.get("/chat/demo")
def demo() -> str:
    """A page that sends a prompt and shows the answer as it arrives, with a Stop button."""
    real = bool(current_app.config["CHAT_UPSTREAM_URL"])
    return render_template("chat_demo.html", real_upstream=real)
