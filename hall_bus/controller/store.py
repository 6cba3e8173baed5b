"""The hall controller's SQLite store: WAL journal, ``synchronous=FULL``, versioned migrations.

Migrations are a list of SQL scripts; ``PRAGMA user_version`` records how many have run, so a
controller upgraded in place brings an older database forward on start and never runs a script
twice. Features keep their own counts in ``feature_versions``; one loop (``Store._migrate``) runs
both. A ticket is written durably before its number leaves the controller.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

MIGRATIONS: list[str] = [
    # 1: tickets, windows, audit
    """
    CREATE TABLE tickets (
        id              INTEGER PRIMARY KEY,
        hall            TEXT NOT NULL,
        day             TEXT NOT NULL,              -- the hall's local date, YYYY-MM-DD
        prefix          TEXT NOT NULL,
        number          INTEGER NOT NULL,
        code            TEXT NOT NULL,              -- A001
        service         TEXT NOT NULL,
        domain          TEXT NOT NULL,
        priority        TEXT NOT NULL DEFAULT 'normal',
        identity_token  TEXT,                        -- salted hash, never an ID number
        appointment     TEXT,
        appointment_due REAL,
        idem_key        TEXT,
        channel         TEXT NOT NULL DEFAULT 'kiosk',
        issued_by       TEXT NOT NULL DEFAULT '',
        issued_at       REAL NOT NULL,
        state           TEXT NOT NULL DEFAULT 'waiting',  -- waiting|called|serving|finished|no_show
        target_window   INTEGER,                     -- set by a transfer to a window
        window          INTEGER,
        called_at       REAL,
        recalls         INTEGER NOT NULL DEFAULT 0,
        started_at      REAL,
        finished_at     REAL,
        transfers       INTEGER NOT NULL DEFAULT 0,
        UNIQUE (hall, day, prefix, number),
        UNIQUE (hall, idem_key)
    );
    CREATE INDEX tickets_waiting ON tickets (hall, state, domain, issued_at);
    CREATE INDEX tickets_identity ON tickets (hall, identity_token);

    CREATE TABLE windows (
        hall            TEXT NOT NULL,
        number          INTEGER NOT NULL,
        domains         TEXT NOT NULL,               -- JSON list
        pending_domains TEXT,                        -- JSON list applied when the current ticket ends
        paused          INTEGER NOT NULL DEFAULT 0,
        pause_reason    TEXT NOT NULL DEFAULT '',
        current_ticket  INTEGER,
        priority_streak INTEGER NOT NULL DEFAULT 0,
        updated_at      REAL NOT NULL,
        PRIMARY KEY (hall, number)
    );

    CREATE TABLE audit (
        id      INTEGER PRIMARY KEY,
        hall    TEXT NOT NULL,
        at      REAL NOT NULL,
        actor   TEXT NOT NULL,
        action  TEXT NOT NULL,
        target  TEXT NOT NULL,
        detail  TEXT NOT NULL                        -- JSON
    );
    """,
    # 2: appointments (预约) checked in at the kiosk
    """
    CREATE TABLE appointments (
        hall            TEXT NOT NULL,
        code            TEXT NOT NULL,
        service         TEXT NOT NULL,
        slot_start      REAL NOT NULL,
        slot_end        REAL NOT NULL,
        identity_token  TEXT,
        ticket          INTEGER,
        PRIMARY KEY (hall, code)
    );
    """,
    # 3: answers to requests with effects, kept while the request could come again (exactly once)
    """
    CREATE TABLE served_requests (
        client      TEXT NOT NULL,                   -- the authenticated requester
        tx          TEXT NOT NULL,
        op          TEXT NOT NULL,
        at          REAL NOT NULL,
        expires_at  REAL NOT NULL,                   -- forgotten after this (request expiry + clock skew)
        status      TEXT NOT NULL DEFAULT 'running', -- running | ok | error
        response    TEXT,                            -- JSON: the data, or {code, message}
        PRIMARY KEY (client, tx)
    );
    CREATE INDEX served_expiry ON served_requests (expires_at);
    """,
    # 4: a count of the changes to the waiting tickets, kept by triggers (the forecast's fingerprint:
    #    new tickets appended, or anything else about a waiting ticket changed)
    """
    CREATE TABLE waiting_changes (
        hall        TEXT PRIMARY KEY,
        appended    INTEGER NOT NULL DEFAULT 0,      -- waiting tickets inserted
        changed     INTEGER NOT NULL DEFAULT 0       -- waiting tickets updated, called, deleted
    );
    CREATE TRIGGER waiting_appended AFTER INSERT ON tickets WHEN NEW.state = 'waiting' BEGIN
        INSERT INTO waiting_changes (hall, appended) VALUES (NEW.hall, 1)
            ON CONFLICT (hall) DO UPDATE SET appended = appended + 1;
    END;
    CREATE TRIGGER waiting_updated AFTER UPDATE ON tickets WHEN OLD.state = 'waiting' OR NEW.state = 'waiting' BEGIN
        INSERT INTO waiting_changes (hall, changed) VALUES (NEW.hall, 1)
            ON CONFLICT (hall) DO UPDATE SET changed = changed + 1;
    END;
    CREATE TRIGGER waiting_deleted AFTER DELETE ON tickets WHEN OLD.state = 'waiting' BEGIN
        INSERT INTO waiting_changes (hall, changed) VALUES (OLD.hall, 1)
            ON CONFLICT (hall) DO UPDATE SET changed = changed + 1;
    END;
    """,
]


class Store:
    """One SQLite connection owned by the controller (used from one thread at a time)."""

    def __init__(self, path: str | Path, durable: bool = True) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.lock = threading.RLock()
        self.rollbacks = 0  # transactions rolled back (what was read inside one may not be what is stored)
        if self.path != ":memory:":
            self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={'FULL' if durable else 'OFF'}")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.migrate()

    @property
    def version(self) -> int:
        """The core schema version (``PRAGMA user_version``, as every HallKit database has kept it)."""
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        """Bring the core tables (tickets, windows, audit, appointments) up to date."""
        with self.lock:
            self._migrate("database", MIGRATIONS, self.version, self._set_core_version)

    def migrate_feature(self, feature: str, migrations: Sequence[str]) -> None:
        """Bring a feature's own tables (tidal, pickup, evaluation ...) up to date.

        Each feature keeps its migration count in ``feature_versions`` so features evolve their
        schemas independently of the core and of each other.
        """
        with self.lock:
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS feature_versions (feature TEXT PRIMARY KEY, version INTEGER NOT NULL)"
            )
            row = self.db.execute("SELECT version FROM feature_versions WHERE feature=?", (feature,)).fetchone()

            def record(version: int) -> None:
                self.db.execute(
                    "INSERT OR REPLACE INTO feature_versions (feature, version) VALUES (?, ?)", (feature, version)
                )

            self._migrate(feature, migrations, int(row[0]) if row else 0, record)

    def _set_core_version(self, version: int) -> None:
        self.db.execute(f"PRAGMA user_version={int(version)}")

    def _migrate(self, what: str, migrations: Sequence[str], current: int, record: Callable[[int], None]) -> None:
        """Run ``migrations[current:]``, each in its own transaction with ``record(its number)``."""
        if current > len(migrations):
            raise RuntimeError(
                f"{self.path}: {what} schema version {current} is newer than this HallKit ({len(migrations)})"
            )
        for i in range(current, len(migrations)):
            log.info("%s: applying %s migration %d", self.path, what, i + 1)
            self.db.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(migrations[i]):
                    self.db.execute(statement)
                record(i + 1)
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; everything inside is durable when the block ends."""
        with self.lock:
            if self.db.in_transaction:  # nested use joins the outer transaction
                yield self.db
                return
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                self.rollbacks += 1
                raise
            self.db.execute("COMMIT")

    def close(self) -> None:
        with self.lock:
            self.db.close()


def _statements(script: str) -> list[str]:
    """The statements of a migration script, one by one (a trigger's body with its own ``;`` included)."""
    out: list[str] = []
    buf: list[str] = []
    for line in script.splitlines():
        buf.append(line.split("--", 1)[0])
        stmt = "\n".join(buf).strip()
        if stmt.endswith(";") and sqlite3.complete_statement(stmt):
            if stmt.strip(";").strip():
                out.append(stmt)
            buf = []
    rest = "\n".join(buf).strip()
    if rest:
        out.append(rest)
    return out
