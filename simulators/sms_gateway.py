"""A mock SMS gateway (短信网关) for the tests and the demo: the other end of ``[cases.notify] adapter = "http"``.

It speaks what :class:`hall_bus.features.cases.notify.HttpSmsNotifier` sends: ``POST <path>`` with
JSON, ``Authorization: Bearer <token>`` (checked when the gateway is given a token) and an
``Idempotency-Key`` header. It keeps every request it received (:attr:`SmsGateway.requests`) and
every message it would have sent (:attr:`SmsGateway.messages`): a key it has seen is answered
``200 {"ok": true, "duplicate": true}`` and not sent again, which is how a real gateway makes a
sender's retries harmless.

Faults, the way a gateway fails (one :class:`Faults` plan, set in code, by ``POST /_faults`` or on
the command line):

* ``fail`` - the next N requests are answered with ``fail_status`` (503 by default) and not sent;
* ``drop`` - the next N requests are *taken* (the message is recorded, as a gateway that sent the
  text and crashed before answering) and the connection is closed without an answer;
* ``hold`` - the next N requests are taken and their answer is held back until :meth:`SmsGateway.release`
  (or ``hold_s``), then the connection is closed without an answer: the sender is "mid-send" for as
  long as the test likes;
* ``delay_s`` - every answer waits this long.

Run it for the demo::

    python -m simulators.sms_gateway --port 9200 --token demo-token
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Faults:
    fail: int = 0
    fail_status: int = 503
    drop: int = 0
    hold: int = 0
    hold_s: float = 30.0
    delay_s: float = 0.0


@dataclass
class Received:
    key: str | None
    body: dict[str, Any]
    at: float
    answered: int | None  # the HTTP status, None when the connection was dropped


@dataclass
class SmsGateway:
    """The gateway: ``start()`` it on a free port, read ``url``, ``stop()`` it."""

    host: str = "127.0.0.1"
    port: int = 0
    path: str = "/sms"
    token: str | None = None
    faults: Faults = field(default_factory=Faults)
    requests: list[Received] = field(default_factory=list)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # idempotency key -> the message sent

    def __post_init__(self) -> None:
        self.lock = threading.Condition()
        self._released = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ life
    def start(self) -> SmsGateway:
        self._server = ThreadingHTTPServer((self.host, self.port), _handler(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="sms-gateway", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"

    # ------------------------------------------------------------------ faults and reading
    def fail_next(self, n: int, status: int = 503) -> None:
        with self.lock:
            self.faults.fail, self.faults.fail_status = n, status

    def drop_next(self, n: int) -> None:
        with self.lock:
            self.faults.drop = n

    def hold_next(self, n: int) -> None:
        with self.lock:
            self.faults.hold = n
            self._released.clear()

    def release(self) -> None:
        """Let the held requests go (their connections close unanswered)."""
        self._released.set()

    def wait_released(self) -> None:
        self._released.wait(self.faults.hold_s)

    def sent(self, case_no: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.messages.values() if case_no is None or m.get("case_no") == case_no]

    def wait_for(self, what: Any, timeout: float = 10.0) -> bool:
        """Wait until ``what(gateway)`` is true."""
        with self.lock:
            return bool(self.lock.wait_for(lambda: bool(what(self)), timeout))

    # ------------------------------------------------------------------ one request
    def take(self, key: str | None, body: dict[str, Any]) -> tuple[int | None, dict[str, Any]]:
        """What the gateway does with a request: (HTTP status or None to drop, answer)."""
        with self.lock:
            try:
                if self.faults.fail > 0:
                    self.faults.fail -= 1
                    self._record(key, body, self.faults.fail_status)
                    return self.faults.fail_status, {"ok": False, "error": "gateway busy"}
                duplicate = key in self.messages
                if not duplicate:
                    self.messages[key or f"no-key-{len(self.requests)}"] = body
                if self.faults.drop > 0 or self.faults.hold > 0:
                    held = self.faults.hold > 0
                    if held:
                        self.faults.hold -= 1
                    else:
                        self.faults.drop -= 1
                    self._record(key, body, None)
                    return None, {"held": held}
                self._record(key, body, 200)
                return 200, {"ok": True, "duplicate": duplicate, "id": key}
            finally:
                self.lock.notify_all()

    def _record(self, key: str | None, body: dict[str, Any], status: int | None) -> None:
        self.requests.append(Received(key, body, time.time(), status))


def _handler(gateway: SmsGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # (the request line only: nothing personal)
            return

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if self.path == "/_faults":
                with gateway.lock:
                    gateway.faults = Faults(**json.loads(raw or b"{}"))
                self._answer(200, {"ok": True})
                return
            if self.path != gateway.path:
                self._answer(404, {"ok": False, "error": "no such path"})
                return
            if gateway.token and self.headers.get("Authorization") != f"Bearer {gateway.token}":
                self._answer(401, {"ok": False, "error": "bad token"})
                return
            try:
                body = json.loads(raw)
            except ValueError:
                self._answer(400, {"ok": False, "error": "not JSON"})
                return
            if gateway.faults.delay_s:
                time.sleep(gateway.faults.delay_s)
            status, payload = gateway.take(self.headers.get("Idempotency-Key"), body)
            if status is None:
                if payload.get("held"):
                    gateway.wait_released()
                self.close_connection = True
                self.connection.close()  # taken, never answered
                return
            self._answer(status, payload)

    return Handler


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m simulators.sms_gateway", description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9200)
    p.add_argument("--token", default=None, help="the bearer token the gateway demands")
    p.add_argument("--fail", type=int, default=0, help="answer the first N requests with 503")
    p.add_argument("--drop", type=int, default=0, help="take the first N requests and drop the connection")
    args = p.parse_args(argv)
    gateway = SmsGateway(args.host, args.port, token=args.token, faults=Faults(fail=args.fail, drop=args.drop)).start()
    print(f"mock SMS gateway at {gateway.url}", flush=True)
    seen = 0
    try:
        while True:
            time.sleep(0.5)
            with gateway.lock:
                fresh = gateway.requests[seen:]
                seen = len(gateway.requests)
            for r in fresh:
                print(f"{r.answered or 'dropped'}  {r.key}  {r.body.get('case_no')}  {r.body.get('text')}", flush=True)
    except KeyboardInterrupt:
        gateway.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
