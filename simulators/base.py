"""What every device simulator shares: fault plans, line-rate emulation, and serving the device
on a connected socket, a pty or a TCP port.

A simulator is split in three, unlike one big class: the protocol codec lives in ``drivers/``
(the very code the driver uses to frame bytes), the device's state lives in the
``SimulatedDevice`` subclass (``feed(bytes) -> replies``), and the faults live in ``FaultPlan``,
applied here on the way out.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import select
import socket
import threading
import time
import tty
from collections.abc import Callable, Mapping
from typing import ClassVar

from simulators.uart import resample, termios_baud

log = logging.getLogger(__name__)


@dataclasses.dataclass
class FaultPlan:
    """Faults a simulator plays, set from a URL query (``fault=``) or ``--fault`` on the command line.

    ``"delay=0.2,corrupt=1,truncate=1,split,no_reply=2,no_card,jammed:1:3"``: counts say how many of
    the next replies are hit (-1: every one); words without ``=`` are device-specific faults.
    """

    delay_s: float = 0.0
    corrupt_checksum: int = 0
    truncate: int = 0
    split: bool = False
    no_reply: int = 0
    device: set[str] = dataclasses.field(default_factory=set)

    _KEYS = {"delay": "delay_s", "corrupt": "corrupt_checksum", "truncate": "truncate", "no_reply": "no_reply"}

    @classmethod
    def parse(cls, text: str | None, device_faults: Mapping[str, str] | None = None) -> FaultPlan:
        """The plan in ``text``; with ``device_faults`` (a simulator's fault words), any other word is
        an error that lists the valid faults."""
        plan = cls()
        for item in (text or "").replace(";", ",").split(","):
            item = item.strip()
            if not item:
                continue
            key, eq, value = item.partition("=")
            if key == "split" and not eq:
                plan.split = True
            elif eq and key in cls._KEYS:
                try:
                    setattr(plan, cls._KEYS[key], float(value) if key == "delay" else int(value))
                except ValueError:
                    raise ValueError(f"fault {item!r}: {value!r} is not a number") from None
            elif eq or (device_faults is not None and item.split(":")[0] not in device_faults):
                raise ValueError(f"unknown fault {item!r} (valid: {cls.valid(device_faults)})")
            else:
                plan.device.add(item)
        return plan

    @classmethod
    def valid(cls, device_faults: Mapping[str, str] | None = None) -> str:
        """The faults a simulator takes, for messages and ``--help``."""
        line = [f"{k}=N" if k != "delay" else "delay=SECONDS" for k in cls._KEYS] + ["split"]
        return ", ".join(line + [f"{word} ({what})" for word, what in (device_faults or {}).items()])

    def take(self, name: str) -> bool:
        """Consume one count of a counted fault; True if this reply is hit."""
        n = getattr(self, name)
        if n == 0:
            return False
        if n > 0:
            setattr(self, name, n - 1)
        return True

    def has(self, word: str) -> bool:
        return word in self.device

    def device_args(self, word: str) -> list[list[str]]:
        """Arguments of device faults like ``jammed:1:3`` -> [["1", "3"]]."""
        return [f.split(":")[1:] for f in self.device if f.split(":")[0] == word]


COMMON_OPTIONS = {
    "baud": "the device's line rate (a driver at another rate reads garbage, as on a real UART)",
    "line_rate": "0: answer at once instead of at the line rate",
    "fault": "a fault plan (see FaultPlan)",
    "id": "a name to find the live simulator by (simulators.registry.instance)",
}


class SimulatedDevice:
    """A device that turns request bytes into reply bytes. Subclasses implement ``handle`` and
    declare the query options (``OPTIONS``) and device fault words (``FAULTS``) they take: anything
    else is refused with the list of valid ones, so a typo never runs a healthy device."""

    kind = "device"
    OPTIONS: ClassVar[dict[str, str]] = {}
    FAULTS: ClassVar[dict[str, str]] = {}
    DEFAULT_BAUD = 9600

    def __init__(self, query: dict[str, str] | None = None) -> None:
        query = dict(query or {})
        self.check_options(query)
        self.query = query
        try:
            self.baudrate = int(query.get("baud") or self.DEFAULT_BAUD)
        except ValueError:
            raise ValueError(f"baud={query['baud']!r}: give the line rate in baud, e.g. 9600") from None
        self.line_rate = query.get("line_rate", "1") not in ("0", "false", "off")
        self.faults = FaultPlan.parse(query.get("fault"), self.FAULTS)
        self.host_baud: int | None = None  # the driver's rate where the line tells it (a pty, sim://)
        self.lock = threading.RLock()
        self.received = bytearray()  # everything the driver ever sent, for tests and technicians
        self.sent = bytearray()

    @classmethod
    def options(cls) -> dict[str, str]:
        """Every query option this kind takes, with what it does."""
        return {**COMMON_OPTIONS, **cls.OPTIONS}

    def check_options(self, query: Mapping[str, str]) -> None:
        unknown = sorted(k for k in query if k not in self.options())
        if unknown:
            raise ValueError(
                f"the {self.kind} simulator has no option {', '.join(unknown)} "
                f"(valid: {', '.join(sorted(self.options()))})"
            )

    def garble(self, data: bytes, tx_baud: int, rx_baud: int | None) -> bytes:
        """What a UART at ``rx_baud`` receives of ``data`` sent at ``tx_baud`` (unchanged when the
        receiver's rate is unknown, as on a TCP link)."""
        return data if rx_baud is None else resample(data, tx_baud, rx_baud)

    # --- to implement -------------------------------------------------------------------------
    def handle(self, data: bytes) -> list[bytes]:
        """Take bytes from the line (any chunking) and return whole replies, in order."""
        raise NotImplementedError

    def corrupt(self, reply: bytes) -> bytes:
        """Break the reply's checksum (default: the last byte; codecs with a trailer override)."""
        return reply[:-1] + bytes([reply[-1] ^ 0x5A]) if reply else reply

    def tick(self, now: float) -> list[bytes]:
        """Unsolicited output (key presses, heartbeats); called about every 50 ms."""
        return []

    def close(self) -> None:
        pass

    # --- used by the servers ------------------------------------------------------------------
    def feed(self, data: bytes) -> list[bytes]:
        with self.lock:
            self.received += data
            return self.handle(data)

    def wire_seconds(self, nbytes: int) -> float:
        """Time ``nbytes`` take on the line at this baud rate (8N1: 10 bits a byte)."""
        return nbytes * 10.0 / self.baudrate if self.line_rate else 0.0

    def outgoing(self, reply: bytes) -> list[tuple[float, bytes]]:
        """The chunks to send for a reply, each with the pause before it, faults applied."""
        f = self.faults
        if f.take("no_reply"):
            return []
        if f.take("corrupt_checksum"):
            reply = self.corrupt(reply)
        if f.take("truncate"):
            reply = reply[: max(1, len(reply) // 2)]
        if f.split and len(reply) > 1:
            half = len(reply) // 2
            return [(f.delay_s, reply[:half]), (0.05, reply[half:])]
        return [(f.delay_s, reply)]


@dataclasses.dataclass
class Served:
    """A simulator being served; ``url`` is what to give a driver."""

    url: str
    device: SimulatedDevice
    stop_event: threading.Event
    thread: threading.Thread
    port: int = 0
    _closers: list[Callable[[], None]] = dataclasses.field(default_factory=list)

    def stop(self) -> None:
        self.stop_event.set()
        for close in self._closers:
            try:
                close()
            except OSError:
                pass
        self.thread.join(5)
        self.device.close()


def _pump(
    device: SimulatedDevice,
    read: Callable[[], bytes],
    write: Callable[[bytes], None],
    readable: Callable[[float], bool],
    stop: threading.Event,
) -> None:
    """Move bytes between a line and a device, emulating the line rate both ways."""
    line_free = 0.0  # when the device's transmit line is free again
    while not stop.is_set():
        try:
            ready = readable(0.05)
        except (OSError, ValueError):
            return
        replies: list[bytes] = []
        if ready:
            try:
                data = read()
            except OSError:
                return
            if not data:
                return  # the other end closed
            # the last byte of this chunk finished arriving after its wire time
            time.sleep(device.wire_seconds(len(data)))
            host = device.host_baud
            if host is not None:
                data = device.garble(data, host, device.baudrate)
            try:
                replies = device.feed(data) if data else []
            except Exception:
                log.exception("simulator %s failed on %s", device.kind, data.hex(" "))
                continue
        replies += device.tick(time.monotonic())
        for reply in replies:
            for pause, chunk in device.outgoing(reply):
                chunk = device.garble(chunk, device.baudrate, device.host_baud)
                if not chunk:
                    continue
                if pause:
                    time.sleep(pause)
                start = max(time.monotonic(), line_free)
                line_free = start + device.wire_seconds(len(chunk))
                time.sleep(max(0.0, line_free - time.monotonic()))
                try:
                    write(chunk)
                except OSError:
                    return
                device.sent += chunk


def serve_socket(device: SimulatedDevice, sock: socket.socket) -> Served:
    """Run ``device`` on a connected socket in a thread."""
    stop = threading.Event()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1) if sock.family in (
        socket.AF_INET,
        socket.AF_INET6,
    ) else None
    thread = threading.Thread(
        target=_pump,
        name=f"sim-{device.kind}",
        daemon=True,
        args=(device, lambda: sock.recv(4096), sock.sendall, lambda t: bool(select.select([sock], [], [], t)[0]), stop),
    )
    served = Served(url="", device=device, stop_event=stop, thread=thread, _closers=[sock.close])
    thread.start()
    return served


def serve_tcp(device: SimulatedDevice, port: int = 0, host: str = "127.0.0.1") -> Served:
    """Serve ``device`` on a TCP port, one connection at a time (like a serial server);
    ``url`` is ``socket://host:port``."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(1)
    port = listener.getsockname()[1]
    stop = threading.Event()
    current: list[socket.socket] = []

    def accept_loop() -> None:
        while not stop.is_set():
            try:
                if not select.select([listener], [], [], 0.1)[0]:
                    continue
            except (OSError, ValueError):  # stop() closed the listener under us
                return
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            current[:] = [conn]
            _pump(
                device,
                functools.partial(conn.recv, 4096),
                conn.sendall,
                functools.partial(_readable, conn),
                stop,
            )
            conn.close()

    def close_all() -> None:
        listener.close()
        for c in current:
            c.close()

    thread = threading.Thread(target=accept_loop, name=f"sim-{device.kind}-tcp", daemon=True)
    served = Served(
        url=f"socket://{host}:{port}", device=device, stop_event=stop, thread=thread, port=port, _closers=[close_all]
    )
    thread.start()
    return served


def serve_pty(device: SimulatedDevice) -> Served:
    """Serve ``device`` on a pseudo-terminal; ``url`` is the slave's path (``/dev/pts/N``), which an
    unmodified driver opens like a real serial port."""
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    path = os.ttyname(slave)
    stop = threading.Event()

    def readable(t: float) -> bool:
        return bool(select.select([master], [], [], t)[0])

    def write(data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = os.write(master, view)
            view = view[n:]

    def read() -> bytes:
        data = _read_or_wait(master, stop)
        device.host_baud = termios_baud(slave)  # the rate the driver set on its end of the line
        return data

    def pump() -> None:
        # We hold the slave open ourselves, so the master never sees a hang-up between drivers.
        _pump(device, read, write, readable, stop)

    thread = threading.Thread(target=pump, name=f"sim-{device.kind}-pty", daemon=True)
    served = Served(
        url=path,
        device=device,
        stop_event=stop,
        thread=thread,
        _closers=[lambda: os.close(master), lambda: os.close(slave)],
    )
    thread.start()
    return served


def _read_or_wait(master: int, stop: threading.Event) -> bytes:
    while not stop.is_set():
        try:
            data = os.read(master, 4096)
        except OSError:
            time.sleep(0.05)  # no one has the slave open right now
            continue
        if data:
            return data
    return b""


def _readable(sock: socket.socket, timeout: float) -> bool:
    """Whether ``sock`` has data (or EOF) within ``timeout`` seconds."""
    return bool(select.select([sock], [], [], timeout)[0])
