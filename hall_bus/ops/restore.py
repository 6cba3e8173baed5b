"""``hallkit restore``: bring a hall back from a backup of :mod:`hall_bus.ops.backup`.

1. The backup is verified first (every file's size and SHA-256 against its manifest) and must be of
   the hall that hall.toml names; nothing is written before both hold.
2. A store that a process has open (the controller, a locker host) is not overwritten unless told
   (``force``): :func:`in_use` asks SQLite itself, which can leave WAL mode only when no other
   connection, in any process, has the database open.
3. What the data_dir holds now is kept in ``before-restore-<UTC time>/`` beside it.
4. Each database is written with the SQLite backup API *into* the target (the same locking every
   SQLite user obeys, so even a forced restore under a running controller leaves a valid file;
   restart the controller after it, its in-memory queue was read from the old store), then checked:
   integrity, schema version and row counts as the manifest recorded them. Secrets are written
   0600 with an atomic rename. A process caches its secrets: restart every HallKit process of the
   machine after a restore.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hall_bus.config import HallConfig
from hall_bus.ops.backup import BackupError, Manifest, describe_sqlite, read_only, verify


class RestoreError(RuntimeError):
    """A restore was refused (wrong hall, store in use) or failed; the message says what to do."""


@dataclass
class Restored:
    manifest: Manifest
    files: list[str] = field(default_factory=list)
    kept: Path | None = None  # where the data_dir's previous files were put


def in_use(path: Path) -> bool:
    """True when another connection (any process) has the SQLite database ``path`` open."""
    if not path.is_file():
        return False
    db = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        mode = str(db.execute("PRAGMA journal_mode").fetchone()[0]).lower()
        if mode != "wal":  # a rollback journal: ask for the exclusive lock a writer would need
            db.execute("BEGIN EXCLUSIVE")
            db.execute("ROLLBACK")
            return False
        # leaving WAL needs every other connection closed; put WAL back at once when it succeeded
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute("PRAGMA journal_mode=WAL")
        return False
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return True
        raise
    finally:
        db.close()


def restore(backup: Path, config: HallConfig, force: bool = False, clock: Callable[[], float] = time.time) -> Restored:
    try:
        manifest = verify(backup)
    except BackupError as exc:
        raise RestoreError(str(exc)) from None
    if manifest.hall != config.hall_id:
        raise RestoreError(f"{backup} is a backup of hall {manifest.hall!r}, but {config.source} is {config.hall_id!r}")
    data = Path(config.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    stores = [f for f in manifest.files if f.kind == "sqlite"]
    busy = [f.name for f in stores if in_use(data / f.name)]
    if busy and not force:
        raise RestoreError(
            f"{', '.join(busy)} in {data} is open in a running process (the controller or a locker host): "
            "stop it first (systemctl stop hallkit-controller), or restore under it with --force"
        )
    out = Restored(manifest, kept=_keep_current(data, [f.name for f in manifest.files if f.kind != "config"], clock))
    for f in stores:
        _restore_sqlite(backup / f.name, data / f.name)
        check = read_only(data / f.name)
        try:
            schema, _, rows = describe_sqlite(check)
        finally:
            check.close()
        if schema != f.schema_version or rows != f.rows:
            raise RestoreError(f"{data / f.name}: restored, but it does not read as the backup recorded it")
        out.files.append(f.name)
    for f in manifest.files:
        if f.kind == "secret":
            tmp = data / f".{f.name}.restoring"
            shutil.copyfile(backup / f.name, tmp)
            os.chmod(tmp, 0o600)
            os.replace(tmp, data / f.name)
            out.files.append(f.name)
    return out


def _keep_current(data: Path, names: list[str], clock: Callable[[], float]) -> Path | None:
    present = [n for n in names if (data / n).is_file()]
    if not present:
        return None
    kept = data / f"before-restore-{dt.datetime.fromtimestamp(clock(), dt.UTC).strftime('%Y%m%dT%H%M%SZ')}"
    kept.mkdir(mode=0o700, exist_ok=True)
    for name in present:
        if name.endswith(".db"):
            source, target = read_only(data / name), sqlite3.connect(kept / name)
            try:
                source.backup(target)
            finally:
                target.close()
                source.close()
        else:
            shutil.copyfile(data / name, kept / name)
            os.chmod(kept / name, 0o600)
    return kept


def _restore_sqlite(src: Path, dst: Path) -> None:
    source, target = read_only(src), sqlite3.connect(dst, timeout=30)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=WAL")  # as the controller's store keeps it
    finally:
        target.close()
        source.close()
