"""A stand-in for an OpenAI-compatible chat API: deterministic tokens, one every `delay` seconds.

The app answers /chat with it when CHAT_UPSTREAM_URL is not set (through httpx's MockTransport,
so the relay runs the same client code as against a real server), and the tests and
scripts/bench_relay.py serve it on a loopback port as a real upstream (it is a WSGI app).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment


def answer(messages: list[dict[str, str]]) -> list[str]:
    """The tokens of the reply: the last user message, echoed back a word at a time."""
    said = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    words = f"You said: {said}".split(" ")
    return [word + " " for word in words[:-1]] + words[-1:]


def chunk(text: str) -> bytes:
    """One event of the stream, as OpenAI's chat completions API frames a token."""
    data = {
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": text}}],
    }
    return f"data: {json.dumps(data)}\n\n".encode()


class FakeChat:
    """A chat completions endpoint with knobs for the failures a relay must survive."""

    def __init__(
        self,
        delay: float = 0.05,
        *,
        first_delay: float = 0.0,
        status: int = 200,
        stop_after: int | None = None,
    ) -> None:
        self.delay = delay
        # Seconds before the first token (past the relay's read timeout: a 504).
        self.first_delay = first_delay
        # Anything but 200: answered with that status and a JSON error, as the real APIs do.
        self.status = status
        # Cut the connection after this many tokens, without [DONE].
        self.stop_after = stop_after
        self.requests: list[dict[str, Any]] = []
        self.authorizations: list[str | None] = []
        # When each relay that hung up before the end was noticed (time.monotonic()).
        self.hung_up: list[float] = []
        self._lock = threading.Lock()

    def events(self, messages: list[dict[str, str]]) -> Iterator[bytes]:
        """The event stream for `messages`: a chunk per token, then [DONE]."""
        finished = False
        try:
            time.sleep(self.first_delay)
            for count, token in enumerate(answer(messages)):
                if count == self.stop_after:
                    # An upstream that dies mid-answer: the relay must not pass this off as done.
                    raise ConnectionAbortedError("the fake upstream stopped on purpose")
                if count:
                    time.sleep(self.delay)
                yield chunk(token)
            yield b"data: [DONE]\n\n"
            finished = True
        finally:
            if not finished:
                with self._lock:
                    self.hung_up.append(time.monotonic())

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer an httpx request (for httpx.MockTransport)."""
        body = json.loads(request.read())
        self.requests.append(body)
        self.authorizations.append(request.headers.get("Authorization"))
        if self.status != 200:
            return httpx.Response(self.status, json={"error": {"message": "fake failure"}})
        headers = {"Content-Type": "text/event-stream"}
        return httpx.Response(200, headers=headers, content=self.events(body["messages"]))

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Answer over HTTP, as a WSGI app."""
        if environ["REQUEST_METHOD"] != "POST":
            # A health check (GET /healthz, say) finds it up.
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"A fake chat completions API: POST to any path.\n"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length))
        self.requests.append(body)
        self.authorizations.append(environ.get("HTTP_AUTHORIZATION"))
        if self.status != 200:
            start_response(f"{self.status} Failed", [("Content-Type", "application/json")])
            return [b'{"error": {"message": "fake failure"}}']
        start_response("200 OK", [("Content-Type", "text/event-stream")])
        return self.events(body["messages"])
