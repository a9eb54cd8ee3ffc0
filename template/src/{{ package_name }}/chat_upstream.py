"""The client side of an OpenAI-compatible chat API: send the messages, yield the tokens."""

from __future__ import annotations

import json
from collections.abc import Generator

import httpx
from flask import current_app

from .fake_chat import FakeChat

# Where the built-in fake answers (through a MockTransport: nothing listens there).
FAKE_URL = "http://fake-upstream.invalid/v1/chat/completions"


class UpstreamFailed(Exception):
    """The upstream failed; `status` is what a client gets if nothing was sent to it yet."""

    def __init__(self, message: str, status: int = 502) -> None:
        super().__init__(message)
        self.status = status


def client() -> httpx.Client:
    """This process's client for the upstream (its connections are reused), made on first use."""
    extensions = current_app.extensions
    if "chat_client" not in extensions:
        config = current_app.config
        timeout = httpx.Timeout(
            connect=config["CHAT_CONNECT_TIMEOUT"],
            # Between two reads: the first token, then each next one.
            read=config["CHAT_READ_TIMEOUT"],
            write=config["CHAT_CONNECT_TIMEOUT"],
            # Waiting for a free connection of the pool.
            pool=config["CHAT_CONNECT_TIMEOUT"],
        )
        # Every relay holds one upstream connection for its length.
        limits = httpx.Limits(max_connections=config["CHAT_MAX_RELAYS"])
        fake = None if config["CHAT_UPSTREAM_URL"] else FakeChat(config["CHAT_FAKE_DELAY"])
        transport = httpx.MockTransport(fake.handle) if fake else None
        made = httpx.Client(timeout=timeout, limits=limits, transport=transport)
        # Two first relays at once may both get here: keep one client, close the other.
        if extensions.setdefault("chat_client", made) is not made:
            made.close()
    chat_client: httpx.Client = extensions["chat_client"]
    return chat_client


def tokens(messages: list[dict[str, str]]) -> Generator[str]:
    """Yield the tokens of the upstream's answer as they arrive; raise UpstreamFailed if it fails.

    An event without text (a role, a reasoning model's thinking) yields "": the upstream is at
    work, and the relay may check on its client meanwhile. Closing the generator closes the
    upstream connection: the upstream stops generating.
    """
    config = current_app.config
    url = config["CHAT_UPSTREAM_URL"] or FAKE_URL
    headers = {"Accept": "text/event-stream"}
    if config["CHAT_UPSTREAM_API_KEY"]:
        headers["Authorization"] = f"Bearer {config['CHAT_UPSTREAM_API_KEY']}"
    body = {"model": config["CHAT_MODEL"], "messages": messages, "stream": True}
    chat_client = client()
    try:
        response = chat_client.send(
            chat_client.build_request("POST", url, json=body, headers=headers), stream=True
        )
    except httpx.TimeoutException as error:
        raise UpstreamFailed(
            f"The chat upstream did not answer in time ({error!r}).", 504
        ) from error
    except httpx.HTTPError as error:
        raise UpstreamFailed(f"The chat upstream could not be reached ({error!r}).") from error
    try:
        if response.status_code != 200:
            detail = response.read()[:200].decode(errors="replace")
            raise UpstreamFailed(f"The chat upstream answered {response.status_code}: {detail}")
        for line in response.iter_lines():
            # Server-Sent Events: "data: <json>" lines, blank lines between events, and
            # "data: [DONE]" at the end; comments and other fields carry no tokens.
            if not line.startswith("data:"):
                if line:
                    yield ""
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                return
            choices = json.loads(data).get("choices", [])
            texts = [
                text for choice in choices if (text := (choice.get("delta") or {}).get("content"))
            ]
            yield from texts or [""]
        raise UpstreamFailed("The chat upstream ended its answer without [DONE].")
    except httpx.TimeoutException as error:
        raise UpstreamFailed("The chat upstream stopped sending tokens.", 504) from error
    except (httpx.HTTPError, ConnectionError) as error:
        raise UpstreamFailed(f"The chat upstream's answer broke off ({error!r}).") from error
    except (ValueError, AttributeError) as error:
        raise UpstreamFailed(f"The chat upstream sent something unreadable ({error!r}).") from error
    finally:
        response.close()
