"""Server-sent events, as every live page of the web application sends them: the event's bytes, the
wait for the next change of a page's queue (with a keep-alive every 15 s of quiet, and the closed page
noticed within a second, so a browser's few connections per host are let go), and the bounded queue a
bus thread offers changes to."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request

RETRY = b"retry: 2000\n\n"  # the browser reconnects after 2 s
KEEPALIVE = b": keep-alive\n\n"
KEEPALIVE_S = 15.0


def event(name: str, payload: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(payload, ensure_ascii=False, default=str)}\n\n".encode()


async def changes(request: Request, q: asyncio.Queue[tuple[str, Any]]) -> AsyncIterator[tuple[str, Any] | None]:
    """The queue's items while the page stays connected; ``None`` when a keep-alive is due."""
    quiet = 0.0
    while not await request.is_disconnected():  # (asked every second)
        try:
            item = await asyncio.wait_for(q.get(), timeout=1.0)
        except TimeoutError:
            quiet += 1.0
            if quiet >= KEEPALIVE_S:
                quiet = 0.0
                yield None
            continue
        quiet = 0.0
        yield item


def offer(q: asyncio.Queue[tuple[str, Any]], item: tuple[str, Any]) -> None:
    """Put a change in a page's queue (on its event loop); a page that stopped reading loses its
    oldest changes, never the server's memory."""
    if q.full():
        try:
            q.get_nowait()
        except asyncio.QueueEmpty:
            pass
    q.put_nowait(item)
