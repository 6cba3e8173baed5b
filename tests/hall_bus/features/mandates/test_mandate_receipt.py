"""The 回执 of a mandate printed by the receipt printer device on its simulator (sim://printer): the
number, the service, the agent, the materials, the promised date, and a QR code holding the signed
follow link; nothing of the citizen. The PNG is saved (HALLKIT_SCREENSHOTS keeps a copy)."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from devices import printer as printer_mod
from devices.config import DeviceConfig
from hall_bus.features.mandates import link
from hall_bus.features.mandates.receipt import receipt_doc
from simulators import registry
from tests.hall_bus.features.mandates.conftest import TOKEN, new_mandate

SHOTS = os.environ.get("HALLKIT_SCREENSHOTS")


def test_the_receipt_prints_with_a_qr_to_follow_the_mandate(mandate_hall, bus_factory, tmp_path: Path) -> None:
    ctl = mandate_hall
    m = new_mandate(bus_factory("window-2"), ctl)
    name = f"mp-{uuid.uuid4().hex[:8]}"
    cfg = DeviceConfig(
        id="window-2-printer",
        kind="printer",
        url=f"sim://printer?id={name}&out={tmp_path}",
        profile="generic-80mm",
        host="window-2",
    )
    dev = printer_mod.ReceiptPrinter(cfg).open()
    try:
        sim = registry.instance(name)
        dev.print_proxy_receipt(receipt_doc(m, ctl.config.name, ctl.config.tz(), contact_phone="0571-12345"))
        page = sim.wait_pages(1)[0]
    finally:
        dev.close()
    text = page.text.replace("\n", "")
    for shown in ("帮办代办委托单回执", m["mandate_no"], "养老保险关系转移", "李强", "S0102", "参保缴费凭证（原件）"):
        assert shown in text, shown
    assert m["promised_date"] in text and "扫码查看办理进度" in text
    assert TOKEN not in text and TOKEN[:16] not in page.qr_codes[0].data
    qr = page.qr_codes[0].data
    assert qr == m["follow_url"]
    assert link.verify(ctl.ticket_links.secret, ctl.hall, qr.rsplit("/", 1)[1]) == m["mandate_no"]
    png = sim.png_paths[0]
    assert png.stat().st_size > 1000
    if SHOTS:
        shutil.copy(png, Path(SHOTS) / "mandate-receipt.png")
