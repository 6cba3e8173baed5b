"""Fixed documents for the golden-byte tests (regenerate goldens: python -m tests.drivers.printer_docs_fixtures)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from drivers import escpos_docs as docs

GOLDEN = Path(__file__).resolve().parent / "golden"

TICKET = docs.QueueTicketDoc(
    hall_name="示范区政务服务中心",
    code="A012",
    service_name="社保卡申领",
    domain_name="社保",
    waiting_ahead=7,
    estimated_wait_min=18.4,
    issued_at=dt.datetime(2026, 11, 23, 9, 41),
    qr_url="https://hall.example/q/demo-hall/2026-11-23/A012",
    priority="elderly",
)
SLIP = docs.PickupSlipDoc(
    hall_name="示范区政务服务中心",
    case_no="BJ2026112300017",
    item_name="不动产权证书",
    compartment="A-07（A列第3格）",
    collected_at=dt.datetime(2026, 11, 23, 22, 15),
    id_masked="1101**********123X",
)
RECEIPT = docs.ProxyReceiptDoc(
    hall_name="示范区政务服务中心",
    receipt_no="DB-20261123-0031",
    service_name="养老保险关系转移",
    agent_name="王*",
    agent_no="S0107",
    materials=("身份证复印件", "参保缴费凭证（原件）"),
    promised_date=dt.date(2026, 12, 7),
    contact_phone="0571-12345",
    issued_at=dt.datetime(2026, 11, 23, 10, 2),
)

DOCUMENTS = {
    "ticket-80mm": lambda: docs.queue_ticket(TICKET, 48, 6),
    "ticket-58mm": lambda: docs.queue_ticket(TICKET, 32, 4, cut=False),
    "ticket-80mm-en": lambda: docs.queue_ticket(docs.QueueTicketDoc(**{**TICKET.__dict__, "lang": "en"}), 48, 6),
    "pickup-slip-80mm": lambda: docs.pickup_slip(SLIP, 48),
    "proxy-receipt-80mm": lambda: docs.proxy_receipt(RECEIPT, 48),
}

if __name__ == "__main__":
    GOLDEN.mkdir(exist_ok=True)
    for name, build in DOCUMENTS.items():
        (GOLDEN / f"{name}.bin").write_bytes(build())
        print(name)
