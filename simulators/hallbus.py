"""Several frame-protocol devices on one simulated RS485 line, kind ``hallbus``:
``sim://hallbus?caller=1&display=2&pad=3&pad.press=2&pad.after=1`` is a window's keypad at address 1,
display at 2 and pad at 3 on one pair of wires. Every device hears every frame and answers only its
own address, as on the real line; options of one device are given with its kind as prefix
(``pad.press=2``, ``caller.keys=call_next``). ``sim.child("pad")`` is the pad's simulator.
"""

from __future__ import annotations

from collections.abc import Mapping

from simulators import registry
from simulators.base import SimulatedDevice
from simulators.halldev import HallFrameDevice

KINDS = ("pad", "caller", "display")


class HallBusSimulator(SimulatedDevice):
    kind = "hallbus"
    OPTIONS = {
        **{kind: f"the {kind}'s address on the line (1..254)" for kind in KINDS},
        **{f"{kind}.OPTION": f"an option of the {kind} simulator, e.g. pad.press=2" for kind in KINDS},
    }

    def check_options(self, query: Mapping[str, str]) -> None:
        """Plain options as any simulator; ``KIND.OPTION`` needs its device on the line (the
        device's own simulator then checks the option itself)."""
        plain = {k: v for k, v in query.items() if "." not in k}
        super().check_options(plain)
        for key in sorted(set(query) - set(plain)):
            kind = key.split(".", 1)[0]
            if kind not in KINDS:
                raise ValueError(f"{key}: no device kind {kind!r} on a hall bus line (kinds: {', '.join(KINDS)})")
            if kind not in query:
                raise ValueError(f"{key}: give the {kind}'s address too ({kind}=ADDR)")

    def __init__(self, query: dict[str, str] | None = None) -> None:
        super().__init__(query)
        self.children: dict[str, HallFrameDevice] = {}
        addresses: dict[int, str] = {}
        for kind in KINDS:
            if kind not in self.query:
                continue
            try:
                addr = int(self.query[kind])
            except ValueError:
                raise ValueError(f"{kind}={self.query[kind]!r}: give the device's address 1..254") from None
            if not 1 <= addr <= 254 or addr in addresses:
                raise ValueError(
                    f"{kind}={addr}: addresses are 1..254 and unique on a line"
                    + (f" ({addresses[addr]} has {addr})" if addr in addresses else "")
                )
            addresses[addr] = kind
            sub = {k.split(".", 1)[1]: v for k, v in self.query.items() if k.startswith(kind + ".")}
            sub.update(address=str(addr), line_rate="0")  # the line (this simulator) sets the pace
            child = registry.create(kind, sub)
            assert isinstance(child, HallFrameDevice)
            self.children[kind] = child
        if not self.children:
            raise ValueError("sim://hallbus needs at least one of pad=ADDR, caller=ADDR, display=ADDR")

    def child(self, kind: str) -> HallFrameDevice:
        return self.children[kind]

    def handle(self, data: bytes) -> list[bytes]:
        replies: list[bytes] = []
        for child in self.children.values():
            replies += child.feed(data)
        return replies

    def tick(self, now: float) -> list[bytes]:
        out: list[bytes] = []
        for child in self.children.values():
            out += child.tick(now)
        return out

    def corrupt(self, reply: bytes) -> bytes:
        return reply[:-2] + bytes([reply[-2] ^ 0xFF]) + reply[-1:]

    def close(self) -> None:
        for child in self.children.values():
            child.close()


registry.register("hallbus", HallBusSimulator)
