"""Conformance checks per device kind, run against any URL (the simulator or the real device), so a
technician runs the very same checks on both: ``hallkit conformance <kind> --url URL``.

Each check gets a :class:`Probe`: the opened transport wrapped so every byte written and read is
recorded. A failed check reports what went wrong and the bytes exchanged. The checks are
written in ``serial_kinds`` and ``hall`` (one :class:`~devices.conformance.core.CheckSet` each);
drivers are the project's own, so passing the suite means "our driver and this device agree on the
protocol".

The first check of a kind is its simplest exchange (a heartbeat, a status query). When it gets no
reply or no valid frame at all, the device is not this kind (or not reachable as one): the other
checks are not run, and the result says so at once instead of timing out check after check.
"""

from __future__ import annotations

import time
import traceback

from devices.conformance import hall, printer, serial_kinds
from devices.conformance.core import Check, CheckFailed, Probe, Result
from drivers.errors import FrameError, ReplyTimeout

_checks: dict[str, list[tuple[str, Check]]] = {
    **serial_kinds.CHECKS.by_kind,
    **hall.CHECKS.by_kind,
    **printer.CHECKS.by_kind,
}
DEFAULT_BAUD = {"idcard": 115200, "locker": 9600, "pad": 9600, "caller": 9600, "display": 9600, "printer": 115200}


def kinds() -> list[str]:
    return sorted(_checks)


def run(kind: str, url: str, baudrate: int | None = None, options: dict[str, str] | None = None) -> list[Result]:
    if kind not in _checks:
        raise KeyError(f"no conformance checks for {kind!r} (kinds: {', '.join(kinds())})")
    results: list[Result] = []
    for i, (name, fn) in enumerate(_checks[kind]):
        if i == 1 and not results[0].passed and results[0].ran and _no_protocol(results[0]):
            first = results[0]
            first.detail = f"{url} does not answer as a {kind}: {first.detail}"
            results += [Result(n, False, "not run", ran=False) for n, _ in _checks[kind][1:]]
            break
        results.append(_run_one(kind, name, fn, url, baudrate, options))
    return results


def _no_protocol(result: Result) -> bool:
    """No reply or no valid frame: not a device that speaks this kind's protocol (an error code in a
    valid reply is the protocol, and the other checks still run)."""
    return isinstance(result.error, (ReplyTimeout, FrameError))


def _run_one(kind: str, name: str, fn: Check, url: str, baudrate: int | None, options: dict[str, str] | None) -> Result:
    t0 = time.monotonic()
    probe = None
    try:
        probe = Probe(url, baudrate or DEFAULT_BAUD.get(kind, 9600), dict(options or {}))
        fn(probe)
        return Result(name, True, seconds=time.monotonic() - t0)
    except Exception as exc:
        detail = f"{type(exc).__name__}: {exc}" if not isinstance(exc, CheckFailed) else str(exc)
        if not isinstance(exc, (CheckFailed, OSError, TimeoutError, ValueError)):
            detail += "\n" + traceback.format_exc(limit=2)
        transcript = probe.port.transcript() if probe else ""
        return Result(name, False, detail, transcript, time.monotonic() - t0, error=exc)
    finally:
        if probe is not None:
            probe.close()
