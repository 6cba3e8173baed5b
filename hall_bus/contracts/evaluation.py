"""Bus contracts of the evaluation feature (docs/evaluation.md)."""
from __future__ import annotations

from hall_bus.contracts.devices import REASONS
from hall_bus.features.evaluation.followup import STATES
from hall_bus.bus.envelope import event_contract, request_contract
from hall_bus.contracts.schema import Bool, Enum, Int, List, Num, Obj, Str

CODE = r"[A-Z]{1,2}\d{3,4}"
DAY = r"\d{4}-\d{2}-\d{2}"
EVALUATION = Obj(extra=True, ticket=Str(), status=Str(), level=Int(nullable=True), channel=Str(nullable=True))
FOLLOWUP = Obj(extra=True, id=Int(), ticket=Str(), state=Str(), visit_due=Str(), rectify_due=Str(), overdue=List(Str()))

request_contract(
    "evaluation.submit",
    Obj(ticket=Str(pattern=CODE), day=Str(pattern=DAY, optional=True), level=Int(min=1, max=5),
        reason=Enum(*REASONS, optional=True), channel=Enum("kiosk", "qr", default="kiosk")),
    Obj(recorded=Bool(), evaluation=EVALUATION),
    "Rate a finished ticket at the kiosk or by the QR on the ticket (counts only if the pad did not rate it).",
)
request_contract("evaluation.get", Obj(ticket=Str(pattern=CODE), day=Str(pattern=DAY, optional=True)),
                 Obj(evaluation=EVALUATION, rateable=Bool()), "A ticket's evaluation, and whether it can still be rated.")
request_contract("followup.list", Obj(state=Enum(*STATES, optional=True),
                                      overdue=Bool(default=False)),
                 Obj(followups=List(FOLLOWUP)), "Bad-review follow-ups (差评整改), optionally only the overdue ones.")
request_contract("followup.update", Obj(id=Int(min=1), state=Enum(*STATES),
                                        note=Str(max_len=500, default=""), actor=Str(min_len=1, max_len=64)),
                 Obj(followup=FOLLOWUP), "Move a follow-up on, with a note (audited).")
request_contract("report.daily", Obj(date=Str(pattern=DAY, optional=True)), Obj(extra=True, hall=Str(), day=Str()),
                 "The daily report: tickets, waits, handling, no-shows and evaluations by window, clerk, domain, service.")
# The public evaluation event: closed (extra=False) so that no name or identity can ride along.
event_contract("evaluation", Obj(
    ticket=Str(pattern=CODE), window=Int(min=1, max=999, nullable=True), staff_no=Str(max_len=16, nullable=True),
    service=Str(max_len=64), domain=Str(max_len=64), channel=Enum("pad", "kiosk", "qr"),
    level=Int(min=1, max=5, nullable=True), reason=Enum(*REASONS, nullable=True), at=Num()))
