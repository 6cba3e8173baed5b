"""The store's migrations: the core in PRAGMA user_version, features in feature_versions, one loop for both."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hall_bus.controller.store import MIGRATIONS, Store, _statements


def _old_database(path: Path, applied: int) -> None:
    """A database as the previous code left it: the first ``applied`` core scripts and user_version."""
    db = sqlite3.connect(path)
    for script in MIGRATIONS[:applied]:
        for statement in _statements(script):
            db.execute(statement)
    db.execute(f"PRAGMA user_version={applied}")
    db.commit()
    db.close()


def test_an_older_database_is_brought_forward(tmp_path: Path) -> None:
    path = tmp_path / "hall.db"
    _old_database(path, 1)
    store = Store(path)
    assert store.version == len(MIGRATIONS)
    tables = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"tickets", "windows", "audit", "appointments"} <= tables
    store.close()
    again = Store(path)  # reopening runs nothing twice
    assert again.version == len(MIGRATIONS)
    again.close()


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "hall.db"
    _old_database(path, len(MIGRATIONS))
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(RuntimeError, match=f"database schema version {len(MIGRATIONS) + 1} is newer"):
        Store(path)


def test_feature_migrations_are_counted_apart_from_the_core(tmp_path: Path) -> None:
    store = Store(tmp_path / "hall.db")
    store.migrate_feature("demo", ["CREATE TABLE demo_a (x INTEGER);"])
    store.migrate_feature("demo", ["CREATE TABLE demo_a (x INTEGER);", "CREATE TABLE demo_b (y TEXT);"])
    row = store.db.execute("SELECT version FROM feature_versions WHERE feature='demo'").fetchone()
    assert row[0] == 2
    assert store.version == len(MIGRATIONS)
    with pytest.raises(RuntimeError, match="demo schema version 2 is newer"):
        store.migrate_feature("demo", ["CREATE TABLE demo_a (x INTEGER);"])
    store.close()


def test_a_failing_migration_rolls_back_and_is_not_recorded(tmp_path: Path) -> None:
    store = Store(tmp_path / "hall.db")
    with pytest.raises(sqlite3.OperationalError):
        store.migrate_feature("broken", ["CREATE TABLE broken_a (x INTEGER);\nCREATE TABLE nonsense"])
    assert store.db.execute("SELECT version FROM feature_versions WHERE feature='broken'").fetchone() is None
    assert store.db.execute("SELECT name FROM sqlite_master WHERE name='broken_a'").fetchone() is None
    store.close()
