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
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import httpx
from werkzeug.serving import make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment


def answer(messages: list[dict[str, str]]) -> list[str]:
    """The tokens of the reply: the last user message, echoed back a word at a time."""
    said = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    words = f"You said: {said}".split(" ")
    return [word + " " for word in words[:-1]] + words[-1:]


# What the fake answers when told to fail, as the real APIs do: a status and a JSON error.
FAILURE = b'{"error": {"message": "fake failure"}}'


def chunk(text: str, field: str = "content") -> bytes:
    """One event of the stream, as OpenAI's chat completions API frames a token.

    Servers of reasoning models (vLLM, llama.cpp, DeepSeek) send their thinking in events whose
    delta has "reasoning_content" instead: no text for the answer.
    """
    data = {
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {field: text}}],
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
        thinking: float = 0.0,
    ) -> None:
        self.delay = delay
        # Seconds before the first token (past the relay's read timeout: a 504).
        self.first_delay = first_delay
        # Anything but 200: answered with that status and a JSON error, as the real APIs do.
        self.status = status
        # Cut the connection after this many tokens, without [DONE].
        self.stop_after = stop_after
        # Seconds of thinking after the first token: an event without text every `delay`.
        self.thinking = thinking
        self.requests: list[dict[str, Any]] = []
        self.authorizations: list[str | None] = []
        # When each relay that hung up before the end was noticed (time.monotonic()).
        self.hung_up: list[float] = []
        self._lock = threading.Lock()

    def events(self, messages: list[dict[str, str]]) -> Iterator[bytes]:
        """The event stream for `messages`: a chunk per token (with `thinking` after the first one),
        then [DONE]."""
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
                if count == 0:
                    yield from self.think()
            yield b"data: [DONE]\n\n"
            finished = True
        finally:
            if not finished:
                with self._lock:
                    self.hung_up.append(time.monotonic())

    def think(self) -> Iterator[bytes]:
        """Events without text for `thinking` seconds, as a reasoning model sends them."""
        ends = time.monotonic() + self.thinking
        while time.monotonic() < ends:
            time.sleep(self.delay)
            yield chunk("…", field="reasoning_content")

    def receive(self, body: bytes, authorization: str | None) -> list[dict[str, str]]:
        """Note a request and its Authorization header; return its messages."""
        request = json.loads(body)
        self.requests.append(request)
        self.authorizations.append(authorization)
        messages: list[dict[str, str]] = request["messages"]
        return messages

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer an httpx request (for httpx.MockTransport)."""
        messages = self.receive(request.read(), request.headers.get("Authorization"))
        if self.status != 200:
            return httpx.Response(self.status, content=FAILURE)
        headers = {"Content-Type": "text/event-stream"}
        return httpx.Response(200, headers=headers, content=self.events(messages))

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Answer over HTTP, as a WSGI app."""
        if environ["REQUEST_METHOD"] != "POST":
            # A health check (GET /healthz, say) finds it up.
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"A fake chat completions API: POST to any path.\n"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        messages = self.receive(body, environ.get("HTTP_AUTHORIZATION"))
        if self.status != 200:
            start_response(f"{self.status} Failed", [("Content-Type", "application/json")])
            return [FAILURE]
        start_response("200 OK", [("Content-Type", "text/event-stream")])
        return self.events(messages)


@contextmanager
def served(fake: FakeChat) -> Iterator[str]:
    """Serve `fake` on a loopback port from a thread while the block runs: its URL."""
    server = make_server("127.0.0.1", 0, fake, threaded=True)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1/chat/completions"
    finally:
        server.shutdown()
        thread.join()
