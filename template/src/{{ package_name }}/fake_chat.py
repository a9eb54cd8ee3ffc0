"""The offline stand-in for an OpenAI-compatible chat API: the relay's answer without a key.

The app answers /chat with it when CHAT_UPSTREAM_URL is not set, through httpx's MockTransport,
so the relay runs the same client code as against a real server. tests/fake_upstream.py serves
the same answers on a loopback port, with the failures a relay must survive.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx


def answer(messages: list[dict[str, str]]) -> list[str]:
    """The tokens of the reply: the last user message, echoed back a word at a time."""
    said = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    words = f"You said: {said}".split(" ")
    return [word + " " for word in words[:-1]] + words[-1:]


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
    """A chat completions endpoint that answers every request, one token every `delay` seconds."""

    def __init__(self, delay: float = 0.05) -> None:
        self.delay = delay

    def events(self, messages: list[dict[str, str]]) -> Iterator[bytes]:
        """The events for `messages`: the role (no text, as OpenAI's start), the tokens, [DONE]."""
        yield chunk("assistant", field="role")
        for count, token in enumerate(answer(messages)):
            if count:
                time.sleep(self.delay)
            yield chunk(token)
        yield b"data: [DONE]\n\n"

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer an httpx request (for httpx.MockTransport)."""
        messages = json.loads(request.read())["messages"]
        headers = {"Content-Type": "text/event-stream"}
        return httpx.Response(200, headers=headers, content=self.events(messages))
