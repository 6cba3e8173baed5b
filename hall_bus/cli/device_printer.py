"""``hallkit device printer test|status``: exercise a receipt printer (or its simulator) by URL."""

from __future__ import annotations

import argparse
import datetime as dt
import sys


def register(cli) -> None:
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


def _open(args: argparse.Namespace):
    from devices.base import DeviceError
    from devices.config import DeviceConfig
    from devices.printer import ReceiptPrinter

    options = {"baudrate": args.baud} if args.baud else {}
    try:
        return ReceiptPrinter(
            DeviceConfig(id="printer", kind="printer", url=args.url, profile=args.profile, options=options)
        ).open()
    except ValueError as exc:  # e.g. a URL pyserial cannot parse
        raise DeviceError("printer", f"{args.url}: {exc}") from None


def test(args: argparse.Namespace) -> int:
    from devices.base import DeviceError
    from drivers.escpos_docs import QueueTicketDoc

    printer = None
    try:
        printer = _open(args)
        doc = QueueTicketDoc(
            hall_name="HallKit 打印测试",
            code=args.ticket,
            service_name="测试事项（Test）",
            domain_name="综合",
            waiting_ahead=0,
            estimated_wait_min=0,
            issued_at=dt.datetime.now(),
            qr_url=f"https://hallkit.example/q/test/{args.ticket}",
            lang=args.lang,
        )
        printer.print_ticket(doc)
    except DeviceError as exc:
        print(f"hallkit device printer test: {exc}", file=sys.stderr)
        return 1
    finally:
        if printer is not None:
            printer.close()
    print(f"printed test ticket {args.ticket} on {args.url}")
    return 0


def status(args: argparse.Namespace) -> int:
    from devices.base import DeviceError

    printer = None
    try:
        printer = _open(args)
        st = printer.refresh()
        state = printer.state.value
    except DeviceError as exc:
        print(f"hallkit device printer status: {exc}", file=sys.stderr)
        return 1
    finally:
        if printer is not None:
            printer.close()
    print(
        f"online={'yes' if st.online else 'no'} paper={'out' if st.paper_out else ('near end' if st.paper_near_end else 'ok')} "
        f"cover={'open' if st.cover_open else 'closed'} state={state}"
    )
    return 0 if st.can_print else 1
