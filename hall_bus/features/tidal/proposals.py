"""Tidal proposals (调整建议) and the manager that runs a policy over the live load.

Modes:

* ``off``: the load is measured and published; no policy runs.
* ``propose``: each move the policy wants becomes a pending proposal with an id (``tp-17``) and
  its reason in words; a manager accepts or rejects it (``tidal.accept`` / ``tidal.reject``). A
  proposal nobody decides on expires after ``proposal_ttl_min``, and earlier when it no longer
  applies (the window was reassigned or paused, or the queue eased).
* ``auto``: moves are applied at once and recorded as ``applied`` proposals (actor ``tidal/auto``).

Every move goes through ``QueueEngine.assign``: audited, and deferred until the window's current
ticket ends (a window is never reassigned in the middle of a service). Rejections and mode
changes are audited too. Proposals live in the controller's store (table ``tidal_proposals``).
"""

from __future__ import annotations

import collections
import json
import logging
import sqlite3
from typing import Any

from hall_bus.config import HallConfig
from hall_bus.features.tidal.load import HallLoad, LoadModel, domain_utilisation, window_busy_share
from hall_bus.features.tidal.policies import Move, Policy, PolicyContext, create, expected_change
from hall_bus.features.tidal.settings import MODES, TidalSettings
from hall_bus.queue.engine import QueueEngine
from hall_bus.queue.models import Change, NotFound, QueueError

log = logging.getLogger(__name__)

MIGRATIONS = [
    """
    CREATE TABLE tidal_proposals (
        id            INTEGER PRIMARY KEY,
        hall          TEXT NOT NULL,
        created_at    REAL NOT NULL,
        expires_at    REAL NOT NULL,
        window        INTEGER NOT NULL,
        from_domains  TEXT NOT NULL,              -- JSON list
        to_domains    TEXT NOT NULL,              -- JSON list
        target        TEXT NOT NULL,              -- the domain gaining the window
        kind          TEXT NOT NULL,              -- borrow | return | flex
        policy        TEXT NOT NULL,
        reason        TEXT NOT NULL,
        reason_en     TEXT NOT NULL,
        metrics       TEXT NOT NULL,              -- JSON
        state         TEXT NOT NULL,              -- pending | accepted | rejected | expired | applied
        decided_at    REAL,
        decided_by    TEXT,
        note          TEXT NOT NULL DEFAULT '',
        applied_now   INTEGER
    );
    CREATE INDEX tidal_proposals_state ON tidal_proposals (hall, state);
    CREATE TABLE tidal_settings (
        hall   TEXT NOT NULL,
        key    TEXT NOT NULL,
        value  TEXT NOT NULL,
        PRIMARY KEY (hall, key)
    );
    """,
]

PROPOSAL_STATES = ("pending", "accepted", "rejected", "expired", "applied")
AUTO_ACTOR = "tidal/auto"


def proposal_id(row_id: int) -> str:
    return f"tp-{row_id}"


def parse_proposal_id(text: str) -> int:
    t = text.strip().lower()
    if t.startswith("tp-"):
        t = t[3:]
    if not t.isdigit():
        raise NotFound(f"{text!r} is not a proposal id (like tp-12)")
    return int(t)


class TidalManager:
    """Load model + policy + proposals over one queue engine (the controller's, or a simulator's)."""

    def __init__(
        self,
        config: HallConfig,
        engine: QueueEngine,
        settings: TidalSettings,
        policy: Policy | None = None,
        seed: bool = True,
    ) -> None:
        self.config = config
        self.engine = engine
        self.store = engine.store
        self.hall = engine.hall
        self.settings = settings
        self.policy = policy or create(settings.policy)
        self.store.migrate_feature("tidal", MIGRATIONS)
        self.model = LoadModel(config, engine, settings)
        self.blocked: dict[tuple[int, tuple[str, ...]], float] = {}
        self.version = 0  # bumps whenever the proposal list changes (the feature republishes then)
        self.moves = 0  # moves this manager decided (auto) or a manager accepted
        with self.store.lock:
            if seed:
                self.model.seed_from_store()
            self.mode = self._initial_mode()
        engine.listeners.append(self._on_change)

    # ------------------------------------------------------------------ settings
    def _setting(self, key: str) -> str | None:
        row = self.store.db.execute(
            "SELECT value FROM tidal_settings WHERE hall=? AND key=?", (self.hall, key)
        ).fetchone()
        return row[0] if row else None

    def _initial_mode(self) -> str:
        """A mode set over the bus survives a restart, unless hall.toml's mode changed since."""
        stored, stored_cfg = self._setting("mode"), self._setting("config_mode")
        if stored in MODES and stored_cfg == self.settings.mode:
            return stored
        with self.store.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO tidal_settings (hall, key, value) VALUES (?,?,?)",
                (self.hall, "mode", self.settings.mode),
            )
            db.execute(
                "INSERT OR REPLACE INTO tidal_settings (hall, key, value) VALUES (?,?,?)",
                (self.hall, "config_mode", self.settings.mode),
            )
        return self.settings.mode

    def set_mode(self, mode: str, actor: str) -> dict[str, Any]:
        if mode not in MODES:
            raise QueueError(f"unknown tidal mode {mode!r} (off, propose or auto)", "invalid_data")
        with self.store.transaction() as db:
            old = self.mode
            db.execute(
                "INSERT OR REPLACE INTO tidal_settings (hall, key, value) VALUES (?,?,?)", (self.hall, "mode", mode)
            )
            db.execute(
                "INSERT OR REPLACE INTO tidal_settings (hall, key, value) VALUES (?,?,?)",
                (self.hall, "config_mode", self.settings.mode),
            )
            self.engine._audit(db, actor, "tidal.mode", "tidal", {"from": old, "to": mode})
            self.mode = mode
            if mode != "propose":
                self._close_pending(db, "expired", f"tidal mode changed to {mode}")
        self.version += 1
        return {"mode": self.mode, "previous": old}

    # ------------------------------------------------------------------ listening
    def _on_change(self, change: Change) -> None:
        self.model.on_change(change)

    # ------------------------------------------------------------------ proposals
    def _row_public(self, r: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": proposal_id(r["id"]),
            "created_at": r["created_at"],
            "expires_at": r["expires_at"],
            "window": r["window"],
            "window_name": self.config.window(r["window"]).name,
            "from_domains": json.loads(r["from_domains"]),
            "to_domains": json.loads(r["to_domains"]),
            "target": r["target"],
            "kind": r["kind"],
            "policy": r["policy"],
            "reason": r["reason"],
            "reason_en": r["reason_en"],
            "metrics": json.loads(r["metrics"]),
            "state": r["state"],
            "decided_at": r["decided_at"],
            "decided_by": r["decided_by"],
            "note": r["note"],
            "applied_now": None if r["applied_now"] is None else bool(r["applied_now"]),
        }

    def _pending_rows(self) -> list[Any]:
        return self.store.db.execute(
            "SELECT * FROM tidal_proposals WHERE hall=? AND state='pending' ORDER BY id", (self.hall,)
        ).fetchall()

    def proposal(self, pid: str | int) -> dict[str, Any]:
        row_id = pid if isinstance(pid, int) else parse_proposal_id(pid)
        with self.store.lock:
            r = self.store.db.execute(
                "SELECT * FROM tidal_proposals WHERE hall=? AND id=?", (self.hall, row_id)
            ).fetchone()
        if r is None:
            raise NotFound(f"no tidal proposal {proposal_id(row_id)}")
        return self._row_public(r)

    def proposals(self, recent: int = 20) -> dict[str, Any]:
        with self.store.lock:
            pending = [self._row_public(r) for r in self._pending_rows()]
            done = [
                self._row_public(r)
                for r in self.store.db.execute(
                    "SELECT * FROM tidal_proposals WHERE hall=? AND state != 'pending' ORDER BY id DESC LIMIT ?",
                    (self.hall, recent),
                )
            ]
        return {
            "at": self.engine.now(),
            "mode": self.mode,
            "policy": self.policy.name,
            "pending": pending,
            "recent": done,
        }

    def _record(
        self,
        db: sqlite3.Connection,
        move: Move,
        state: str,
        decided_by: str | None = None,
        applied_now: bool | None = None,
    ) -> int:
        now = self.engine.now()
        cur = db.execute(
            "INSERT INTO tidal_proposals (hall, created_at, expires_at, window, from_domains, to_domains, target, kind, policy, "
            "reason, reason_en, metrics, state, decided_at, decided_by, applied_now) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                self.hall,
                now,
                now + self.settings.proposal_ttl_min * 60.0,
                move.window,
                json.dumps(move.from_domains),
                json.dumps(move.to_domains),
                move.target,
                move.kind,
                self.policy.name,
                move.reason,
                move.reason_en,
                json.dumps(move.metrics, ensure_ascii=False),
                state,
                now if state != "pending" else None,
                decided_by,
                None if applied_now is None else int(applied_now),
            ),
        )
        self.version += 1
        assert cur.lastrowid is not None
        return cur.lastrowid

    def _decide(
        self,
        db: sqlite3.Connection,
        row_id: int,
        state: str,
        actor: str | None,
        note: str = "",
        applied_now: bool | None = None,
    ) -> None:
        db.execute(
            "UPDATE tidal_proposals SET state=?, decided_at=?, decided_by=?, note=?, applied_now=? WHERE id=?",
            (state, self.engine.now(), actor, note, None if applied_now is None else int(applied_now), row_id),
        )
        self.version += 1

    def _close_pending(self, db: sqlite3.Connection, state: str, note: str) -> None:
        for r in self._pending_rows():
            self._decide(db, r["id"], state, None, note)

    def _move_of(self, r: sqlite3.Row) -> Move:
        return Move(
            window=r["window"],
            from_domains=json.loads(r["from_domains"]),
            to_domains=json.loads(r["to_domains"]),
            target=r["target"],
            kind=r["kind"],
            reason=r["reason"],
            reason_en=r["reason_en"],
            metrics=json.loads(r["metrics"]),
        )

    def _review(self, load: HallLoad) -> None:
        """Every pending proposal is checked again on the load of now: one that no longer holds is
        withdrawn (state ``expired``, ``note`` says why); one that holds gets its expected waits
        before/after brought up to date, so the console never shows yesterday's figures."""
        rows = self._pending_rows()
        if not rows:
            return
        now, s = self.engine.now(), self.settings
        ctx = self._context(set())
        with self.store.transaction() as db:
            for r in rows:
                w = load.windows.get(r["window"])
                move = self._move_of(r)
                note = ""
                if now >= r["expires_at"]:
                    note = f"无人处理，已过期 / no decision within {s.proposal_ttl_min:g} min"
                elif w is None or sorted(w.effective) != sorted(move.from_domains):
                    note = "撤回：窗口已另行调整 / withdrawn: the window was reassigned meanwhile"
                elif not w.available:
                    note = "撤回：窗口已暂停 / withdrawn: the window is paused"
                else:
                    why = self.policy.withdraw_reason(load, move, ctx)
                    if why:
                        note = f"撤回：{why.split(' / ')[0]} / withdrawn: {why.split(' / ')[-1]}"
                if note:
                    self._decide(db, r["id"], "expired", None, note)
                    continue
                after = load.with_domains(move.window, move.to_domains)
                doms = [move.target, *[d for d in (*move.from_domains, *move.to_domains) if d != move.target]]
                metrics = {**move.metrics, **expected_change(load, after, doms)}
                if metrics != move.metrics:
                    db.execute(
                        "UPDATE tidal_proposals SET metrics=? WHERE id=?",
                        (json.dumps(metrics, ensure_ascii=False), r["id"]),
                    )
                    self.version += 1

    def accept(self, pid: str, actor: str) -> dict[str, Any]:
        row_id = parse_proposal_id(pid)
        with self.store.lock:
            p = self.proposal(row_id)
            if p["state"] != "pending":
                raise QueueError(f"proposal {p['id']} is already {p['state']}", "proposal_closed")
            self._review(self.model.compute())  # accept only what still holds now
            p = self.proposal(row_id)
            if p["state"] != "pending":
                raise QueueError(f"proposal {p['id']} no longer holds ({p['note']})", "proposal_stale")
            applied, _ = self.engine.assign(
                p["window"], p["to_domains"], actor=actor, reason=f"{p['id']}: {p['reason']}"
            )
            with self.store.transaction() as db:
                self._decide(db, row_id, "accepted", actor, "", applied_now=applied)
            self.moves += 1
            return self.proposal(row_id)

    def reject(self, pid: str, actor: str, reason: str = "") -> dict[str, Any]:
        row_id = parse_proposal_id(pid)
        with self.store.lock:
            p = self.proposal(row_id)
            if p["state"] != "pending":
                raise QueueError(f"proposal {p['id']} is already {p['state']}", "proposal_closed")
            with self.store.transaction() as db:
                self._decide(db, row_id, "rejected", actor, reason)
                self.engine._audit(
                    db,
                    actor,
                    "tidal.reject",
                    f"window {p['window']}",
                    {"proposal": p["id"], "to": p["to_domains"], "reason": reason},
                )
            cooldown = max(self.settings.min_dwell_min, self.settings.proposal_ttl_min) * 60.0
            self.blocked[(p["window"], tuple(p["to_domains"]))] = self.engine.now() + cooldown
            return self.proposal(row_id)

    # ------------------------------------------------------------------ running the policy
    def _context(self, locked: set[int]) -> PolicyContext:
        now = self.engine.now()
        self.blocked = {k: v for k, v in self.blocked.items() if v > now}
        return PolicyContext(self.config, self.settings, now, blocked=set(self.blocked), locked=locked)

    def _apply(self, move: Move) -> bool:
        try:
            applied, _ = self.engine.assign(move.window, move.to_domains, actor=AUTO_ACTOR, reason=move.reason)
        except QueueError as exc:
            log.warning("tidal: could not move window %s to %s: %s", move.window, move.to_domains, exc)
            return False
        with self.store.transaction() as db:
            self._record(db, move, "applied", AUTO_ACTOR, applied_now=applied)
        self.moves += 1
        return True

    def evaluate(self) -> list[Move]:
        """Consult the policy once; returns the moves it wanted (proposed or applied, by mode)."""
        with self.store.lock:
            load = self.model.compute()
            self._review(load)
            if self.mode == "off":
                return []
            view, locked, gained = load, set(), collections.Counter[str]()
            for r in self._pending_rows():  # pending proposals count as if done: one per window at most
                locked.add(r["window"])
                if r["kind"] != "return":
                    gained[r["target"]] += 1
                view = view.with_domains(r["window"], json.loads(r["to_domains"]))
            ctx = self._context(locked)
            ctx.gained.update(gained)
            moves = self.policy.plan(view, ctx)
            if self.mode == "auto":
                return [m for m in moves if self._apply(m)]
            with self.store.transaction() as db:
                for m in moves:
                    rid = self._record(db, m, "pending")
                    self.engine._audit(
                        db,
                        "tidal",
                        "tidal.propose",
                        f"window {m.window}",
                        {"proposal": proposal_id(rid), "to": m.to_domains, "reason": m.reason},
                    )
            return moves

    def window_freed(self, number: int) -> Move | None:
        """A window finished its ticket and is free: in auto mode the policy may send it elsewhere now."""
        if self.mode != "auto":
            return None
        with self.store.lock:
            load = self.model.compute()
            move = self.policy.on_window_free(load, number, self._context(set()))
            if move is not None and self._apply(move):
                return move
        return None

    # ------------------------------------------------------------------ views for the bus
    def load_view(self) -> dict[str, Any]:
        with self.store.lock:
            load = self.model.compute()
            busy = window_busy_share(self.engine, load.at)
            out = load.public(domain_utilisation(load, busy))
            services = self.model.services_public()
        for w in out["windows"]:
            w["utilisation_1h"] = busy.get(w["number"]) or 0.0
        waits = [d["expected_wait_min"] for d in out["domains"] if d["expected_wait_min"] is not None]
        out.update(
            mode=self.mode,
            policy=self.policy.name,
            threshold_min=self.settings.threshold_min,
            services=services,
            totals={
                "waiting": sum(d["waiting"] for d in out["domains"]),
                "max_expected_wait_min": max(waits) if waits else None,
                "windows_open": sum(1 for w in out["windows"] if w["state"] != "paused"),
                "windows_away": sum(1 for w in out["windows"] if w["away_from_home"]),
            },
        )
        return out
