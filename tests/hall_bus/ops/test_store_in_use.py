"""``in_use``: whether any process has a store open, as SQLite itself tells (a WAL database can leave
WAL mode only when no other connection has it open), so that a restore never overwrites the store
of a running controller unless told."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from hall_bus.controller.store import Store
from hall_bus.ops.restore import in_use

HOLDER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("SELECT COUNT(*) FROM tickets").fetchone()
print("open", flush=True)
sys.stdin.readline()
"""


def test_in_use_by_this_process_and_by_another(tmp_path: Path) -> None:
    path = tmp_path / "hall.db"
    assert not in_use(path)  # no store yet
    store = Store(path)
    assert in_use(path)
    store.close()
    assert not in_use(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)  # the check left it as it was
    db.close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        assert in_use(path)  # a controller in another process
    finally:
        holder.communicate("\n", timeout=10)
    assert not in_use(path)


def test_a_rollback_journal_database(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE t (x)")
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO t VALUES (1)")
    assert in_use(path)  # a writer in the middle of a transaction
    db.execute("COMMIT")
    db.close()
    assert not in_use(path)
