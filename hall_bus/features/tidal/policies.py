"""Pluggable tidal policies: which window should serve which domain next.

A policy looks at a :class:`~hall_bus.tidal.load.HallLoad` and returns :class:`Move` objects; it
never touches the engine. The manager (``proposals.py``) turns moves into proposals or, in
automatic mode, into ``engine.assign`` calls. Register more with :func:`register`.

* ``threshold`` (阈值+滞回, 涨潮/退潮): a domain whose pressure (expected wait, or the projected
  wait if larger) exceeds ``threshold_min`` (rising tide) gets a window of another domain added to
  it: the window then calls the longest-waiting ticket of its home domain and the hot one (the
  engine's first-come-first-served rule balances the two), provided its home domains stay at
  least ``hysteresis`` minutes below the threshold with the window shared. When the tide ebbs (the
  borrowed domain would stay below ``(threshold - hysteresis) / 2`` without it) the window drops
  the borrowed domain again. Honours the clerks' skills, ``max_domains_per_window``, a minimum
  number of windows per domain and a minimum dwell time per window.
* ``flexible`` (Mandelbaum–Stolyar generalised cμ): a window serves the domain maximising
  ``cost_weight x head-of-line wait x service rate`` among its skills; it switches only when the
  best domain beats its current one by ``hysteresis`` minutes of head-of-line wait, after its
  dwell time, and never strips a domain below its minimum windows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hall_bus.config import HallConfig
from hall_bus.features.tidal.load import HallLoad, WindowLoad
from hall_bus.features.tidal.settings import TidalSettings


@dataclass
class Move:
    window: int
    from_domains: list[str]
    to_domains: list[str]
    target: str  # the domain that gains the window
    kind: str  # borrow | return | flex
    reason: str  # 中文
    reason_en: str
    metrics: dict[str, Any] = field(default_factory=dict[str, Any])


@dataclass
class PolicyContext:
    config: HallConfig
    settings: TidalSettings
    now: float
    blocked: set[tuple[int, tuple[str, ...]]] = field(default_factory=set)  # rejected moves still cooling down
    locked: set[int] = field(default_factory=set)  # windows with a pending proposal
    gained: dict[str, int] = field(default_factory=dict)  # windows a domain gains by pending proposals

    def room(self, load: HallLoad, domain: str) -> bool:
        """Another window for ``domain`` helps only while it has more people waiting than windows
        already on their way to it (never four proposals for three waiting tickets)."""
        return self.gained.get(domain, 0) < load.domains[domain].waiting

    def name(self, domain: str) -> str:
        try:
            return self.config.domain(domain).name
        except KeyError:
            return domain

    def names(self, domains: list[str]) -> str:
        return "、".join(self.name(d) for d in domains)

    def dwell_ok(self, w: WindowLoad) -> bool:
        return w.last_move_at is None or self.now - w.last_move_at >= self.settings.min_dwell_min * 60.0

    def movable(self, w: WindowLoad) -> bool:
        return w.available and w.number not in self.locked and self.dwell_ok(w)


class Policy:
    name = "base"
    description = ""

    def plan(self, load: HallLoad, ctx: PolicyContext) -> list[Move]:
        raise NotImplementedError

    def on_window_free(self, load: HallLoad, number: int, ctx: PolicyContext) -> Move | None:
        """A window just finished its ticket: anything for it now? (default: no)."""
        return None

    def withdraw_reason(self, load: HallLoad, move: Move, ctx: PolicyContext) -> str | None:
        """Why a pending move no longer holds on ``load`` (a sentence, 中文 / English), or None.

        A move that brings a window to a domain holds while people wait there, the move still
        shortens that wait and the queue has not eased below the band it was proposed for; a
        return holds while the borrowed domain stays calm without the window."""
        s = ctx.settings
        after = load.with_domains(move.window, move.to_domains)
        tn = ctx.name(move.target)
        if move.kind == "return":
            borrowed = [d for d in move.from_domains if d not in move.to_domains]
            left = max((after.pressure(d) for d in borrowed), default=0.0)
            home = max((load.pressure(d) for d in move.to_domains), default=0.0)
            if left > s.threshold_min - s.hysteresis and left + s.hysteresis > home:
                bn = ctx.names(borrowed)
                return f"撤出后{bn}等候将回升 / {bn} would wait longer again without the window"
            return None
        if load.domains[move.target].waiting == 0:
            return f"{tn}已无人等候 / nobody waits for {tn} any more"
        floor = s.hysteresis if move.metrics.get("rule") == "idle_share" else s.threshold_min - s.hysteresis
        if load.pressure(move.target) <= floor:
            return f"{tn}排队已缓解 / the {tn} queue has eased"
        if after.pressure(move.target) >= load.pressure(move.target):
            return f"{tn}等候不再缩短 / it no longer shortens the {tn} wait"
        return None


_REGISTRY: dict[str, Callable[[], Policy]] = {}


def register(name: str, factory: Callable[[], Policy]) -> None:
    _REGISTRY[name] = factory


def policy_names() -> list[str]:
    return sorted(_REGISTRY)


def create(name: str) -> Policy:
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise KeyError(f"no tidal policy {name!r} (known: {', '.join(policy_names())})") from None


def _fmt(x: float) -> str:
    return "∞" if math.isinf(x) else f"{x:.0f}"


def _keeps_minimum(after: HallLoad, domains: list[str], ctx: PolicyContext) -> bool:
    need = ctx.settings.min_windows_per_domain
    return all(len(after.windows_serving(d)) >= need for d in domains)


def _destination(w: WindowLoad, target: str) -> list[str]:
    """Where a window goes to serve ``target``: home if the target is one of its home domains."""
    return list(w.home_domains) if target in w.home_domains else [target]


def _share(w: WindowLoad, target: str, max_domains: int) -> list[str]:
    """The window's domains with ``target`` added: home domains kept, the oldest borrowed one
    dropped if the window would serve more than ``max_domains``."""
    homes = [d for d in w.effective if d in w.home_domains] or list(w.effective)
    borrowed = [d for d in w.effective if d not in homes]
    room = max(0, max_domains - 1 - len(homes))
    return homes + (borrowed[len(borrowed) - room :] if room else []) + [target]


class ThresholdPolicy(Policy):
    name = "threshold"
    description = "threshold with hysteresis: share windows into hot domains, release them when the tide ebbs"

    def plan(self, load: HallLoad, ctx: PolicyContext) -> list[Move]:
        s = ctx.settings
        moves: list[Move] = []
        moved: set[int] = set()
        view = load
        for _ in range(len(load.windows)):
            move = self._release(view, ctx, moved) or self._borrow(view, ctx, moved)
            if move is None and s.idle_share:
                for w in sorted(view.windows.values(), key=lambda w: w.number):
                    if w.number not in moved and w.state == "idle":
                        move = self._idle_share(view, w, ctx)
                        if move is not None:
                            break
            if move is None:
                break
            moves.append(move)
            moved.add(move.window)
            if move.kind == "borrow":
                ctx.gained[move.target] = ctx.gained.get(move.target, 0) + 1
            view = view.with_domains(move.window, move.to_domains)
        return moves

    def on_window_free(self, load: HallLoad, number: int, ctx: PolicyContext) -> Move | None:
        return self._idle_share(load, load.windows[number], ctx)

    def _idle_share(self, view: HallLoad, w: WindowLoad, ctx: PolicyContext) -> Move | None:
        """A window with nothing left to call in its own domains shares a queueing skill domain
        (its home domains stay: it keeps serving them first-come-first-served)."""
        s = ctx.settings
        if not ctx.movable(w) or any(view.domains[d].waiting for d in w.effective if d in view.domains):
            return None
        if len(w.effective) >= s.max_domains_per_window and not s.swap_when_full:
            return None
        cands = [
            d
            for d in w.skills
            if d not in w.effective
            and d in view.domains
            and view.domains[d].waiting
            and view.pressure(d) > s.hysteresis
            and ctx.room(view, d)
        ]
        if not cands:
            return None
        target = max(cands, key=view.pressure)
        to = _share(w, target, s.max_domains_per_window)
        dropped = [d for d in w.effective if d not in to]
        after = view.with_domains(w.number, to)
        if (w.number, tuple(to)) in ctx.blocked or not _keeps_minimum(after, dropped, ctx):
            return None
        tn, p = ctx.name(target), view.wait(target)
        n = view.domains[target].waiting
        return Move(
            window=w.number,
            from_domains=list(w.effective),
            to_domains=to,
            target=target,
            kind="borrow",
            reason=f"{tn}{n}人等候（预计{_fmt(p)}分钟），{w.name}空闲：增办{tn}（{ctx.names(to)}）",
            reason_en=f"{tn} expected wait {_fmt(p)} min ({n} waiting) vs {ctx.names(w.effective)} none waiting: "
            f"idle window {w.number} also serves {tn}",
            metrics={**expected_change(view, after, [target, *w.effective]), "rule": "idle_share"},
        )

    def _borrow(self, view: HallLoad, ctx: PolicyContext, moved: set[int]) -> Move | None:
        s = ctx.settings
        hot = sorted((d for d in view.domains if view.pressure(d) > s.threshold_min), key=view.pressure, reverse=True)
        for target in hot:
            if not ctx.room(view, target):
                continue
            before = view.pressure(target)
            best: tuple[Any, ...] | None = None
            for w in view.windows.values():
                if w.number in moved or not ctx.movable(w) or target not in w.skills or target in w.effective:
                    continue
                if len(w.effective) >= s.max_domains_per_window and not s.swap_when_full:
                    continue
                to = _share(w, target, s.max_domains_per_window)
                if (w.number, tuple(to)) in ctx.blocked:
                    continue
                dropped = [d for d in w.effective if d not in to]
                after = view.with_domains(w.number, to)
                if not _keeps_minimum(after, dropped, ctx):
                    continue
                donor_after = max((after.pressure(d) for d in w.effective if d != target), default=0.0)
                target_after = after.pressure(target)
                if target_after >= before:
                    continue
                # slack: the donors stay clearly below the threshold, or the worst wait of the domains the
                # window serves drops by at least the hysteresis (the calling rule serves a shared window's
                # domains first come, first served, which evens their waits out), so the move never
                # invites its reverse
                if (
                    donor_after > s.threshold_min - s.hysteresis
                    and max(donor_after, target_after) + s.hysteresis > before
                ):
                    continue
                key = (donor_after, w.state != "idle", len(to), w.number)
                if best is None or key < best[0]:
                    best = (key, w, to, donor_after, after)
            if best is None:
                continue
            _, w, to, donor_after, after = best
            donors = [d for d in w.effective if d != target]
            donor_now = max((view.wait(d) for d in donors), default=0.0)
            tn, dn, tw = ctx.name(target), ctx.names(donors) or "—", view.wait(target)
            return Move(
                window=w.number,
                from_domains=list(w.effective),
                to_domains=to,
                target=target,
                kind="borrow",
                reason=f"{tn}预计等候{_fmt(tw)}分钟，{dn}{_fmt(donor_now)}分钟：{w.name}增办{tn}（{ctx.names(to)}）",
                reason_en=f"{tn} expected wait {_fmt(tw)} min vs {dn} {_fmt(donor_now)} min: "
                f"window {w.number} also serves {tn} ({ctx.names(to)})",
                metrics={**expected_change(view, after, [target, *donors]), "rule": "borrow"},
            )
        return None

    def _release(self, view: HallLoad, ctx: PolicyContext, moved: set[int]) -> Move | None:
        s = ctx.settings
        ebb = (s.threshold_min - s.hysteresis) / 2.0
        for w in sorted(view.windows.values(), key=lambda w: w.number):
            if w.number in moved or not ctx.movable(w):
                continue
            borrowed = [d for d in w.effective if d not in w.home_domains]
            if not borrowed:
                continue
            to = [d for d in w.effective if d in w.home_domains] or list(w.home_domains)
            if (w.number, tuple(to)) in ctx.blocked:
                continue
            after = view.with_domains(w.number, to)
            if not _keeps_minimum(after, borrowed, ctx):
                continue
            left_after = max(after.pressure(d) for d in borrowed)
            home_now = max(view.pressure(d) for d in to)
            left_wait, home_wait = max(after.wait(d) for d in borrowed), max(view.wait(d) for d in to)
            home_needs = home_now > s.threshold_min and left_after + s.hysteresis <= home_now
            # the tide has ebbed: no queue to speak of, and the arrivals of the last half hour need
            # at most half of the capacity left without this window (a quiet spell is not enough)
            calm = left_after <= ebb and all((after.domains[d].load_ratio or 0.0) <= 0.5 for d in borrowed)
            if not ((s.release in ("home", "both") and home_needs) or (s.release in ("calm", "both") and calm)):
                continue
            bn, hn = ctx.names(borrowed), ctx.names(to)
            return Move(
                window=w.number,
                from_domains=list(w.effective),
                to_domains=to,
                target=to[0],
                kind="return",
                reason=f"{bn}撤出后预计等候{_fmt(left_wait)}分钟，{hn}{_fmt(home_wait)}分钟：{w.name}回归{hn}",
                reason_en=f"{bn} expected wait {_fmt(left_wait)} min without it vs {hn} {_fmt(home_wait)} min: "
                f"window {w.number} returns to {hn}",
                metrics={**expected_change(view, after, [*to, *borrowed]), "rule": "release"},
            )
        return None


class FlexiblePolicy(Policy):
    name = "flexible"
    description = (
        "generalised c-mu (Mandelbaum-Stolyar): serve the domain maximising cost x head-of-line wait x service rate"
    )

    def _index(self, load: HallLoad, domain: str, ctx: PolicyContext, margin: float = 0.0) -> float:
        dl = load.domains[domain]
        if dl.waiting == 0:
            return 0.0
        weight = ctx.settings.cost_weights.get(domain, 1.0)
        return weight * max(0.0, dl.oldest_wait_min - margin) / max(dl.handling_min, 0.1)

    def _choose(self, load: HallLoad, w: WindowLoad, ctx: PolicyContext) -> Move | None:
        if not ctx.movable(w):
            return None
        s = ctx.settings
        current = max((self._index(load, d, ctx) for d in w.effective), default=0.0)
        best, best_index = None, 0.0
        for d in w.skills:
            if d in w.effective:
                continue
            idx = self._index(load, d, ctx, margin=s.hysteresis)
            if idx > best_index:
                best, best_index = d, idx
        if best is None or best_index <= current:
            return None
        to = _destination(w, best)
        if (w.number, tuple(to)) in ctx.blocked:
            return None
        leaving = [d for d in w.effective if d not in to]
        after = load.with_domains(w.number, to)
        if not _keeps_minimum(after, leaving, ctx):
            return None
        bn, ln = ctx.name(best), ctx.names(leaving) or "—"
        hol_best = load.domains[best].oldest_wait_min
        hol_cur = max((load.domains[d].oldest_wait_min for d in leaving), default=0.0)
        return Move(
            window=w.number,
            from_domains=list(w.effective),
            to_domains=to,
            target=best,
            kind="flex",
            reason=f"{bn}最久已等{_fmt(hol_best)}分钟，{ln}{_fmt(hol_cur)}分钟：{w.name}改办{ctx.names(to)}",
            reason_en=f"{bn} longest wait {_fmt(hol_best)} min vs {ln} {_fmt(hol_cur)} min: window {w.number} to {ctx.names(to)}",
            metrics={
                **expected_change(load, after, [best, *leaving]),
                "target_index": round(best_index, 3),
                "current_index": round(current, 3),
            },
        )

    def plan(self, load: HallLoad, ctx: PolicyContext) -> list[Move]:
        moves: list[Move] = []
        targets: set[str] = set()
        view = load
        # idle windows first: they are the freed servers of the rule
        for w in sorted(load.windows.values(), key=lambda w: (w.state != "idle", w.number)):
            move = self._choose(view, view.windows[w.number], ctx)
            if move is None or move.target in targets:
                continue
            moves.append(move)
            targets.add(move.target)
            view = view.with_domains(move.window, move.to_domains)
        return moves

    def on_window_free(self, load: HallLoad, number: int, ctx: PolicyContext) -> Move | None:
        return self._choose(load, load.windows[number], ctx)

    def withdraw_reason(self, load: HallLoad, move: Move, ctx: PolicyContext) -> str | None:
        """A whole-window move holds while the target's index still beats what the window leaves."""
        tn = ctx.name(move.target)
        if load.domains[move.target].waiting == 0:
            return f"{tn}已无人等候 / nobody waits for {tn} any more"
        leaving = [d for d in move.from_domains if d not in move.to_domains]
        current = max((self._index(load, d, ctx) for d in leaving), default=0.0)
        if self._index(load, move.target, ctx) <= current:
            return f"{tn}不再最急 / {tn} is no longer the most urgent"
        return None


def _num(x: float) -> float | None:
    return None if math.isinf(x) or math.isnan(x) else round(x, 1)


def expected_change(before: HallLoad, after: HallLoad, domains: list[str]) -> dict[str, Any]:
    """What a move is expected to change, by the hall's one estimate: the wait of a ticket taken
    now in each affected domain, before and after (``target_*`` for the first, ``source_*`` the worst
    of the others)."""
    doms = list(dict.fromkeys(domains))
    others = doms[1:]
    return {
        "wait_before_min": {d: _num(before.wait(d)) for d in doms},
        "wait_after_min": {d: _num(after.wait(d)) for d in doms},
        "target_wait_min": _num(before.wait(doms[0])),
        "target_wait_after_min": _num(after.wait(doms[0])),
        "source_wait_min": _num(max((before.wait(d) for d in others), default=0.0)),
        "source_wait_after_min": _num(max((after.wait(d) for d in others), default=0.0)),
    }


register("threshold", ThresholdPolicy)
register("flexible", FlexiblePolicy)
