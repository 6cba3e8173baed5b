"""Shared simulator part of the frame-protocol devices (pad, caller keypad, LED display): framing,
addressing, replies, heartbeats, and events repeated until the host acknowledges them."""

from __future__ import annotations

import time
from typing import Any

from drivers import hallframe as hf
from simulators.base import SimulatedDevice

RETRY_S = 0.5
MAX_TRIES = 6


class HallFrameDevice(SimulatedDevice):
    OPTIONS = {"address": "the device's address on the RS485 line (default 1)"}

    def __init__(self, query: dict[str, str] | None = None) -> None:
        super().__init__(query)
        self.addr = int(self.query.get("address", 1))
        self.codec = hf.HallFrameCodec()
        self.seq = 0
        self.pending: dict[int, list[Any]] = {}  # seq -> [frame bytes, next send time, tries]
        self.outbox: list[bytes] = []
        self.acked: list[int] = []

    # --- to implement -------------------------------------------------------------------------
    def command(self, cmd: int, data: bytes) -> tuple[int, bytes]:
        """(result code, reply payload) for a host command."""
        return 0x02, b""

    def device_tick(self, now: float) -> None:
        """Time-driven behaviour (a scheduled press, a timeout)."""

    # --- plumbing -----------------------------------------------------------------------------
    def handle(self, data: bytes) -> list[bytes]:
        replies = []
        for frame in self.codec.feed(data):
            if frame.addr == 0 and frame.cmd < 0x40:  # broadcast: every device obeys, none answers
                self.command(frame.cmd, frame.data)
                continue
            if frame.addr != self.addr:
                continue
            if frame.cmd >= hf.REPLY and (frame.cmd & 0x7F) >= 0x40:  # the host acknowledges an event
                if len(frame.data) >= 2 and frame.data[1] in self.pending:
                    del self.pending[frame.data[1]]
                    self.acked.append(frame.data[1])
                continue
            if frame.cmd == hf.HEARTBEAT:
                result, payload = 0, bytes([len(self.pending), 1])
            else:
                result, payload = self.command(frame.cmd, frame.data)
            replies.append(hf.encode(self.addr, frame.cmd | hf.REPLY, bytes([result]) + payload))
        return replies

    def corrupt(self, reply: bytes) -> bytes:
        return reply[:-2] + bytes([reply[-2] ^ 0xFF]) + reply[-1:]

    def emit(self, cmd: int, payload: bytes) -> int:
        """Queue an event; it is sent at the next tick and repeated until acknowledged."""
        with self.lock:
            self.seq = self.seq % 255 + 1  # 1..255, wrapping
            frame = hf.encode(self.addr, cmd, bytes([self.seq]) + payload)
            self.pending[self.seq] = [frame, 0.0, 0]
            return self.seq

    def tick(self, now: float) -> list[bytes]:
        with self.lock:
            self.device_tick(now)
            out = []
            for seq, entry in list(self.pending.items()):
                frame, due, tries = entry
                if now >= due:
                    if tries >= MAX_TRIES:
                        del self.pending[seq]  # the host is gone; a real device gives up too
                        continue
                    out.append(frame)
                    entry[1], entry[2] = now + RETRY_S, tries + 1
            return out

    @staticmethod
    def now() -> float:
        return time.monotonic()
