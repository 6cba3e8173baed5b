"""Controller feature: tidal windows (潮汐窗口) on the hall bus.

``attach(controller)`` reads ``[tidal]`` from hall.toml, builds a :class:`TidalManager` over the
controller's queue engine, registers the ``tidal.*`` operations and starts one background thread
that republishes the retained load and proposals (every ``publish_every_s`` and soon after every
queue change) and consults the policy (every ``evaluate_every_s``, and after changes).

Concurrency: the controller handles requests one at a time on the bus client's dispatch thread;
the store is one SQLite connection guarded by ``store.lock`` (an RLock held by every engine
transaction). The background thread does all its engine and store work while holding
``store.lock``, so it never interleaves with a request's transaction; the tidal ops themselves run
on the dispatch thread like every other op.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from hall_bus.bus import topics
from hall_bus.bus.envelope import Envelope, model_of
from hall_bus.contracts import tidal as tidal_contracts
from hall_bus.contracts.tidal import Accept, ModeSet, ProposalsRequest, Reject
from hall_bus.controller.features import FeatureContext, FeatureSpec
from hall_bus.features.tidal.config import from_config
from hall_bus.features.tidal.proposals import MIGRATIONS, TidalManager
from hall_bus.queue.models import Change

log = logging.getLogger(__name__)

MIN_GAP_S = 0.5  # at most two publications a second, however busy the hall is
EVAL_AFTER_CHANGE_S = 2.0


class TidalFeature:
    def __init__(self, controller: FeatureContext) -> None:
        self.controller = controller
        self.hall = controller.hall
        self.bus = controller.bus
        self.settings = from_config(controller.config)  # ConfigError names the file and key
        self.manager = TidalManager(controller.config, controller.engine, self.settings)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._freed: set[int] = set()
        self._force_eval = False
        self._published_version = -1
        controller.engine.listeners.append(self._on_change)
        controller.register_op("tidal.load", lambda env: self.manager.load_view())
        controller.register_op("tidal.proposals", self._proposals)
        controller.register_op("tidal.accept", self._accept)
        controller.register_op("tidal.reject", self._reject)
        controller.register_op("tidal.mode", self._mode)
        self._thread = threading.Thread(target=self._run, name=f"tidal-{self.hall}", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ ops (dispatch thread)
    def _actor(self, env: Envelope, actor: str) -> str:
        return f"{env.sender}/{actor}"

    def _proposals(self, env: Envelope) -> dict[str, Any]:
        recent = model_of(env, ProposalsRequest).recent
        return self.manager.proposals(20 if recent is None else recent)

    def _accept(self, env: Envelope) -> dict[str, Any]:
        req = model_of(env, Accept)
        p = self.manager.accept(req.proposal_id, self._actor(env, req.actor))
        self._poke()
        return {"proposal": p, "window": self.controller.engine.window(p["window"]).public()}

    def _reject(self, env: Envelope) -> dict[str, Any]:
        req = model_of(env, Reject)
        p = self.manager.reject(req.proposal_id, self._actor(env, req.actor), req.reason or "")
        self._poke()
        return {"proposal": p}

    def _mode(self, env: Envelope) -> dict[str, Any]:
        req = model_of(env, ModeSet)
        out = self.manager.set_mode(req.mode, self._actor(env, req.actor))
        self._poke(evaluate=True)
        return out

    def _poke(self, evaluate: bool = False) -> None:
        with self._lock:
            self._force_eval = self._force_eval or evaluate
        self._wake.set()

    # ------------------------------------------------------------------ background
    def _on_change(self, change: Change) -> None:
        for type_, data in change.events:
            if (
                type_ == "ticket"
                and data.get("action") in ("finished", "no_show", "transferred")
                and data.get("window")
            ):
                with self._lock:
                    self._freed.add(int(data["window"]))
        self._wake.set()

    def publish(self) -> None:
        self.bus.publish_state(topics.state(self.hall, "tidal", "load"), "tidal.load", self.manager.load_view())
        self.bus.publish_state(
            topics.state(self.hall, "tidal", "proposals"), "tidal.proposals", self.manager.proposals()
        )
        self._published_version = self.manager.version

    def _run(self) -> None:
        s = self.settings
        last_eval = time.monotonic()
        last_pub = 0.0
        changed = True
        need_eval = True
        while not self._stop.is_set():
            try:
                now = time.monotonic()
                need_eval = need_eval or changed
                with self._lock:
                    freed, self._freed = self._freed, set()
                    force, self._force_eval = self._force_eval, False
                for number in sorted(freed):
                    w = self.controller.engine.window(number)
                    if w.current is None and w.works:
                        self.manager.window_freed(number)
                if (
                    force
                    or now - last_eval >= s.evaluate_every_s
                    or (need_eval and now - last_eval >= EVAL_AFTER_CHANGE_S)
                ):
                    self.manager.evaluate()
                    last_eval, need_eval = now, False
                if changed or now - last_pub >= s.publish_every_s or self.manager.version != self._published_version:
                    self.publish()
                    last_pub = now
            except Exception:  # the hall keeps running; the next round tries again
                log.exception("tidal: background round failed")
            if self._stop.wait(MIN_GAP_S):
                return
            timeout = max(0.0, s.publish_every_s - MIN_GAP_S)
            if need_eval:
                timeout = min(timeout, max(0.0, EVAL_AFTER_CHANGE_S - (time.monotonic() - last_eval)))
            changed = self._wake.wait(timeout)
            self._wake.clear()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(5.0)


SPEC = FeatureSpec(
    name="tidal",
    summary="潮汐窗口: live load, proposals and window moves",
    attach=TidalFeature,
    ops=("tidal.load", "tidal.proposals", "tidal.accept", "tidal.reject", "tidal.mode"),
    contracts=tidal_contracts.CONTRACTS,
    requires=(),
    migrations=tuple(MIGRATIONS),
)
