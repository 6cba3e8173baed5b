"""The console's own listening socket (``ui.web.server.bound``): asyncio turns Nagle off
(TCP_NODELAY) only on sockets that name IPPROTO_TCP; without it every answer written in two parts
waited ~40 ms for the client's delayed ACK (benchmarks/web.py measured 44 ms a page instead of 2.5)."""

from __future__ import annotations

import asyncio
import socket

from ui.web.server import bound


def test_the_bound_socket_names_tcp_so_accepted_connections_get_nodelay() -> None:
    listen = bound("127.0.0.1", 0)
    try:
        assert listen.proto == socket.IPPROTO_TCP
        port = listen.getsockname()[1]

        async def accepted_nodelay() -> int:
            seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

            def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                sock = writer.get_extra_info("socket")
                seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                writer.close()

            server = await asyncio.start_server(on_client, sock=listen)
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            value = await asyncio.wait_for(seen, 5)
            writer.close()
            server.close()
            return value

        assert asyncio.run(accepted_nodelay()) != 0
    finally:
        listen.close()
