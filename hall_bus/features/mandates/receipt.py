"""The 回执 of a mandate: the printer document (:class:`drivers.escpos_docs.ProxyReceiptDoc`) made from
a ``mandate.create`` / ``mandate.get`` answer, with the signed follow link as its QR code.

A window host or any process holding a receipt printer prints it with
``ReceiptPrinter.print_proxy_receipt(receipt_doc(...))``. Nothing of the citizen is on it: the
mandate's number, the service, the agent, the materials received, the promised date and the link.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from drivers.escpos_docs import ProxyReceiptDoc


def receipt_doc(
    mandate: dict[str, Any], hall_name: str, tz: dt.tzinfo, contact_phone: str = "", lang: str = "zh"
) -> ProxyReceiptDoc:
    return ProxyReceiptDoc(
        hall_name=hall_name,
        receipt_no=str(mandate["mandate_no"]),
        service_name=str(mandate["service_name"]),
        agent_name=str(mandate["agent_name"]),
        agent_no=str(mandate["agent"]),
        materials=tuple(str(m) for m in mandate["materials"]),
        promised_date=dt.date.fromisoformat(str(mandate["promised_date"])),
        contact_phone=contact_phone,
        issued_at=dt.datetime.fromtimestamp(float(mandate["created_at"]), tz),
        lang=lang,
        qr_url=str(mandate["follow_url"]),
    )
