"""``hallkit backup``: an online, consistent copy of what a hall keeps in its data_dir.

What a backup holds (:func:`hall_parts`), enough to bring a working hall back on a new disk:

* ``<hall>.db``, the controller's store: tickets, windows, audit, appointments, the answers of
  effectful requests, and every feature's tables (cases, pickup items, tidal proposals, evaluations
  and follow-ups), with their schema versions;
* ``locker-host-<device>.db``, a locker host's journal of door openings, when the locker host runs
  on this machine;
* ``identity.salt``: the identity tokens kept with tickets, cases and pickup items are HMACs under
  it; without it a card read no longer finds the citizen's items;
* ``pickup.secret``: pickup codes, pickup QR codes and locker commands are HMACs under it; without it
  every deposited item needs a new code;
* a copy of ``hall.toml`` for reference (``hallkit restore`` never writes configuration).

Not in a backup: the bus credentials and the hall CA (``/etc/hallkit``, kept with the install, the CA
key offline), ``bus-endpoint.json`` (written by a running demo), kiosk scans (personal documents kept
30 days on the kiosk, deliberately never copied). A secret given in the environment
(``HALLKIT_IDENTITY_SALT``, ``HALLKIT_PICKUP_SECRET``) is named in the manifest as not copied.

Each SQLite file is copied with the SQLite online backup API in one step from a read-only
connection: one read transaction, so the copy is the store as it was at one commit, while the
controller (WAL journal) keeps writing. The copy is switched to a rollback journal, passes
``PRAGMA integrity_check``, and its schema versions and row counts go into ``manifest.json`` with
every file's size and SHA-256. A backup is written into ``.<name>.partial`` and renamed when
complete, so a directory named ``<hall>-<UTC time>`` is always a whole backup; then only the newest
``keep`` backups of the hall are kept. One backup at a time per directory (a lock file).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import os
import re
import shutil
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from devices.identity import SALT_ENV, SALT_FILE
from hall_bus.config import HallConfig
from hall_bus.contracts.roles import SELF_HOSTED_KINDS
from hall_bus.features.pickup.security import SECRET_ENV, SECRET_FILE
from hall_bus.hosts.locker_host import journal_name

MANIFEST = "manifest.json"
FORMAT = 1
Kind = Literal["sqlite", "secret", "config"]


class BackupError(RuntimeError):
    """A backup could not be taken, or a backup on disk is incomplete or damaged."""


@dataclass(frozen=True)
class Part:
    """One file of the hall's data_dir that a backup copies."""

    name: str
    kind: Kind
    why: str
    required: bool = False
    env: str = ""  # a secret may come from this environment variable instead of the file


def store_name(config: HallConfig) -> str:
    return f"{config.hall_id}.db"


def locker_journal_name(device_id: str) -> str:
    """The locker host's journal in data_dir (:func:`hall_bus.hosts.locker_host.journal_name`)."""
    return journal_name(device_id)


def hall_parts(config: HallConfig) -> list[Part]:
    """Everything of the hall's data_dir that a restored hall needs (see the module docstring)."""
    parts = [
        Part(
            store_name(config),
            "sqlite",
            "the controller's store: tickets, windows, audit, appointments, served requests and every feature's tables",
            required=True,
        )
    ]
    parts += [
        Part(locker_journal_name(d.id), "sqlite", f"the journal of locker host {d.id} (on its own machine)")
        for d in config.devices
        if d.kind in SELF_HOSTED_KINDS
    ]
    parts.append(
        Part(SALT_FILE, "secret", "the identity salt: identity tokens in the stores are HMACs under it", env=SALT_ENV)
    )
    parts.append(
        Part(SECRET_FILE, "secret", "the pickup key: pickup codes, QR codes and locker commands", env=SECRET_ENV)
    )
    return parts


class FileEntry(BaseModel):
    name: str
    kind: Kind
    why: str
    size: int
    sha256: str
    snapshot_at: float | None = None  # sqlite: when the read transaction of the copy began
    schema_version: int | None = None  # sqlite: PRAGMA user_version
    feature_versions: dict[str, int] = {}
    rows: dict[str, int] = {}  # sqlite: rows per table in the copy


class Missing(BaseModel):
    name: str
    why: str
    reason: str


class Manifest(BaseModel):
    format: int = FORMAT
    hall: str
    hallkit_version: str
    host: str
    data_dir: str
    created_at: float  # when the backup began (epoch seconds)
    created: str  # the same as UTC ISO 8601
    finished_at: float
    files: list[FileEntry]
    missing: list[Missing] = []

    def file(self, name: str) -> FileEntry | None:
        return next((f for f in self.files if f.name == name), None)

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


def hallkit_version() -> str:
    try:
        return version("hallkit")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_only(path: Path, timeout: float = 30.0, shared: bool = False) -> sqlite3.Connection:
    """A connection that cannot write ``path`` (and does not create it); ``shared``: usable from any
    thread (the caller serialises), in autocommit mode (the caller opens its own read transactions)."""
    uri = path.resolve().as_uri() + "?mode=ro"
    if shared:
        return sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False, isolation_level=None)
    return sqlite3.connect(uri, uri=True, timeout=timeout)


def describe_sqlite(db: sqlite3.Connection) -> tuple[int, dict[str, int], dict[str, int]]:
    """(user_version, feature versions, rows per table) of a database; fails unless its integrity check passes."""
    check = db.execute("PRAGMA integrity_check").fetchall()
    if [tuple(r) for r in check] != [("ok",)]:
        raise BackupError(f"integrity check failed: {'; '.join(str(r[0]) for r in check[:5])}")
    tables = [
        r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
    ]
    rows = {t: int(db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]) for t in sorted(tables)}
    features: dict[str, int] = {}
    if "feature_versions" in tables:
        features = {str(n): int(v) for n, v in db.execute("SELECT feature, version FROM feature_versions")}
    return int(db.execute("PRAGMA user_version").fetchone()[0]), features, rows


def copy_sqlite(src: Path, dst: Path, clock: Callable[[], float] = time.time) -> FileEntry:
    """Copy a live SQLite database with the backup API in one step (one consistent snapshot)."""
    source = read_only(src)
    target = sqlite3.connect(dst)
    try:
        at = clock()
        source.backup(target)  # pages=-1: the whole database inside one read transaction
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        schema, features, rows = describe_sqlite(target)
    finally:
        target.close()
        source.close()
    return FileEntry(
        name=dst.name,
        kind="sqlite",
        why="",
        size=dst.stat().st_size,
        sha256=sha256_of(dst),
        snapshot_at=at,
        schema_version=schema,
        feature_versions=features,
        rows=rows,
    )


def copy_file(src: Path, dst: Path, kind: Kind) -> FileEntry:
    shutil.copyfile(src, dst)
    os.chmod(dst, 0o600)
    return FileEntry(name=dst.name, kind=kind, why="", size=dst.stat().st_size, sha256=sha256_of(dst))


_NAME = re.compile(r"(?P<hall>.+)-(?P<stamp>\d{8}T\d{6}Z)(?:-\d+)?")


def _stamp(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y%m%dT%H%M%SZ")


@contextlib.contextmanager
def _locked(dest: Path, hall: str) -> Iterator[None]:
    with (dest / f".{hall}.lock").open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(f"another backup of {hall} into {dest} is running") from None
        yield


def take_backup(config: HallConfig, dest: Path, keep: int, clock: Callable[[], float] = time.time) -> Path:
    """Back the hall up into a new directory below ``dest``, keep the newest ``keep``; return its path."""
    dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = Path(config.data_dir)
    with _locked(dest, config.hall_id):
        for stale in dest.glob(f".{config.hall_id}-*.partial"):  # left by a backup that died
            shutil.rmtree(stale, ignore_errors=True)
        started = clock()
        name = f"{config.hall_id}-{_stamp(started)}"
        n = 1
        while (dest / name).exists():
            n += 1
            name = f"{config.hall_id}-{_stamp(started)}-{n}"
        work = dest / f".{name}.partial"
        work.mkdir(mode=0o700)
        try:
            files, missing = _copy_parts(config, data, work, clock)
            manifest = Manifest(
                hall=config.hall_id,
                hallkit_version=hallkit_version(),
                host=socket.gethostname(),
                data_dir=str(data),
                created_at=started,
                created=dt.datetime.fromtimestamp(started, dt.UTC).isoformat(timespec="seconds"),
                finished_at=clock(),
                files=files,
                missing=missing,
            )
            _write_durably(work / MANIFEST, manifest.model_dump_json(indent=2).encode("utf-8"))
            _fsync_dir(work)
            work.rename(dest / name)
            _fsync_dir(dest)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        prune(dest, config.hall_id, keep)
    return dest / name


def _copy_parts(
    config: HallConfig, data: Path, work: Path, clock: Callable[[], float]
) -> tuple[list[FileEntry], list[Missing]]:
    files: list[FileEntry] = []
    missing: list[Missing] = []
    for part in hall_parts(config):
        src = data / part.name
        if part.env and os.environ.get(part.env):
            missing.append(Missing(name=part.name, why=part.why, reason=f"given in the environment (${part.env})"))
        elif not src.is_file():
            if part.required:
                raise BackupError(f"{src} does not exist: is data_dir in {config.source} the hall's?")
            missing.append(Missing(name=part.name, why=part.why, reason=f"not in {data}"))
        elif part.kind == "sqlite":
            try:
                entry = copy_sqlite(src, work / part.name, clock)
            except (sqlite3.Error, BackupError) as exc:
                raise BackupError(f"{src}: {exc}") from exc
            files.append(entry.model_copy(update={"why": part.why}))
        else:
            files.append(copy_file(src, work / part.name, part.kind).model_copy(update={"why": part.why}))
    source = Path(config.source)
    if source.is_file():
        entry = copy_file(source, work / "hall.toml", "config")
        files.append(entry.model_copy(update={"why": "the hall.toml in use (for reference; restore never writes it)"}))
    return files, missing


def _write_durably(path: Path, data: bytes) -> None:
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_manifest(path: Path) -> Manifest:
    try:
        return Manifest.model_validate_json((path / MANIFEST).read_bytes())
    except FileNotFoundError:
        raise BackupError(f"{path} is not a HallKit backup (no {MANIFEST})") from None
    except ValueError as exc:
        raise BackupError(f"{path / MANIFEST} is damaged: {exc}") from None


def verify(path: Path) -> Manifest:
    """The backup's manifest, once every file it lists has its recorded size and SHA-256."""
    manifest = read_manifest(path)
    if manifest.format != FORMAT:
        raise BackupError(f"{path}: backup format {manifest.format}, this HallKit reads {FORMAT}")
    bad = []
    for f in manifest.files:
        p = path / f.name
        if not p.is_file():
            bad.append(f"{f.name} is missing")
        elif p.stat().st_size != f.size or sha256_of(p) != f.sha256:
            bad.append(f"{f.name} differs from its recorded SHA-256")
    if bad:
        raise BackupError(f"{path}: {'; '.join(bad)}")
    return manifest


def backups(dest: Path, hall: str) -> list[tuple[Path, Manifest]]:
    """The complete backups of ``hall`` in ``dest``, oldest first (damaged manifests are left out)."""
    out: list[tuple[Path, Manifest]] = []
    if not dest.is_dir():
        return out
    for p in dest.iterdir():
        m = _NAME.fullmatch(p.name)
        if not p.is_dir() or m is None or m.group("hall") != hall:
            continue
        with contextlib.suppress(BackupError):
            out.append((p, read_manifest(p)))
    return sorted(out, key=lambda pm: (pm[1].created_at, pm[0].name))


def latest(dest: Path, hall: str) -> tuple[Path, Manifest] | None:
    found = backups(dest, hall)
    return found[-1] if found else None


def prune(dest: Path, hall: str, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups of ``hall``; return what was deleted."""
    found = backups(dest, hall)
    gone = [p for p, _ in found[: max(0, len(found) - keep)]]
    for p in gone:
        shutil.rmtree(p)
    return gone
