"""Bus contracts of the tidal-window feature (docs/tidal.md describes them for the manager console).

Retained state (published by the controller every ``publish_every_s`` and on change):

* ``topics.state(h, "tidal", "load")``       type ``tidal.load``
* ``topics.state(h, "tidal", "proposals")``  type ``tidal.proposals``

Requests to the controller: ``tidal.load``, ``tidal.proposals``, ``tidal.accept``,
``tidal.reject``, ``tidal.mode``.
"""
from __future__ import annotations

from hall_bus.bus.envelope import request_contract, state_contract
from hall_bus.contracts.schema import Bool, Enum, Int, List, Num, Obj, Str

ID = r"[a-z0-9][a-z0-9_-]{0,31}"
PROPOSAL_ID = r"(tp-|TP-)?\d{1,12}"
MODE = Enum("off", "propose", "auto")
ACTOR = Str(min_len=1, max_len=64)

DOMAIN_LOAD = Obj(
    extra=True,
    domain=Str(pattern=ID), name=Str(), name_en=Str(), waiting=Int(min=0), work_min=Num(min=0),
    oldest_wait_min=Num(min=0), arrival_rate_per_h=Num(min=0), handling_min=Num(min=0), windows=List(Int()),
    capacity=Num(min=0), busy_windows=Int(min=0), expected_wait_min=Num(min=0, nullable=True),
    projected_wait_min=Num(min=0, nullable=True), utilisation=Num(min=0, nullable=True),
)
WINDOW_LOAD = Obj(
    extra=True,
    number=Int(min=1, max=999), name=Str(), domains=List(Str()), pending_domains=List(Str(), nullable=True),
    skills=List(Str()), home_domains=List(Str()), state=Enum("serving", "idle", "paused"), engine_state=Str(),
    current_domain=Str(nullable=True), away_from_home=Bool(), minutes_since_move=Num(nullable=True),
    utilisation_1h=Num(min=0, max=1),
)
SERVICE_LOAD = Obj(service=Str(), domain=Str(), configured_min=Num(min=0), handling_min=Num(min=0), samples=Int(min=0))
LOAD = Obj(
    extra=True,
    at=Num(), horizon_min=Num(min=0), mode=MODE, policy=Str(), threshold_min=Num(min=0),
    domains=List(DOMAIN_LOAD), windows=List(WINDOW_LOAD), services=List(SERVICE_LOAD),
    totals=Obj(extra=True, waiting=Int(min=0), max_expected_wait_min=Num(nullable=True), windows_open=Int(min=0),
               windows_away=Int(min=0)),
)
PROPOSAL = Obj(
    extra=True,
    id=Str(pattern=r"tp-\d+"), created_at=Num(), expires_at=Num(), window=Int(min=1, max=999), window_name=Str(),
    from_domains=List(Str()), to_domains=List(Str(), min_len=1), target=Str(), kind=Enum("borrow", "return", "flex"),
    policy=Str(), reason=Str(max_len=500), reason_en=Str(max_len=500), metrics=Obj(extra=True),
    state=Enum("pending", "accepted", "rejected", "expired", "applied"), decided_at=Num(nullable=True),
    decided_by=Str(nullable=True), note=Str(max_len=500), applied_now=Bool(nullable=True),
)
PROPOSALS = Obj(at=Num(), mode=MODE, policy=Str(), pending=List(PROPOSAL), recent=List(PROPOSAL))

request_contract("tidal.load", Obj(), LOAD, "Live load per domain and window (the tidal load model).")
request_contract("tidal.proposals", Obj(recent=Int(min=0, max=200, optional=True)), PROPOSALS,
                 "Pending tidal proposals and the most recent decided ones.")
request_contract(
    "tidal.accept", Obj(proposal_id=Str(pattern=PROPOSAL_ID), actor=ACTOR),
    Obj(proposal=PROPOSAL, window=Obj(extra=True)),
    "Accept a proposal: the window is reassigned (when its current ticket ends); audited.",
)
request_contract(
    "tidal.reject", Obj(proposal_id=Str(pattern=PROPOSAL_ID), actor=ACTOR, reason=Str(max_len=200, optional=True)),
    Obj(proposal=PROPOSAL),
    "Reject a proposal; the same move is not proposed again for the dwell time; audited.",
)
request_contract("tidal.mode", Obj(mode=MODE, actor=ACTOR), Obj(mode=MODE, previous=MODE),
                 "Switch the tidal mode (off | propose | auto); audited.")

state_contract("tidal.load", LOAD)
state_contract("tidal.proposals", PROPOSALS)
