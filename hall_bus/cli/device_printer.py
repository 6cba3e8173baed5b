"""``hallkit device printer test|status``: exercise a receipt printer (or its simulator) by URL."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from devices.base import DeviceError
from devices.config import DeviceConfig
from hall_bus.cli.common import opened, reporting
from hall_bus.cli.main import CommandLine

if TYPE_CHECKING:
    from devices.printer import ReceiptPrinter


def register(cli: CommandLine) -> None:
    cli.describe(("device",), "talk to one hall device by URL (technician tools)")
    cli.describe(("device", "printer"), "receipt printer (ESC/POS)")
    p = cli.command(("device", "printer", "test"), help="print a test queue ticket", handler=test)
    _common(p)
    p.add_argument("--ticket", default="A001", help="ticket number to print (default A001)")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    p = cli.command(("device", "printer", "status"), help="paper, cover and online state (DLE EOT)", handler=status)
    _common(p)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--url", required=True, help="/dev/ttyUSB0, socket://HOST:PORT, tcp://HOST:9100, usb://VID:PID or sim://printer"
    )
    p.add_argument("--profile", default="generic-80mm", help="capability profile (default generic-80mm)")
    p.add_argument("--baud", type=int, default=None, help="serial baud rate (default: the profile's)")


@contextmanager
def _printer(args: argparse.Namespace) -> Iterator[ReceiptPrinter]:
    """The printer of ``--url``, opened for one command."""
    from devices.printer import ReceiptPrinter  # python-escpos: loaded only to print

    options = {"baudrate": args.baud} if args.baud else {}
    config = DeviceConfig(id="printer", kind="printer", url=args.url, profile=args.profile, options=options)
    try:
        with opened(ReceiptPrinter(config)) as printer:
            yield printer
    except ValueError as exc:  # e.g. a URL pyserial cannot parse
        raise DeviceError("printer", f"{args.url}: {exc}") from None


def test(args: argparse.Namespace) -> int:
    from drivers.escpos_docs import QueueTicketDoc  # python-escpos

    doc = QueueTicketDoc(
        hall_name="HallKit 打印测试",
        code=args.ticket,
        service_name="测试事项（Test）",
        domain_name="综合",
        waiting_ahead=0,
        estimated_wait_min=0,
        issued_at=dt.datetime.now(),
        qr_url=args.ticket,  # (a real ticket carries its signed phone link: hall_bus/controller/ticket_link.py)
        lang=args.lang,
    )
    with reporting("device printer test"), _printer(args) as printer:
        printer.print_ticket(doc)
    print(f"printed test ticket {args.ticket} on {args.url}")
    return 0


def status(args: argparse.Namespace) -> int:
    with reporting("device printer status"), _printer(args) as printer:
        st = printer.refresh()
        state = printer.state.value
    print(
        f"online={'yes' if st.online else 'no'} paper={'out' if st.paper_out else ('near end' if st.paper_near_end else 'ok')} "
        f"cover={'open' if st.cover_open else 'closed'} state={state}"
    )
    return 0 if st.can_print else 1
