"""The pickup tables (feature migrations ``pickup``).

* ``pickup_items``: one row per deposited item, bound to a case number, the citizen's identity token
  and a compartment. The pickup code is kept only as a keyed hash. A partial UNIQUE index allows one
  active item per compartment, so a compartment can never be assigned twice, whatever crashes.
  ``state`` is the item's life (depositing -> deposited -> collecting -> collected, or returning ->
  returned, or cancelled); ``phase`` is the door step inside it (opening, awaiting_close), persisted
  before the locker is asked, so a restarted controller resumes exactly there.
* ``pickup_sessions``: a citizen identified at a kiosk and the items that identification unlocked.
* (``pickup_used_tx``, dropped by migration 3: the controller's ``served_requests`` now answers a
  replayed request with its first answer, for every op, also after a restart.)
* ``pickup_attempts``: wrong-code counters and lockouts per kiosk and per code.
* ``pickup_faults``: compartments whose door did not open; not used for new deposits until cleared.
* ``pickup_audit``: every open and close with who, when and why. Append-only: triggers refuse UPDATE
  and DELETE.
"""

from __future__ import annotations

ACTIVE_STATES = ("depositing", "deposited", "collecting", "returning")
STATES = ACTIVE_STATES + ("collected", "returned", "cancelled")

MIGRATIONS = [
    """
    CREATE TABLE pickup_items (
        id              INTEGER PRIMARY KEY,
        hall            TEXT NOT NULL,
        case_no         TEXT NOT NULL,
        item_name       TEXT NOT NULL DEFAULT '',
        identity_token  TEXT,                          -- salted HMAC of the ID number; never the number
        code_hash       TEXT,                          -- HMAC of the pickup code; never the code
        qr_nonce        TEXT,
        compartment     TEXT NOT NULL,
        size            TEXT NOT NULL,
        state           TEXT NOT NULL,
        phase           TEXT NOT NULL DEFAULT '',      -- '' | opening | awaiting_close
        open_op         TEXT,                          -- id of the current locker open (idempotent at the host)
        open_asked_at   REAL,
        door_opened_at  REAL,
        alarm_sent      INTEGER NOT NULL DEFAULT 0,
        session_id      TEXT,
        actor           TEXT NOT NULL,                 -- who started the current step
        window          INTEGER,
        created_at      REAL NOT NULL,
        deposited_at    REAL,
        collected_at    REAL,
        returned_at     REAL,
        updated_at      REAL NOT NULL,
        last_error      TEXT NOT NULL DEFAULT ''
    );
    CREATE UNIQUE INDEX pickup_items_active_compartment ON pickup_items (compartment) WHERE state IN ('depositing', 'deposited', 'collecting', 'returning');
    CREATE UNIQUE INDEX pickup_items_active_code ON pickup_items (code_hash) WHERE state IN ('deposited', 'collecting');
    CREATE INDEX pickup_items_identity ON pickup_items (identity_token, state);
    CREATE INDEX pickup_items_case ON pickup_items (case_no);

    CREATE TABLE pickup_sessions (
        id          TEXT PRIMARY KEY,
        kiosk       TEXT NOT NULL,
        method      TEXT NOT NULL,
        item_ids    TEXT NOT NULL,                     -- JSON list
        created_at  REAL NOT NULL,
        expires_at  REAL NOT NULL
    );

    CREATE TABLE pickup_used_tx (
        sender      TEXT NOT NULL,
        tx          TEXT NOT NULL,
        op          TEXT NOT NULL,
        at          REAL NOT NULL,
        expires_at  REAL NOT NULL,
        PRIMARY KEY (sender, tx)
    );

    CREATE TABLE pickup_attempts (
        scope         TEXT NOT NULL,                   -- kiosk | code
        key           TEXT NOT NULL,
        failures      INTEGER NOT NULL,
        first_at      REAL NOT NULL,
        locked_until  REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (scope, key)
    );

    CREATE TABLE pickup_faults (
        compartment  TEXT PRIMARY KEY,
        reason       TEXT NOT NULL,
        at           REAL NOT NULL
    );

    CREATE TABLE pickup_audit (
        id           INTEGER PRIMARY KEY,
        at           REAL NOT NULL,
        actor        TEXT NOT NULL,
        action       TEXT NOT NULL,
        compartment  TEXT NOT NULL,
        item_id      INTEGER,
        reason       TEXT NOT NULL,
        detail       TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TRIGGER pickup_audit_no_update BEFORE UPDATE ON pickup_audit BEGIN SELECT RAISE(ABORT, 'pickup_audit is append-only'); END;
    CREATE TRIGGER pickup_audit_no_delete BEFORE DELETE ON pickup_audit BEGIN SELECT RAISE(ABORT, 'pickup_audit is append-only'); END;
    """,
    # 2: when the citizen was told (a deposit committed but not yet notified is notified again on start)
    """
    ALTER TABLE pickup_items ADD COLUMN notified_at REAL;
    """,
    # 3: replays are now answered by the controller's served_requests (every op, with its first answer)
    """
    DROP TABLE pickup_used_tx;
    """,
]
