"""Bus contracts of the tidal-window feature (docs/tidal.md describes them for the manager console).

Retained state (published by the controller every ``publish_every_s`` and on change):

* ``topics.state(h, "tidal", "load")``       type ``tidal.load``
* ``topics.state(h, "tidal", "proposals")``  type ``tidal.proposals``

Requests to the controller: ``tidal.load``, ``tidal.proposals``, ``tidal.accept``,
``tidal.reject``, ``tidal.mode``.
"""

from __future__ import annotations

from typing import Literal

from hall_bus.contracts.base import (
    Anything,
    Closed,
    ContractSet,
    Empty,
    MessageContract,
    Open,
    RequestContract,
    array,
    integer,
    real,
    text,
)
from hall_bus.vocabulary import ID_PATTERN

PROPOSAL_ID = r"(tp-|TP-)?\d{1,12}"
Mode = Literal["off", "propose", "auto"]


class DomainLoad(Open):
    domain: str = text(pattern=ID_PATTERN)
    name: str = text()
    name_en: str = text()
    waiting: int = integer(min=0)
    work_min: float = real(min=0)
    oldest_wait_min: float = real(min=0)
    arrival_rate_per_h: float = real(min=0)
    handling_min: float = real(min=0)
    windows: list[int] = array()
    capacity: float = real(min=0)
    busy_windows: int = integer(min=0)
    expected_wait_min: float | None = real(min=0)
    projected_wait_min: float | None = real(min=0)
    utilisation: float | None = real(min=0)


class WindowLoad(Open):
    number: int = integer(min=1, max=999)
    name: str = text()
    domains: list[str] = array()
    pending_domains: list[str] | None = array()
    skills: list[str] = array()
    home_domains: list[str] = array()
    state: Literal["serving", "idle", "paused"]
    engine_state: str = text()
    current_domain: str | None = text()
    away_from_home: bool
    minutes_since_move: float | None
    utilisation_1h: float = real(min=0, max=1)


class ServiceLoad(Closed):
    service: str = text()
    domain: str = text()
    configured_min: float = real(min=0)
    handling_min: float = real(min=0)
    samples: int = integer(min=0)


class Totals(Open):
    waiting: int = integer(min=0)
    max_expected_wait_min: float | None
    windows_open: int = integer(min=0)
    windows_away: int = integer(min=0)


class Load(Open):
    at: float
    horizon_min: float = real(min=0)
    mode: Mode
    policy: str = text()
    threshold_min: float = real(min=0)
    domains: list[DomainLoad] = array()
    windows: list[WindowLoad] = array()
    services: list[ServiceLoad] = array()
    totals: Totals


class Proposal(Open):
    id: str = text(pattern=r"tp-\d+")
    created_at: float
    expires_at: float
    window: int = integer(min=1, max=999)
    window_name: str = text()
    from_domains: list[str] = array()
    to_domains: list[str] = array(min_len=1)
    target: str = text()
    kind: Literal["borrow", "return", "flex"]
    policy: str = text()
    reason: str = text(max_len=500)
    reason_en: str = text(max_len=500)
    metrics: Anything
    state: Literal["pending", "accepted", "rejected", "expired", "applied"]
    decided_at: float | None
    decided_by: str | None = text()
    note: str = text(max_len=500)
    applied_now: bool | None


class Proposals(Closed):
    at: float
    mode: Mode
    policy: str = text()
    pending: list[Proposal] = array()
    recent: list[Proposal] = array()


class ProposalsRequest(Closed):
    recent: int = integer(min=0, max=200, default=None)


class Accept(Closed):
    proposal_id: str = text(pattern=PROPOSAL_ID)
    actor: str = text(min_len=1, max_len=64)


class Accepted(Closed):
    proposal: Proposal
    window: Anything


class Reject(Closed):
    proposal_id: str = text(pattern=PROPOSAL_ID)
    actor: str = text(min_len=1, max_len=64)
    reason: str = text(max_len=200, default=None)


class Rejected(Closed):
    proposal: Proposal


class ModeSet(Closed):
    mode: Mode
    actor: str = text(min_len=1, max_len=64)


class ModeChanged(Closed):
    mode: Mode
    previous: Mode


CONTRACTS = ContractSet(
    requests=[
        RequestContract("tidal.load", Empty, Load, "Live load per domain and window (the tidal load model)."),
        RequestContract(
            "tidal.proposals", ProposalsRequest, Proposals, "Pending tidal proposals and the most recent decided ones."
        ),
        RequestContract(
            "tidal.accept",
            Accept,
            Accepted,
            "Accept a proposal: the window is reassigned (when its current ticket ends); audited.",
        ),
        RequestContract(
            "tidal.reject",
            Reject,
            Rejected,
            "Reject a proposal; the same move is not proposed again for the dwell time; audited.",
        ),
        RequestContract("tidal.mode", ModeSet, ModeChanged, "Switch the tidal mode (off | propose | auto); audited."),
    ],
    states=[
        MessageContract("tidal.load", Load, "The live load model (retained, republished periodically)."),
        MessageContract("tidal.proposals", Proposals, "Pending and recent tidal proposals (retained)."),
    ],
)
