"""Exactly once, also across restarts: the answers to requests with effects, kept in the store.

A request is identified by its authenticated requester and its transaction id. What happens to one
depends on its operation's effect in the roles table (:mod:`hall_bus.contracts.roles`):

* ``atomic`` ops run inside one store transaction that also records their answer, with the bus's
  publishes held back until the commit: either the effect and its answer are both durable, or
  neither is (the request then runs afresh when retried, and nothing it said was published). A
  handler's failure, or an answer that breaks its contract, rolls the whole effect back: no phantom
  tickets.
* ``journaled`` ops reach outside the store (a text message) or keep what a refusal counted. The request is recorded as ``running``
  before it runs and its answer after; a retry that finds it still ``running`` (the controller died
  in between) is answered ``outcome_unknown`` instead of being run a second time.

A retry of a recorded request gets the recorded answer, whatever happened in between (a restart, a
broker restart, the client's own resend after reconnecting). Records are dropped once the request
could no longer be accepted (its expiry plus the allowed clock skew).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from hall_bus.bus.client import BusClient, ServiceError
from hall_bus.bus.envelope import Envelope, checked, contract_for
from hall_bus.contracts.base import as_data
from hall_bus.contracts.roles import Effect
from hall_bus.controller.store import Store
from hall_bus.errors import CodedError

PURGE_EVERY = 500  # requests between two purges of expired records


class ServedLog:
    def __init__(self, store: Store, bus: BusClient, skew_s: float, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.bus = bus
        self.skew_s = skew_s
        self.clock = clock
        self._since_purge = 0

    def run(self, env: Envelope, effect: Effect, execute: Callable[[], Any]) -> Any:
        """Run ``execute`` at most once for ``(env.sender, env.tx)``; a repeat gets the first answer."""
        self._since_purge += 1
        if self._since_purge >= PURGE_EVERY:
            self.purge()
        if effect == "atomic":
            return self._run_atomic(env, execute)
        return self._run_recorded(env, execute)

    def _run_atomic(self, env: Envelope, execute: Callable[[], Any]) -> Any:
        with self.bus.held(), self.store.transaction() as db:
            stored = self._get(db, env)
            if stored is not None:
                return _replay(env, stored)
            data = _answer(env, execute())
            self._put(db, env, "ok", data)
            return data

    def _run_recorded(self, env: Envelope, execute: Callable[[], Any]) -> Any:
        with self.store.transaction() as db:
            stored = self._get(db, env)
            if stored is not None:
                return _replay(env, stored)
            self._put(db, env, "running", None)
        try:
            data = _answer(env, execute())
        except (CodedError, ServiceError) as exc:
            self._finish(env, "error", {"code": exc.code, "message": str(exc)})
            raise
        except Exception as exc:
            self._finish(env, "error", {"code": "internal", "message": f"{type(exc).__name__}: {exc}"})
            raise
        self._finish(env, "ok", data)
        return data

    def _get(self, db: sqlite3.Connection, env: Envelope) -> sqlite3.Row | None:
        row: sqlite3.Row | None = db.execute(
            "SELECT op, status, response FROM served_requests WHERE client=? AND tx=?", (env.sender, env.tx)
        ).fetchone()
        return row

    def _put(self, db: sqlite3.Connection, env: Envelope, status: str, data: Any) -> None:
        db.execute(
            "INSERT INTO served_requests (client, tx, op, at, expires_at, status, response) VALUES (?,?,?,?,?,?,?)",
            (
                env.sender,
                env.tx,
                env.op,
                self.clock(),
                env.expires_at + self.skew_s,
                status,
                None if data is None else json.dumps(data, ensure_ascii=False),
            ),
        )

    def _finish(self, env: Envelope, status: str, data: Any) -> None:
        with self.store.transaction() as db:
            db.execute(
                "UPDATE served_requests SET status=?, response=? WHERE client=? AND tx=?",
                (status, json.dumps(data, ensure_ascii=False), env.sender, env.tx),
            )

    def purge(self) -> int:
        """Forget the records no request can match any more."""
        self._since_purge = 0
        with self.store.transaction() as db:
            return db.execute("DELETE FROM served_requests WHERE expires_at < ?", (self.clock(),)).rowcount

    def count(self) -> int:
        with self.store.lock:
            return int(self.store.db.execute("SELECT COUNT(*) FROM served_requests").fetchone()[0])


def _answer(env: Envelope, result: Any) -> Any:
    data = as_data(result) if isinstance(result, BaseModel) else result
    checked(contract_for(env.op).response, data, "internal")  # a broken answer rolls the effect back
    return data


def _replay(env: Envelope, row: sqlite3.Row) -> Any:
    if row["op"] != env.op:
        raise ServiceError("invalid_envelope", f"transaction {env.tx} was used for {row['op']}, not {env.op}")
    if row["status"] == "running":
        raise ServiceError(
            "outcome_unknown",
            f"{env.op} tx {env.tx} was received before a restart and its outcome is not known; it was not run again",
        )
    response = json.loads(row["response"])
    if row["status"] == "error":
        raise ServiceError(str(response["code"]), str(response["message"]))
    return response
