"""MQTT brokers HallKit can run itself.

* :class:`Mosquitto` – the real broker (Debian's ``mosquitto``), started as a child process on a
  loopback port with a generated configuration; used by the tests and in production.
* :class:`EmbeddedBroker` – amqtt (pure Python, MQTT 3.1.1) in a background thread: the
  zero-install default for the demo hall.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from _collections_abc import dict_items, dict_keys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hall_bus.bus.credentials import tls_listener_lines

log = logging.getLogger(__name__)

MOSQUITTO_PATHS = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/usr/bin/mosquitto")


class BrokerError(RuntimeError):
    pass


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.02)
    return False


def find_mosquitto() -> str | None:
    found = shutil.which("mosquitto")
    if found:
        return found
    for path in MOSQUITTO_PATHS:
        if os.access(path, os.X_OK):
            return path
    return None


class Mosquitto:
    """A mosquitto child process on ``host:port``.

    ``extra_conf`` lines are appended to the generated configuration (e.g. ``password_file`` and
    ``acl_file`` from :mod:`hall_bus.security`). ``restart()`` stops and starts it on the same port,
    which is how tests play a broker restart.
    """

    def __init__(
        self,
        port: int | None = None,
        host: str = "127.0.0.1",
        extra_conf: str = "",
        allow_anonymous: bool = True,
        workdir: str | None = None,
        tls_dir: str | Path | None = None,
        client_certs: bool = False,
    ) -> None:
        self.host = host
        self.tls_dir = tls_dir  # the hall CA and broker certificate (hallkit bus credentials): a TLS listener
        self.client_certs = client_certs
        self.port = port or free_port(host)
        self.extra_conf = extra_conf
        self.allow_anonymous = allow_anonymous
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="hallkit-mosquitto-")
            workdir = self._tmp.name
        self.workdir = Path(workdir)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.workdir / "mosquitto.log"

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls_dir else 'mqtt'}://{self.host}:{self.port}"

    def write_conf(self) -> Path:
        conf = self.workdir / "mosquitto.conf"
        tls = (
            "".join(line + "\n" for line in tls_listener_lines(self.tls_dir, self.client_certs)) if self.tls_dir else ""
        )
        conf.write_text(
            f"listener {self.port} {self.host}\n"
            + tls
            + f"allow_anonymous {'true' if self.allow_anonymous else 'false'}\n"
            "persistence false\n"
            "set_tcp_nodelay true\n"
            "max_queued_messages 100000\n"
            "max_inflight_messages 0\n"
            # Started as root, mosquitto would drop to the `mosquitto` user and could then not read
            # our log, password and ACL files; a broker we start runs as whoever started it.
            + (f"user {pwd.getpwuid(os.geteuid()).pw_name}\n" if os.geteuid() == 0 else "")
            + f"log_dest file {self.log_path}\n"
            "log_type error\nlog_type warning\nlog_type notice\n" + self.extra_conf
        )
        return conf

    def start(self, timeout: float = 10.0) -> Mosquitto:
        binary = find_mosquitto()
        if binary is None:
            raise BrokerError("mosquitto is not installed (apt-get install mosquitto); `bash run.sh test` installs it")
        conf = self.write_conf()
        self.proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if not wait_for_port(self.host, self.port, timeout):
            err = b""
            if self.proc.poll() is not None and self.proc.stderr:
                err = self.proc.stderr.read()
            self.stop()
            raise BrokerError(
                f"mosquitto did not start on {self.host}:{self.port}: {err.decode(errors='replace').strip()}"
            )
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc and self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def restart(self, down_s: float = 0.0) -> None:
        self.stop()
        if down_s:
            time.sleep(down_s)
        self.start()

    def close(self) -> None:
        self.stop()
        if self._tmp:
            self._tmp.cleanup()

    def __enter__(self) -> Mosquitto:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


class _SnapshotDict(dict[Any, Any]):
    """A dict whose iteration works on a snapshot of its keys (see EmbeddedBroker._run)."""

    def __iter__(self) -> Iterator[Any]:
        return iter(list(super().keys()))

    def keys(self) -> dict_keys[Any, Any]:
        return dict(super().items()).keys()  # a view of a copy: a snapshot

    def items(self) -> dict_items[Any, Any]:
        return dict(super().items()).items()


class EmbeddedBroker:
    """amqtt running in its own thread and event loop: the zero-install broker of the demo hall."""

    def __init__(self, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port or free_port(host)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker: Any = None  # amqtt.broker.Broker (amqtt is untyped)
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self, timeout: float = 15.0) -> EmbeddedBroker:
        self._thread = threading.Thread(target=self._run, name="embedded-broker", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise BrokerError("the embedded broker did not start in time")
        if self._error:
            raise BrokerError(f"the embedded broker failed to start: {self._error}")
        # amqtt is listening once start() returned; no probe connection (amqtt logs those as errors).
        return self

    def _run(self) -> None:
        # amqtt logs every connection at INFO; keep the demo's terminal readable.
        logging.getLogger("amqtt").setLevel(logging.WARNING)
        logging.getLogger("transitions").setLevel(logging.WARNING)
        from amqtt.broker import Broker

        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }

        async def boot() -> None:
            self._broker = Broker(config, loop=loop)
            # amqtt 0.12 iterates its subscription table across awaits (on every new connection and
            # every disconnect) while other sessions subscribe: "dictionary changed size during
            # iteration" kills the new session. Iterating a snapshot avoids that.
            self._broker._subscriptions = _SnapshotDict(self._broker._subscriptions)
            await self._broker.start()

        try:
            loop.run_until_complete(boot())
        except BaseException as exc:  # surfaced to start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    def stop(self) -> None:
        if not self._loop or not self._broker:
            return
        fut = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop)
        try:
            fut.result(10)
        except Exception as exc:  # pragma: no cover - best effort
            log.warning("embedded broker shutdown: %s", exc)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(10)
        self._broker = None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
