"""Recipe token_relay: relay a language model's tokens from an upstream API to the browser."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Generator, Iterator

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask.sansio.blueprints import BlueprintSetupState

from . import formats, streaming
from .chat_upstream import UpstreamFailed, tokens

bp = Blueprint("token_relay", __name__)

ROLES = ("system", "user", "assistant")


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
    # While the upstream sends events without text (a reasoning model thinks), a comment every
    # this many seconds checks that the browser is still there: one that has gone is noticed at
    # the second, and the upstream is closed.
    config.setdefault("CHAT_HEARTBEAT", 0.5)
    # Relays at once per process, counted before going upstream (the wait for the first token
    # holds a waitress thread); each holds one upstream connection (httpx's pool limit too).
    config.setdefault("CHAT_MAX_RELAYS", config["STREAM_MAX_OPEN"])
    # What a request may carry: bytes of body, messages, characters in all of them.
    config.setdefault("CHAT_MAX_BODY", 64 * 1024)
    config.setdefault("CHAT_MAX_MESSAGES", 50)
    config.setdefault("CHAT_MAX_CHARACTERS", 32_000)
    # The built-in fake's seconds between two tokens.
    config.setdefault("CHAT_FAKE_DELAY", 0.05)


def read_messages() -> list[dict[str, str]]:
    """Read {"messages": [{"role": ..., "content": ...}, ...]} from the body; 4xx when bad."""
    config = current_app.config
    if request.mimetype != "application/json":
        abort(415, "POST /chat takes a JSON body (Content-Type: application/json).")
    # Refused before it is read, and a body without Content-Length is cut off at the limit.
    request.max_content_length = config["CHAT_MAX_BODY"]
    if (request.content_length or 0) > config["CHAT_MAX_BODY"]:
        abort(413, f"The body may hold at most {config['CHAT_MAX_BODY']:,} bytes.")
    body = request.get_json(silent=True)
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
    if sum(len(message["content"]) for message in messages) > config["CHAT_MAX_CHARACTERS"]:
        abort(413, f"The messages may hold at most {config['CHAT_MAX_CHARACTERS']:,} characters.")
    return messages


def token_event(text: str) -> bytes:
    """Frame a token as an event; JSON keeps its line breaks and spaces intact."""
    return formats.sse_event(json.dumps(text), event="token")


def relay(
    first: str | None, rest: Generator[str], logger: logging.Logger, heartbeat: float
) -> Iterator[bytes]:
    """Send each token the moment it arrives; end with `done`, or `error` if the upstream fails."""
    if first is not None:
        yield token_event(first)
    sent = time.monotonic()
    try:
        for text in rest:
            if text:
                yield token_event(text)
            elif time.monotonic() - sent >= heartbeat:
                # A write is the only way to learn that the client has gone.
                yield b": keep-alive\n\n"
            else:
                continue
            sent = time.monotonic()
    except UpstreamFailed as error:
        # The status line is gone: say so in the stream, which the page shows, rather than end
        # as if the answer were complete.
        logger.warning("Chat relay failed after its first token: %s", error)
        yield formats.sse_event(str(error), event="error")
        return
    yield formats.sse_event("", event="done")


@bp.post("/chat")
def chat() -> Response:
    """Relay the upstream's answer to {"messages": [...]} as Server-Sent Events, token by token."""
    messages = read_messages()
    leave = streaming.admit("chat relays", current_app.config["CHAT_MAX_RELAYS"])
    answer = tokens(messages)
    # Wait for the first token before answering: an upstream that fails before it is a clean
    # 502 or 504, not a 200 followed by an error.
    try:
        first = next((text for text in answer if text), None)
    except Exception as error:
        leave()
        if isinstance(error, UpstreamFailed):
            abort(error.status, str(error))
        raise
    return streaming.stream(
        relay(first, answer, current_app.logger, current_app.config["CHAT_HEARTBEAT"]),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache"},
        # A browser that goes away closes the upstream connection: nothing keeps generating.
        on_close=(answer.close, leave),
    )


@bp.get("/chat/demo")
def demo() -> str:
    """A page that sends a prompt and shows the answer as it arrives, with a Stop button."""
    real = bool(current_app.config["CHAT_UPSTREAM_URL"])
    return render_template("chat_demo.html", real_upstream=real)
