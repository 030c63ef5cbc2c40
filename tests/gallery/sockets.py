"""Talking to the studio's websockets in tests: Channels' WebsocketCommunicator against the real
ASGI application, with the headers a script or a browser sends.

Shared by the run, event and sweep stream tests, so that each of them reads as what a client
sends and what it gets back.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from channels.testing import WebsocketCommunicator

from canvascraft.asgi import application
from registry import services

Header = tuple[bytes, bytes]


def token_of(user) -> Header:
    """The header a script sends: a fresh API token of `user`."""
    _, key = services.api_token_create(user=user, name="live")
    return (b"authorization", f"Token {key}".encode())


async def connect(path: str, *headers: Header) -> tuple[WebsocketCommunicator, bool, int | None]:
    """Opens `path`; also says whether the handshake was accepted and, if not, the close code."""
    communicator = WebsocketCommunicator(application, path, headers=list(headers))
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


async def open_socket(path: str, *headers: Header) -> WebsocketCommunicator:
    """Opens `path` for a test that reads what the server sends, refusals included."""
    communicator, _connected, _code = await connect(path, *headers)
    return communicator


async def receive(communicator: WebsocketCommunicator, timeout: float = 5) -> dict:
    return json.loads(await communicator.receive_from(timeout=timeout))


async def receive_until(
    communicator: WebsocketCommunicator, done: Callable[[list[dict]], bool], timeout: float = 10
) -> list[dict]:
    messages: list[dict] = []
    async with asyncio.timeout(timeout):
        while not done(messages):
            messages.append(await receive(communicator, timeout=timeout))
    return messages


async def closed_with(communicator: WebsocketCommunicator) -> int:
    """Waits for the server to close the socket and returns the close code."""
    output = await communicator.receive_output(timeout=5)
    while output["type"] != "websocket.close":
        output = await communicator.receive_output(timeout=5)
    await communicator.disconnect()  # what a real server tells the consumer next
    return output["code"]
