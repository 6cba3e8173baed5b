"""``sim://<kind>?<query>``: a HallKit simulator as a pyserial port.

Opening the URL creates the simulator of that kind (``simulators.registry``), serves it on a
loopback TCP port with line-rate emulation at the device's own baud rate (the kind's default, as a
real reader or printer has one, or ``baud=`` in the query), and connects to it exactly like
``socket://``. A port opened at another rate reads what a UART would: garbage. Closing the port stops the simulator. The simulator
object is reachable for scripting as ``port.simulator`` and, with ``id=NAME`` in the query, as
``simulators.registry.instance(NAME)``.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from serial.serialutil import SerialException
from serial.urlhandler import protocol_socket

from simulators import registry
from simulators.base import serve_tcp


class Serial(protocol_socket.Serial):
    simulator = None
    _served = None

    def from_url(self, url: str) -> Any:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "sim":
            raise SerialException(f"expected sim://KIND?..., got {url!r}")
        kind = parts.netloc or parts.path.strip("/")
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parts.query, keep_blank_values=True).items()}
        try:
            self.simulator = registry.create(kind, query)
        except (KeyError, ValueError) as exc:
            raise SerialException(f"sim://{kind}: {exc}") from None
        self.simulator.host_baud = self.baudrate
        self._served = serve_tcp(self.simulator)
        return ("127.0.0.1", self._served.port)

    def _reconfigure_port(self, *args: Any, **kwargs: Any) -> None:
        super()._reconfigure_port(*args, **kwargs)  # type: ignore[misc]  # not in types-pyserial
        if self.simulator is not None:  # the driver changed the port's rate: the line follows
            self.simulator.host_baud = self.baudrate

    def close(self) -> None:
        super().close()
        if self._served is not None:
            self._served.stop()
            self._served = None
