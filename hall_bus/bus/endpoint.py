"""Where a hall's broker listens when it was not where hall.toml says: the demo's endpoint file.

``hallkit demo`` starts its own broker on a free port (1883 may be taken, and two demos may run). It
writes ``bus-endpoint.json`` into the hall's data_dir (the one hall.toml names) while it runs::

    {"hall_id": "demo-hall", "host": "127.0.0.1", "port": 41883, "pid": 12345}

and removes it when it stops. A command run beside it (``hallkit ticket issue ...``) with the same
hall.toml and without ``--host``/``--port`` finds the file through :func:`find` and talks to that
broker: every README command works against a running demo. A file left behind by a demo that died
(its process is gone, or nothing listens on the port) is ignored.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path

FILE = "bus-endpoint.json"


@dataclass(frozen=True)
class Endpoint:
    hall_id: str
    host: str
    port: int
    pid: int
    path: Path


def path_in(data_dir: str | os.PathLike[str]) -> Path:
    return Path(data_dir) / FILE


def write(data_dir: str | os.PathLike[str], hall_id: str, host: str, port: int) -> Path:
    """Record that this process's broker for ``hall_id`` listens on ``host:port`` (atomically)."""
    path = path_in(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{FILE}.{os.getpid()}")
    tmp.write_text(json.dumps({"hall_id": hall_id, "host": host, "port": port, "pid": os.getpid()}), encoding="utf-8")
    tmp.replace(path)
    return path


def remove(path: Path) -> None:
    """Remove the endpoint file if this process wrote it (another demo may have replaced it since)."""
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def find(data_dir: str | os.PathLike[str], hall_id: str) -> Endpoint | None:
    """The endpoint a running demo of ``hall_id`` wrote into ``data_dir``; None when there is none or it is stale."""
    path = path_in(data_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        ep = Endpoint(str(data["hall_id"]), str(data["host"]), int(data["port"]), int(data["pid"]), path)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if ep.hall_id != hall_id or not _alive(ep.pid) or not _listening(ep.host, ep.port):
        return None
    return ep
