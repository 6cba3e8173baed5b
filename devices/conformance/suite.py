"""Conformance checks per device kind, run against any URL (the simulator or the real device), so a
technician runs the very same checks on both: ``hallkit conformance <kind> --url URL``.

Each check gets a :class:`Probe`: the opened transport wrapped so every byte written and read is
recorded. A failed check reports what went wrong and the bytes exchanged. The checks are
written in ``serial_kinds`` and ``hall`` (one :class:`~devices.conformance.core.CheckSet` each);
drivers are the project's own, so passing the suite means "our driver and this device agree on the
protocol".
"""

from __future__ import annotations

import time
import traceback

from devices.conformance import hall, serial_kinds
from devices.conformance.core import Check, CheckFailed, Probe, Result

_checks: dict[str, list[tuple[str, Check]]] = {**serial_kinds.CHECKS.by_kind, **hall.CHECKS.by_kind}
DEFAULT_BAUD = {"idcard": 115200, "locker": 9600, "pad": 9600, "caller": 9600, "display": 9600, "printer": 115200}


def kinds() -> list[str]:
    return sorted(_checks)


def run(kind: str, url: str, baudrate: int | None = None, options: dict[str, str] | None = None) -> list[Result]:
    if kind not in _checks:
        raise KeyError(f"no conformance checks for {kind!r} (kinds: {', '.join(kinds())})")
    results = []
    for name, fn in _checks[kind]:
        t0 = time.monotonic()
        probe = None
        try:
            probe = Probe(url, baudrate or DEFAULT_BAUD.get(kind, 9600), dict(options or {}))
            fn(probe)
            results.append(Result(name, True, seconds=time.monotonic() - t0))
        except Exception as exc:
            detail = f"{type(exc).__name__}: {exc}" if not isinstance(exc, CheckFailed) else str(exc)
            if not isinstance(exc, (CheckFailed, OSError, TimeoutError, ValueError)):
                detail += "\n" + traceback.format_exc(limit=2)
            results.append(Result(name, False, detail, probe.port.transcript() if probe else "", time.monotonic() - t0))
        finally:
            if probe is not None:
                probe.close()
    return results
