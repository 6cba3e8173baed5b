"""Server-sent events, as every live page of the web application sends them: the event's bytes, the
wait for the next change of a page's queue (with a keep-alive every 15 s of quiet, and the closed page
noticed within a second, so a browser's few connections per host are let go), and the bounded queue a
bus thread offers changes to."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from starlette.requests import Request


class Feeds(Protocol):
    """What :func:`follow` needs of the live hall (:class:`ui.web.live.HallLive`)."""

    def feed(self) -> asyncio.Queue[tuple[str, Any]]: ...

    def unfeed(self, q: asyncio.Queue[tuple[str, Any]]) -> None: ...


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


async def follow(
    request: Request,
    live: Feeds,
    name: str,
    view: Any,
    touches: Callable[[str, Any, Any], bool],
    read: Callable[[], Any],
    settle_s: float = 0.0,
) -> AsyncIterator[bytes]:
    """One thing a citizen's page follows (a ticket, a mandate): ``view`` now, then ``read()`` again (in a
    thread: it asks the bus) whenever a change of the live hall ``touches(key, data, view)`` the view it
    shows now, sent when it differs.
    ``settle_s`` lets the changes of one step arrive before reading once; a read that fails waits for
    the next change; a read that finds nothing ends the stream. Nothing else of the hall is sent."""
    q = live.feed()
    try:
        yield RETRY
        yield event(name, view)
        async for item in changes(request, q):
            if item is None:
                yield KEEPALIVE
                continue
            if not touches(item[0], item[1], view):
                continue
            if settle_s:
                await asyncio.sleep(settle_s)
                while not q.empty():
                    q.get_nowait()
            try:
                fresh = await asyncio.to_thread(read)
            except Exception:  # the bus is away for a moment (WebError): the next change tries again
                continue
            if fresh is None:
                return
            if fresh != view:
                view = fresh
                yield event(name, view)
    finally:
        live.unfeed(q)
