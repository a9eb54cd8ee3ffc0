"""The client side of an OpenAI-compatible chat API: send the messages, read the tokens.

A thread (a greenlet under gevent) reads each answer, so that the relay can write while it waits.
"""

from __future__ import annotations

import _thread
import json
import queue
import re
import socket
import threading
from collections.abc import Iterable, Iterator
from contextlib import suppress
from typing import Any, cast

import httpcore
import httpx
from flask import current_app

from .fake_chat import FakeChat

# Where the built-in fake answers (through a MockTransport: nothing listens there).
FAKE_URL = "http://fake-upstream.invalid/v1/chat/completions"
# Tokens read ahead of a client that takes them slowly; the upstream then waits (TCP's window).
READ_AHEAD = 64
# Bytes of an upstream's error body that are read, for the log.
LOGGED_BODY = 1000
UNREADABLE = "The chat upstream sent something unreadable."
# What looks like a credential: a bearer or basic token, an OpenAI-style key, a URL's password.
CREDENTIAL = re.compile(r'(?i)\b(?:bearer|basic)\s+[^\s"]+|\bsk-[\w*.-]{4,}|(?<=://)[^/@\s]+(?=@)')


class UpstreamFailed(Exception):
    """The upstream failed: str() and `status` are for the client, `detail` for the log only."""

    def __init__(self, message: str, status: int = 502, detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


def client() -> httpx.Client:
    """This process's client for the upstream, made on first use."""
    extensions = current_app.extensions
    if "chat_client" not in extensions:
        config = current_app.config
        # Seconds to connect (also to send the request and to wait for a pooled connection), and
        # between two reads: the first token, then each next one.
        timeout = httpx.Timeout(config["CHAT_CONNECT_TIMEOUT"], read=config["CHAT_READ_TIMEOUT"])
        # One connection per relay, none kept for the next: a relay cuts its own when its client
        # leaves, and must never cut one that another relay has taken over.
        limits = httpx.Limits(
            max_connections=config["CHAT_MAX_RELAYS"], max_keepalive_connections=0
        )
        fake = None if config["CHAT_UPSTREAM_URL"] else FakeChat(config["CHAT_FAKE_DELAY"])
        transport = httpx.MockTransport(fake.handle) if fake else None
        made = httpx.Client(timeout=timeout, limits=limits, transport=transport)
        # Two first relays at once may both get here: keep one client, close the other.
        if extensions.setdefault("chat_client", made) is not made:
            made.close()
    return cast(httpx.Client, extensions["chat_client"])


class Connection:
    """One relay's upstream connection, which the relay's thread can cut at any moment."""

    def __init__(self) -> None:
        self.cut = False
        self.stream: httpcore.NetworkStream | None = None
        self.lock = threading.Lock()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace hook: note each network stream as it is made (TCP, then TLS)."""
        stream = info.get("return_value")
        if event.endswith(".complete") and isinstance(stream, httpcore.NetworkStream):
            with self.lock:
                self.stream = stream
                if self.cut:  # made after the client left
                    self.shut_down()

    def forget(self) -> None:
        """The reader is done with the connection (and closes it): never cut it from now on."""
        with self.lock:
            self.stream = None

    def close(self) -> None:
        """Cut the connection, waking the reader wherever it waits."""
        with self.lock:
            self.cut = True
            self.shut_down()

    def shut_down(self) -> None:
        # shutdown, not close: closing a socket does not wake a thread blocked in its recv.
        if self.stream is not None:
            with suppress(OSError):
                self.stream.get_extra_info("socket").shutdown(socket.SHUT_RDWR)


class Answer:
    """The upstream's answer to `messages`, read token by token by a thread of its own."""

    def __init__(self, messages: list[dict[str, str]]) -> None:
        config = current_app.config
        self.key: str | None = config["CHAT_UPSTREAM_API_KEY"]
        self.max_line: int = config["CHAT_MAX_LINE"]
        self.connection = Connection()
        self.queue: queue.Queue[str | Exception | None] = queue.Queue(READ_AHEAD)
        # The upstream's own compression would let a small body grow past any bound here.
        headers = {"Accept": "text/event-stream", "Accept-Encoding": "identity"}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        body = {"model": config["CHAT_MODEL"], "messages": messages, "stream": True}
        self.client = client()
        self.request = self.client.build_request(
            "POST",
            config["CHAT_UPSTREAM_URL"] or FAKE_URL,
            json=body,
            headers=headers,
            extensions={"trace": self.connection.trace},
        )
        # Unlike threading's, this start does not wait for the thread to run (7 ms, 100 relays).
        _thread.start_new_thread(self.read, ())

    def next(self, timeout: float) -> str | None:
        """The next token; "" if none came within `timeout` s, None at the end; raise a failure."""
        try:
            item = self.queue.get(timeout=timeout)
        except queue.Empty:
            return ""
        if isinstance(item, Exception):
            raise item
        return item

    def close(self) -> None:
        """Stop reading: cut the upstream connection, so that the upstream stops generating."""
        self.connection.close()
        # A reader waiting for room gets it and sees the cut (the relay is the only consumer).
        while not self.queue.empty():
            self.queue.get_nowait()

    def read(self) -> None:
        """Put each token into the queue, then None at the end, or what made reading fail."""
        end: Exception | None = None
        try:
            for text in self.tokens():
                # Checked before each put: a cut relay takes nothing more (see close).
                if self.connection.cut:
                    return
                self.queue.put(text)
        except Exception as error:
            end = self.failure(error)
        # Once cut, a failure is the cut itself, and nobody waits for the end.
        if not self.connection.cut:
            self.queue.put(end)

    def tokens(self) -> Iterator[str]:
        """Yield the tokens of the answer as they arrive; raise UpstreamFailed if it fails."""
        response = self.client.send(self.request, stream=True)
        try:
            if (status := response.status_code) != 200:
                raise UpstreamFailed(
                    f"The chat upstream answered {status}.", detail=error_body(response)
                )
            for line in lines(response.iter_raw(), self.max_line):
                # Server-Sent Events: "data: <json>" lines, blank lines between events, and
                # "data: [DONE]" at the end; comments and other fields carry no tokens.
                if line.startswith(b"data:"):
                    if (data := line[5:].strip()) == b"[DONE]":
                        return
                    if text := text_of(data):
                        yield text
            raise UpstreamFailed("The chat upstream ended its answer without [DONE].")
        finally:
            self.connection.forget()
            response.close()

    def failure(self, error: Exception) -> Exception:
        """What the client is told of `error`: a fixed sentence (the log gets the details)."""
        if isinstance(error, UpstreamFailed):
            error.detail = redacted(error.detail, self.key)
            return error
        detail = redacted(repr(error), self.key)
        if isinstance(error, httpx.TimeoutException):
            return UpstreamFailed("The chat upstream did not answer in time.", 504, detail)
        if isinstance(error, httpx.ConnectError):
            return UpstreamFailed("The chat upstream could not be reached.", detail=detail)
        if isinstance(error, httpx.TransportError):
            return UpstreamFailed("The chat upstream's connection failed.", detail=detail)
        # Anything else is a fault of this app's: the server answers 500, or cuts the stream.
        return error


def redacted(text: str, key: str | None) -> str:
    """`text` without the API key `key` or anything else that looks like a credential."""
    if key:
        text = text.replace(key, "[redacted]")
    return CREDENTIAL.sub("[redacted]", text)


def lines(chunks: Iterable[bytes], limit: int) -> Iterator[bytes]:
    """Split a byte stream at CR, LF or CRLF; UpstreamFailed past `limit` bytes in one line."""
    held: list[bytes] = []
    size = 0
    for chunk in chunks:
        held.append(chunk)
        size += len(chunk)
        # Joined only at a line end: a long line costs one join, not one per chunk.
        if b"\n" in chunk or b"\r" in chunk:
            found = b"".join(held).splitlines(keepends=True)
            # The last piece may be unfinished, or end in a CR whose LF is still to come.
            rest = b"" if found[-1].endswith(b"\n") else found.pop()
            for line in found:
                if len(line := line.rstrip(b"\r\n")) > limit:
                    raise too_long(limit)
                yield line
            held, size = [rest], len(rest)
        if size > limit:
            raise too_long(limit)


def too_long(limit: int) -> UpstreamFailed:
    """The failure of a line over `limit` bytes: the upstream is cut before it grows further."""
    return UpstreamFailed(f"The chat upstream sent a line over {limit:,} bytes.")


def text_of(data: bytes) -> str:
    """The answer's text in one event (its choices' delta.content); fail on anything else."""
    try:
        event = json.loads(data)
        error = event.get("error")
        # join() refuses a content that is not text.
        choices = event.get("choices") or []
        text = "".join((choice.get("delta") or {}).get("content") or "" for choice in choices)
    # Not JSON, nested past Python's stack, or not objects where objects belong.
    except (ValueError, RecursionError, AttributeError, TypeError) as failure:
        raise UpstreamFailed(UNREADABLE, detail=f"{failure!r} in {data[:200]!r}") from None
    if error:
        detail = repr(error)[:LOGGED_BODY]
        raise UpstreamFailed("The chat upstream reported an error.", detail=detail)
    return text


def error_body(response: httpx.Response) -> str:
    """The start of an error answer's body, for the log (the rest is never read)."""
    with suppress(httpx.HTTPError):
        return next(response.iter_raw(LOGGED_BODY), b"").decode(errors="replace")
    return ""
