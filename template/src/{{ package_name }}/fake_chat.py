"""A stand-in for an OpenAI-compatible chat API: deterministic tokens, one every `delay` seconds.

The app answers /chat with it when CHAT_UPSTREAM_URL is not set (through httpx's MockTransport,
so the relay runs the same client code as against a real server), and the tests and
scripts/bench_relay.py serve it on a loopback port as a real upstream (it is a WSGI app).
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
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


class HungUp(Exception):
    """The relay closed the connection while the fake was waiting."""


def failure(authorization: str | None) -> bytes:
    """What the fake answers when told to fail: a JSON error that quotes the key, as OpenAI's."""
    message = f"Incorrect API key provided: {authorization}"
    return json.dumps({"error": {"message": message}}).encode()


def pause(seconds: float, peer: socket.socket | None) -> None:
    """Wait `seconds`; raise HungUp the moment the relay closes the connection.

    A real upstream notices a closed connection while it works, and stops generating.
    """
    if peer is None:
        time.sleep(seconds)
        return
    # The relay sends nothing after its request: readable means that it has closed its end.
    readable, _, _ = select.select([peer], [], [], seconds)
    if readable:
        raise HungUp


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
        silence: float = 0.0,
        status: int = 200,
        stop_after: int | None = None,
        thinking: float = 0.0,
        body: Iterable[bytes] | None = None,
    ) -> None:
        self.delay = delay
        # Seconds before the status line (a server that has accepted the request and hangs).
        self.first_delay = first_delay
        # Seconds with nothing sent after the status line and the first event (which has no
        # text): a model that thinks before its first token, without saying so.
        self.silence = silence
        # Anything but 200: answered with that status and a JSON error, as the real APIs do.
        self.status = status
        # Cut the connection after this many tokens, without [DONE].
        self.stop_after = stop_after
        # Seconds of thinking after the first token: an event without text every `delay`.
        self.thinking = thinking
        # Sent instead of the answer, as it is: what a broken or hostile upstream sends.
        self.body = body
        self.requests: list[dict[str, Any]] = []
        self.authorizations: list[str | None] = []
        # When each relay that hung up before the end was noticed (time.monotonic()).
        self.hung_up: list[float] = []
        self._lock = threading.Lock()

    def events(self, messages: list[dict[str, str]], peer: socket.socket | None) -> Iterator[bytes]:
        """The events for `messages`: the role, a chunk per token (then `thinking`), [DONE]."""
        pause(self.first_delay, peer)
        # As OpenAI's API starts: an event with the role, and no text.
        yield chunk("assistant", field="role")
        pause(self.silence, peer)
        for count, token in enumerate(answer(messages)):
            if count == self.stop_after:
                # An upstream that dies mid-answer: the relay must not pass this off as done.
                raise ConnectionAbortedError("the fake upstream stopped on purpose")
            if count:
                pause(self.delay, peer)
            yield chunk(token)
            if count == 0:
                yield from self.think(peer)
        yield b"data: [DONE]\n\n"

    def think(self, peer: socket.socket | None) -> Iterator[bytes]:
        """Events without text for `thinking` seconds, as a reasoning model sends them."""
        ends = time.monotonic() + self.thinking
        while time.monotonic() < ends:
            pause(self.delay, peer)
            yield chunk("…", field="reasoning_content")

    def sent(self, messages: list[dict[str, str]], peer: socket.socket | None) -> Iterator[bytes]:
        """What the fake sends (its answer, or `body`), noting a relay that leaves early."""
        sent = self.events(messages, peer) if self.body is None else self.body
        finished = False
        try:
            # Noted here: the server that serves the fake need not hear of it.
            with suppress(HungUp):
                yield from sent
                finished = True
        finally:
            if not finished:
                with self._lock:
                    self.hung_up.append(time.monotonic())

    def receive(self, body: bytes, authorization: str | None) -> list[dict[str, str]]:
        """Note a request and its Authorization header; return its messages."""
        request = json.loads(body)
        self.requests.append(request)
        self.authorizations.append(authorization)
        messages: list[dict[str, str]] = request["messages"]
        return messages

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer an httpx request (for httpx.MockTransport)."""
        authorization = request.headers.get("Authorization")
        messages = self.receive(request.read(), authorization)
        if self.status != 200:
            return httpx.Response(self.status, content=failure(authorization))
        headers = {"Content-Type": "text/event-stream"}
        return httpx.Response(200, headers=headers, content=self.sent(messages, None))

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Answer over HTTP, as a WSGI app."""
        if environ["REQUEST_METHOD"] != "POST":
            # A health check (GET /healthz, say) finds it up.
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"A fake chat completions API: POST to any path.\n"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        authorization = environ.get("HTTP_AUTHORIZATION")
        messages = self.receive(body, authorization)
        if self.status != 200:
            start_response(f"{self.status} Failed", [("Content-Type", "application/json")])
            return [failure(authorization)]
        start_response("200 OK", [("Content-Type", "text/event-stream")])
        # Werkzeug's server gives the connection, so that the fake's waits notice a hang-up.
        return self.sent(messages, environ.get("werkzeug.socket"))


@contextmanager
def served(fake: FakeChat, certificate: tuple[str, str] | None = None) -> Iterator[str]:
    """Serve `fake` on a loopback port from a thread while the block runs: its URL.

    With a certificate (its file, its key's file) it serves HTTPS, as the real APIs do.
    """
    server = make_server("127.0.0.1", 0, fake, threaded=True, ssl_context=certificate)
    # It looks for the shutdown every 10 ms: each test's teardown waited 0.5 s, werkzeug's default.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    scheme = "https" if certificate else "http"
    try:
        yield f"{scheme}://127.0.0.1:{server.server_port}/v1/chat/completions"
    finally:
        server.shutdown()
        thread.join()
