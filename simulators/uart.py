"""What a UART receives when the two ends of a line disagree on the baud rate.

The sender puts each byte on the wire as 8N1: a start bit (low), eight data bits least significant
first, a stop bit (high), the line idle (high) between bytes, every bit ``1/tx_baud`` seconds long.
The receiver waits for a falling edge, takes it as a start bit, samples the eight data bits in the
middle of its own bit cells (``1.5, 2.5, ... 8.5`` of ``1/rx_baud`` after the edge) and the stop bit
at ``9.5``; then it looks for the next falling edge. A byte whose stop bit reads low is a framing
error: Linux still delivers the byte (no ``PARMRK``), which is what a driver then reads. Within a few
per cent the samples stay inside the sender's bits and every byte arrives whole; at 9600 against
115200 the receiver reads a few wrong bytes, or many, instead of a frame, as on a real line.
"""

from __future__ import annotations

import termios

_TX_LEVELS_PER_BYTE = 10  # start, 8 data, stop

# termios speed constants -> baud
_SPEEDS = {
    getattr(termios, f"B{rate}"): rate
    for rate in (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)
    if hasattr(termios, f"B{rate}")
}


def termios_baud(fd: int) -> int | None:
    """The output rate set on a serial port or pty (None if the descriptor is not a terminal)."""
    try:
        return _SPEEDS.get(termios.tcgetattr(fd)[5])
    except (termios.error, OSError):
        return None


def _bits(data: bytes) -> list[int]:
    out: list[int] = []
    for b in data:
        out.append(0)
        out.extend((b >> i) & 1 for i in range(8))
        out.append(1)
    return out


def resample(data: bytes, tx_baud: int, rx_baud: int) -> bytes:
    """The bytes a receiver at ``rx_baud`` reads of ``data`` sent back to back at ``tx_baud``."""
    if not data or tx_baud == rx_baud:
        return data
    bits = _bits(data)
    tx_bit, rx_bit = 1.0 / tx_baud, 1.0 / rx_baud

    def level(t: float) -> int:
        k = int(t / tx_bit)
        return bits[k] if 0 <= k < len(bits) else 1

    def next_edge(t: float) -> float | None:
        """Time of the first high-to-low transition at or after ``t`` (the line idles high)."""
        k = max(0, int(t / tx_bit + 1e-9))
        if k * tx_bit < t - 1e-12:
            k += 1
        while k < len(bits):
            before = bits[k - 1] if k > 0 else 1
            if before == 1 and bits[k] == 0:
                return k * tx_bit
            k += 1
        return None

    out = bytearray()
    t: float | None = 0.0
    while t is not None:
        start = next_edge(t)
        if start is None:
            break
        value = 0
        for i in range(8):
            value |= level(start + (1.5 + i) * rx_bit) << i
        out.append(value)
        t = start + 9.5 * rx_bit  # the stop bit's sample: look for the next start after it
    return bytes(out)
