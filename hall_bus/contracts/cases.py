"""Bus contracts of the case store: ``case.lookup`` (kiosk progress, 办件进度) and ``case.update`` (staff)."""
from __future__ import annotations

from hall_bus.bus.envelope import request_contract
from hall_bus.contracts.schema import Enum, List, Num, Obj, Str
from hall_bus.features.cases.store import STATUSES

CASE_NO = r"[A-Za-z0-9][A-Za-z0-9-]{3,31}"
TOKEN = r"[0-9a-f]{64}"

CASE = Obj(extra=True, case_no=Str(), service=Str(), service_name=Str(), title=Str(), status=Enum(*STATUSES),
           status_zh=Str(), detail=Str(), created_at=Num(), updated_at=Num(),
           steps=List(Obj(status=Enum(*STATUSES), at=Num())))

request_contract(
    "case.lookup",
    Obj(case_no=Str(pattern=CASE_NO, optional=True), identity_token=Str(pattern=TOKEN, optional=True)),
    Obj(cases=List(CASE)),
    "Progress of a case by number, or of a citizen's cases by identity token; no personal data in the answer.",
)
request_contract(
    "case.update",
    Obj(case_no=Str(pattern=CASE_NO), status=Enum(*STATUSES), actor=Str(min_len=1, max_len=64),
        service=Str(max_len=32, optional=True), identity_token=Str(pattern=TOKEN, optional=True),
        title=Str(max_len=64, optional=True), note=Str(max_len=200, optional=True)),
    Obj(case=CASE),
    "Create a case (with its service) or move it to a new status (staff).",
)
