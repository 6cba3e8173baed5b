"""Conformance checks of the frame-protocol devices: pad, caller keypad, window display."""
from __future__ import annotations

from drivers import hallframe as hf
from drivers.errors import DeviceReported

from .conformance import Probe, check, expect


def _link(p: Probe) -> hf.HallLink:
    return hf.HallLink(p.port, int(p.options.get("address", 1)))


for _kind in ("pad", "caller", "display"):
    @check(_kind, "heartbeat is answered with a result code 00")
    def _heartbeat(p: Probe) -> None:
        payload = _link(p).request(hf.HEARTBEAT)
        expect(len(payload) == 2, f"heartbeat payload {payload.hex(' ')} is not pending-events + version")

    @check(_kind, "an unknown command is refused with 02, not ignored")
    def _unknown(p: Probe) -> None:
        try:
            _link(p).request(0x3E)
        except DeviceReported as exc:
            expect(exc.code == 0x02, f"unknown command answered {exc.code:02X}, expected 02")
            return
        raise AssertionError("an unknown command was accepted")

    @check(_kind, "a frame with a bad checksum is dropped and the next one answered")
    def _bad_checksum(p: Probe) -> None:
        bad = bytearray(hf.encode(int(p.options.get("address", 1)), hf.HEARTBEAT))
        bad[-2] ^= 0xFF
        p.port.write(bytes(bad))
        _link(p).request(hf.HEARTBEAT)


@check("pad", "show window and clerk, request and cancel an evaluation")
def _pad_flow(p: Probe) -> None:
    from drivers.pad import PadDriver

    pad = PadDriver(_link(p))
    pad.show_info(1, "S0000", "测试")
    pad.request_evaluation("Z999", 30)
    pad.cancel()
    try:
        pad.cancel()
    except DeviceReported as exc:
        expect(exc.code == 0x05, f"cancelling nothing answered {exc.code:02X}, expected 05")
        return
    raise AssertionError("cancelling when nothing is pending was accepted")


@check("caller", "show text on the keypad screen")
def _caller_text(p: Probe) -> None:
    from drivers.caller import CallerDriver

    CallerDriver(_link(p)).show_text("自检 OK")


@check("display", "show both lines, refuse a line that does not exist, set brightness, clear")
def _display_lines(p: Probe) -> None:
    from drivers.display import DisplayDriver

    d = DisplayDriver(_link(p))
    d.show_line(0, "窗口屏自检")
    d.show_line(1, "HallKit", align="left")
    try:
        d.show_line(9, "x")
    except DeviceReported as exc:
        expect(exc.code == 0x03, f"line 9 answered {exc.code:02X}, expected 03")
    else:
        raise AssertionError("line 9 was accepted by a display without it")
    d.brightness(8)
    d.clear()
