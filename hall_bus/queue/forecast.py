"""The forecast itself, a pure function of the waiting tickets and the open windows (no store, no
clock): the calling rule replayed ticket by ticket up to a working day ahead, a fluid approximation
beyond, and the cheap update when a normal ticket joins the end of a line. How the hall uses it, and
what it does not model: :mod:`hall_bus.queue.estimates`.
"""

from __future__ import annotations

import collections
import heapq
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hall_bus.queue.models import HandlingTimeEstimator, Ticket, WindowState

INF = float("inf")


@dataclass(frozen=True)
class Line:
    """A waiting ticket as the forecast sees it."""

    ticket: int
    domain: str
    order: tuple[int, float, int]  # the calling order (``_rank_key``)
    minutes: float  # expected handling minutes
    target_window: int | None = None


@dataclass(frozen=True)
class Desk:
    """An open window as the forecast sees it."""

    number: int
    domains: tuple[str, ...]  # what it calls from now on (a pending assignment applied)
    free_in_min: float = 0.0  # expected minutes until its current ticket ends (0: free now)


@dataclass
class Forecast:
    starts: dict[int, float] = field(default_factory=dict)  # ticket -> minutes until it is called
    new_arrival: dict[str, float] = field(default_factory=dict)  # domain -> wait of a ticket taken now
    fluid: dict[str, tuple[float, int]] = field(default_factory=dict)  # domain past the horizon: (end, windows)
    idle: dict[int, float] = field(default_factory=dict)  # window -> minute from which it has nothing to call
    desks: dict[int, tuple[str, ...]] = field(default_factory=dict)  # window -> the domains it calls
    last: dict[str, tuple[int, float, int]] = field(default_factory=dict)  # domain -> its last ticket's order

    def copy(self) -> Forecast:
        return Forecast(
            dict(self.starts), dict(self.new_arrival), dict(self.fluid), dict(self.idle), self.desks, dict(self.last)
        )

    def wait(self, domain: str) -> float:
        """Minutes a ticket of ``domain`` taken now would wait (``inf`` when no open window serves it)."""
        return self.new_arrival.get(domain, INF)

    def ticket_wait(self, ticket: int) -> float:
        return self.starts.get(ticket, INF)


def forecast(lines: Iterable[Line], desks: Iterable[Desk]) -> Forecast:
    """Replay the calling rule over the waiting tickets and the open windows (module docstring)."""
    by_domain: dict[str, list[tuple[tuple[int, float, int], int, Line]]] = collections.defaultdict(list)
    by_window: dict[int, list[tuple[tuple[int, float, int], int, Line]]] = collections.defaultdict(list)
    out = Forecast()
    for i, ln in enumerate(lines):
        heap = by_window[ln.target_window] if ln.target_window is not None else by_domain[ln.domain]
        heap.append((ln.order, i, ln))
        if ln.target_window is None and ln.order > out.last.get(ln.domain, (-1, 0.0, 0)):
            out.last[ln.domain] = ln.order
    for heap in (*by_domain.values(), *by_window.values()):
        heapq.heapify(heap)
    desks = list(desks)
    out.desks = {d.number: d.domains for d in desks}
    free: list[tuple[float, int, Desk]] = [(max(0.0, d.free_in_min), d.number, d) for d in desks]
    heapq.heapify(free)
    while free:
        t, _, desk = heapq.heappop(free)
        if t > HORIZON_MIN:  # a long queue: the rest by the fluid approximation, in time linear in its length
            _beyond_horizon(out, t, by_domain, by_window, desks)
            break
        heaps = [by_domain[d] for d in desk.domains if by_domain.get(d)]
        if by_window.get(desk.number):
            heaps.append(by_window[desk.number])
        if not heaps:  # nothing left it may call: a ticket taken now would be called at t
            out.idle[desk.number] = t
            for d in desk.domains:
                out.new_arrival[d] = min(out.new_arrival.get(d, INF), t)
            continue
        _, _, ln = heapq.heappop(min(heaps, key=lambda h: h[0][:2]))
        out.starts[ln.ticket] = t
        heapq.heappush(free, (t + ln.minutes, desk.number, desk))
    return out


HORIZON_MIN = 480.0  # replayed ticket by ticket up to here (a working day); beyond, fluid


def _beyond_horizon(
    out: Forecast,
    t0: float,
    by_domain: dict[str, list[tuple[tuple[int, float, int], int, Line]]],
    by_window: dict[int, list[tuple[tuple[int, float, int], int, Line]]],
    desks: list[Desk],
) -> None:
    """Tickets still waiting past the horizon start when the work ahead of them in their line, shared
    by the windows that serve that line, is done (each line on its own: a bound, not a replay)."""
    serving = collections.Counter(d for desk in desks for d in desk.domains)
    lines: list[tuple[list[tuple[tuple[int, float, int], int, Line]], int, str | None]]
    lines = [(by_domain.get(d, []), serving[d], d) for d in list(by_domain)]
    lines += [(heap, 1, None) for heap in by_window.values()]
    for heap, count, domain in lines:
        if count == 0:
            continue
        work = 0.0
        for _, _, ln in sorted(heap):
            out.starts.setdefault(ln.ticket, t0 + work / count)
            work += ln.minutes
        if domain is not None:
            out.new_arrival[domain] = min(out.new_arrival.get(domain, INF), t0 + work / count)
            out.fluid[domain] = (t0 + work / count, count)


def _appended(fc: Forecast, lines: list[Line], known: int) -> Forecast | None:
    """``fc`` with the lines after the first ``known`` added (the first ``known`` being the ones ``fc``
    was made from), when each is a normal ticket at the end of its domain's line; None when a replay
    is needed. What a replay would give, without one:

    * a domain some window runs out of work for within the horizon: the new ticket is called by the
      first such window when it runs out (nothing older is left there, and every window serving the
      domain had something older to call before), which then runs out again when the ticket is done;
      nothing else moves;
    * a domain whose line runs past the horizon: the ticket starts when the line's fluid tail ends.
    """
    if len(lines) < known:
        return None
    out: Forecast | None = None
    for ln in lines[known:]:
        out = out or fc.copy()
        latest = max(out.last.values(), default=(-1, 0.0, 0))  # last in every line, not only its own
        if ln.order[0] != 2 or ln.target_window is not None or ln.order < latest or ln.ticket in out.starts:
            return None
        serving = [(out.idle[n], n) for n, domains in out.desks.items() if ln.domain in domains and n in out.idle]
        out.last[ln.domain] = ln.order
        if serving:
            t, number = min(serving)
            if t != out.new_arrival.get(ln.domain) or t + ln.minutes > HORIZON_MIN:
                return None
            out.starts[ln.ticket] = t
            out.idle[number] = t + ln.minutes
            for d in out.desks[number]:
                ends = [out.idle[n] for n, domains in out.desks.items() if d in domains and n in out.idle]
                if d in out.fluid:
                    ends.append(out.fluid[d][0])
                out.new_arrival[d] = min(ends)
        elif ln.domain in out.fluid:
            end, count = out.fluid[ln.domain]
            out.starts[ln.ticket] = end
            out.fluid[ln.domain] = (end + ln.minutes / count, count)
            out.new_arrival[ln.domain] = end + ln.minutes / count
        elif not any(ln.domain in domains for domains in out.desks.values()):
            continue  # no open window serves it: no estimate, nothing else moves
        else:
            return None
    return out if out is not None else fc


def _line(row: tuple[Any, ...], minutes: dict[str, float]) -> Line:
    ticket, service, domain, priority, due, issued_at, target = row
    rank = 0 if due is not None else (1 if priority != "normal" else 2)
    return Line(ticket, domain, (rank, issued_at, ticket), minutes[service], target)


def remaining_minutes(current: Ticket | None, now: float, handling: HandlingTimeEstimator) -> float:
    """Expected minutes until a window's current ticket ends (0 when it has none or has run over)."""
    if current is None:
        return 0.0
    since = current.started_at or current.called_at or now
    return max(0.0, handling.expected_minutes(current.service) - (now - since) / 60.0)


def desks_of(windows: Sequence[WindowState], now: float, handling: HandlingTimeEstimator) -> list[Desk]:
    """The open windows as the forecast sees them."""
    return [
        Desk(
            w.number,
            tuple(w.pending_domains if w.pending_domains is not None else w.domains),
            remaining_minutes(w.current, now, handling),
        )
        for w in windows
        if w.works
    ]


def finite(x: float, digits: int = 1) -> float | None:
    """A wait as it travels on the bus: ``None`` when there is no estimate."""
    return None if math.isinf(x) or math.isnan(x) else round(x, digits)
