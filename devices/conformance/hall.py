"""Conformance checks of the frame-protocol devices: pad, caller keypad, window display."""

from __future__ import annotations

import time

from devices.conformance.core import CheckSet, Probe, expect
from drivers import hallframe as hf
from drivers.caller import CallerDriver
from drivers.display import DisplayDriver
from drivers.errors import DeviceReported, ReplyTimeout
from drivers.pad import PadDriver

CHECKS = CheckSet()
check = CHECKS.check


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

    @check(_kind, "a heartbeat sent one byte at a time is understood")
    def _slow_bytes(p: Probe) -> None:
        addr = int(p.options.get("address", 1))
        wire = hf.encode(addr, hf.HEARTBEAT)
        for byte in wire:
            p.port.write(bytes([byte]))
            time.sleep(0.005)
        frames = _listen(p, 0.5, stop_at_first=True)
        if not any(f.addr == addr and f.cmd == hf.HEARTBEAT | hf.REPLY for f in frames):
            raise ReplyTimeout(
                "no heartbeat reply to a frame that arrived in single bytes", wire, b"".join(f.encode() for f in frames)
            )

    @check(_kind, "frames for another address and broadcasts are not answered")
    def _silence(p: Probe) -> None:
        addr = int(p.options.get("address", 1))
        other = addr + 1 if addr < 254 else addr - 1
        p.port.write(hf.encode(other, hf.HEARTBEAT) + hf.encode(0, hf.HEARTBEAT))
        answered = [f for f in _listen(p, 0.4) if f.addr in (addr, 0) and f.is_reply]
        expect(
            not answered,
            f"the device at {addr} answered a frame not meant for it: {answered[0].encode().hex(' ')}"
            if answered
            else "",
        )
        _link(p).request(hf.HEARTBEAT)  # and it still answers its own


def _listen(p: Probe, seconds: float, stop_at_first: bool = False) -> list[hf.Frame]:
    codec, frames = hf.HallFrameCodec(), list[hf.Frame]()
    deadline = time.monotonic() + seconds
    p.port.timeout = 0.05
    while time.monotonic() < deadline and not (stop_at_first and frames):
        chunk = p.port.read(256)
        if chunk:
            frames += codec.feed(chunk)
    return frames


@check("pad", "show window and clerk, request and cancel an evaluation")
def _pad_flow(p: Probe) -> None:
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
    CallerDriver(_link(p)).show_text("自检 OK")


@check("display", "show both lines, refuse a line that does not exist, set brightness, clear")
def _display_lines(p: Probe) -> None:
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
