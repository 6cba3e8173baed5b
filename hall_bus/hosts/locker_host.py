"""The locker host: runs a bank of pickup lockers (lock boards on one RS485 line) on the hall bus.

It serves, on ``device/<locker>/request/<op>``:

* ``locker.open`` {board, lock, reason, pickup_id, expires_at, auth} - fires one lock;
* ``locker.status`` {board, pickup_id?} - every door of the board, and the record of an earlier open.

and publishes every door change as the device event ``device/<locker>/event/door`` (type
``locker.door``). Contracts: :mod:`hall_bus.contracts.pickup`.

A door opens only on a command that passes every check:

1. the sender is ``controller`` (and the broker's ACL restricts who may publish here);
2. the bus client refused it if expired and answers a repeated transaction id from memory;
3. its ``(sender, tx)`` was never executed, even before a restart of this host (SQLite file
   ``locker-host-<device>.db`` in the hall's data_dir);
4. ``auth`` is the HMAC of hall, device, board, lock, pickup_id and expires_at under the hall's
   pickup key, and ``expires_at`` has not passed - a kiosk holding only bus credentials cannot
   make up a command;
5. ``pickup_id`` is idempotent: a second command with the same id answers the first result and
   never fires the lock again.

Door watching: a door that was opened is polled every ``poll_s`` until it reads closed; every
board is scanned every ``scan_s`` as well, so a door forced open is reported too.
"""

from __future__ import annotations

import dataclasses
import hmac
import logging
import sqlite3
import threading
import time
from pathlib import Path

from devices.base import Device, DeviceError, DeviceOffline, DeviceTimeout
from devices.locker import LockerBank
from hall_bus.bus import topics
from hall_bus.bus.client import BusClient, ServiceError
from hall_bus.bus.envelope import MAX_TTL_S, Envelope, MessageError, model_of
from hall_bus.config import HallConfig
from hall_bus.contracts.base import Anything, as_data
from hall_bus.contracts.pickup import Door, DoorEvent, LockerOpen, LockerOpened, LockerState, LockerStatus
from hall_bus.features.pickup.security import hall_secret, locker_auth
from hall_bus.hosts.device_bridge import make_bus_device
from hall_bus.hosts.host import DeviceHost, as_kind, host_bus

log = logging.getLogger(__name__)

ALLOWED_SENDER = "controller"
KEEP_S = 3600.0


class LockerHost(DeviceHost):
    def __init__(
        self,
        config: HallConfig,
        device_id: str,
        bus: BusClient,
        url: str | None = None,
        device: LockerBank | None = None,
        poll_s: float = 0.25,
        scan_s: float = 5.0,
    ) -> None:
        dc = next((d for d in config.devices if d.id == device_id), None)
        if dc is None or dc.kind != "locker":
            raise KeyError(f"{config.source}: no [[devices]] entry {device_id!r} of kind locker")
        if url:
            dc = dataclasses.replace(dc, url=url)
        super().__init__(config, bus, f"locker-host-{device_id}", poll_s)
        self.id = device_id
        self.device = device if device is not None else as_kind(make_bus_device(dc, bus, self.hall), LockerBank)
        self.secret = hall_secret(config.data_dir)
        self.scan_s = scan_s
        path = Path(config.data_dir) / journal_name(device_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(
            "CREATE TABLE IF NOT EXISTS used_tx (sender TEXT, tx TEXT, expires_at REAL, PRIMARY KEY (sender, tx));"
            "CREATE TABLE IF NOT EXISTS opens (pickup_id TEXT PRIMARY KEY, board INTEGER, lock INTEGER, fired_at REAL,"
            " opened INTEGER, reason TEXT);"
        )
        self.dblock = threading.Lock()
        self.doors: dict[tuple[int, int], bool] = {}  # last known door state
        self.watch: set[tuple[int, int]] = set()  # opened doors polled until closed
        self.stats.update(opened=0, refused=0, events=0)
        self._next_scan = 0.0

    # ------------------------------------------------------------------ DeviceHost
    def owned(self) -> list[Device]:
        return [self.device]

    def attach(self) -> None:
        self.bus.serve(f"{topics.device_root(self.hall, self.id)}/request/+", self._handle)

    def release(self) -> None:
        self.device.cancel_waits()
        self.device.close()
        with self.dblock:
            self.db.close()

    # ------------------------------------------------------------------ requests (bus dispatch thread)
    def _handle(self, env: Envelope) -> dict[str, object]:
        if env.sender != ALLOWED_SENDER:
            self.stats["refused"] += 1
            log.warning("%s: refused %s from %r: only the controller may command lockers", self.id, env.op, env.sender)
            raise ServiceError("forbidden", "lockers take commands from the hall controller only")
        try:
            if env.op == "locker.open":
                return as_data(self._open(env, model_of(env, LockerOpen)))
            if env.op == "locker.status":
                req = model_of(env, LockerStatus)
                return as_data(self._status(req.board, req.pickup_id))
        except MessageError:
            raise  # the request breaks its contract: answered as such, not as a device problem
        except DeviceTimeout as exc:
            raise ServiceError("board_timeout", str(exc)) from None
        except DeviceOffline as exc:
            raise ServiceError("device_offline", str(exc)) from None
        except DeviceError as exc:
            raise ServiceError("device_error", str(exc)) from None
        except ValueError as exc:
            raise ServiceError("invalid_request", str(exc)) from None
        raise ServiceError("unknown_op", f"locker host has no operation {env.op!r}")

    def _refuse(self, code: str, message: str) -> ServiceError:
        self.stats["refused"] += 1
        return ServiceError(code, message)

    def _open(self, env: Envelope, req: LockerOpen) -> LockerOpened:
        now = time.time()
        board, lock, pid = req.board, req.lock, req.pickup_id
        want = locker_auth(self.secret, self.hall, self.id, board, lock, pid, req.expires_at)
        if not hmac.compare_digest(want, req.auth):
            log.warning("%s: refused locker.open tx=%s: bad auth", self.id, env.tx)
            raise self._refuse("bad_auth", "command not signed by the hall controller")
        if req.expires_at < now or req.expires_at > now + MAX_TTL_S:
            raise self._refuse("expired", "open command expired; not executed")
        with self.dblock:
            self.db.execute("DELETE FROM used_tx WHERE expires_at < ?", (now - KEEP_S,))
            try:
                self.db.execute(
                    "INSERT INTO used_tx (sender, tx, expires_at) VALUES (?,?,?)", (env.sender, env.tx, env.expires_at)
                )
            except sqlite3.IntegrityError:
                log.warning("%s: refused replayed locker.open tx=%s", self.id, env.tx)
                raise self._refuse("replayed", f"transaction {env.tx} was already executed; refused") from None
            prev = self.db.execute("SELECT * FROM opens WHERE pickup_id=?", (pid,)).fetchone()
        if prev is not None:
            if (prev["board"], prev["lock"]) != (board, lock):
                raise ServiceError("invalid_request", f"pickup_id {pid} was used for another lock")
            is_open = self.device.is_open(board, lock)
            return LockerOpened(
                opened=bool(prev["opened"]),
                door="open" if is_open else "closed",
                fired_at=prev["fired_at"],
                repeated=True,
            )
        opened = bool(self.device.open(board, lock))
        fired_at = time.time()
        with self.dblock:
            self.db.execute(
                "INSERT INTO opens (pickup_id, board, lock, fired_at, opened, reason) VALUES (?,?,?,?,?,?)",
                (pid, board, lock, fired_at, int(opened), req.reason),
            )
        door = "open" if opened else "did not open"
        log.info("%s: board %d lock %d fired for %s (%s): door %s", self.id, board, lock, pid, req.reason, door)
        self.stats["opened"] += 1
        if opened:
            self._door_changed(board, lock, True)
            self.watch.add((board, lock))
        return LockerOpened(opened=opened, door="open" if opened else "closed", fired_at=fired_at, repeated=False)

    def _status(self, board: int, pickup_id: str | None) -> LockerState:
        doors: dict[int, Door] = self.device.status(board)
        op = None
        if pickup_id:
            with self.dblock:
                row = self.db.execute("SELECT * FROM opens WHERE pickup_id=?", (pickup_id,)).fetchone()
            if row is not None:
                op = Anything.model_validate(
                    {
                        "pickup_id": row["pickup_id"],
                        "board": row["board"],
                        "lock": row["lock"],
                        "fired_at": row["fired_at"],
                        "opened": bool(row["opened"]),
                    }
                )
        return LockerState(board=board, doors={str(n): s for n, s in doors.items()}, op=op)

    # ------------------------------------------------------------------ door watching (the host's thread)
    def _door_changed(self, board: int, lock: int, is_open: bool) -> None:
        if self.doors.get((board, lock)) == is_open:
            return
        self.doors[(board, lock)] = is_open
        self.stats["events"] += 1
        event = DoorEvent(board=board, lock=lock, door="open" if is_open else "closed", at=time.time())
        self.device.publish_event("door", "locker.door", as_data(event))

    def _scan(self, board: int, only: set[int] | None = None) -> None:
        doors: dict[int, str] = self.device.status(board)
        for lock, state in doors.items():
            if only is not None and lock not in only:
                continue
            is_open = state == "open"
            if (board, lock) not in self.doors:  # first sight after start: learn it, nothing changed
                self.doors[(board, lock)] = is_open
            self._door_changed(board, lock, is_open)
            if not is_open:
                self.watch.discard((board, lock))

    def tick(self) -> None:
        if time.monotonic() >= self._next_scan:
            self._next_scan = time.monotonic() + self.scan_s
            for board in self.device.boards:
                self._scan(board)
            return
        watched: dict[int, set[int]] = {}
        for board, lock in list(self.watch):
            watched.setdefault(board, set()).add(lock)
        for board, locks in watched.items():
            self._scan(board, locks)


def run(
    config: HallConfig, device_id: str, host: str | None = None, port: int | None = None, client_id: str | None = None
) -> LockerHost:
    """Start the locker host of ``device_id`` on its own bus client (``client_id``, default the device id)."""
    if not any(d.id == device_id for d in config.devices):
        raise KeyError(f"{config.source}: no [[devices]] entry {device_id!r}")
    cid = client_id or device_id  # its own client: the kiosk app on the same machine is already `dc.host`
    return LockerHost(config, device_id, host_bus(config, cid, host, port)).start()


def journal_name(device_id: str) -> str:
    """The locker host's journal in the hall's data_dir (``hallkit backup`` copies it)."""
    return f"locker-host-{device_id}.db"
