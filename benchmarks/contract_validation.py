"""Micro-benchmark: checking the ``data`` of a typical ``ticket.issue`` request three ways.

(a) the home-made schema language HallKit used before pydantic (``hall_bus/contracts/schema.py`` at
    commit 9bc0e5a, loaded from git when the checkout has it, else skipped), (b) the pydantic v2
    model the bus uses now (:class:`hall_bus.contracts.queue.TicketIssue`, plus the dict dump), and
(c) an equivalent msgspec Struct (``msgspec.convert``). N calls x ROUNDS rounds; the median over
rounds of the per-call time in microseconds.

    .venv/bin/python benchmarks/contract_validation.py [--n 20000] [--rounds 5]
"""

import argparse
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hall_bus.bus.envelope import checked  # noqa: E402
from hall_bus.contracts.queue import TicketIssue  # noqa: E402
from hall_bus.vocabulary import APPOINTMENT_PATTERN, ID_PATTERN, PRIORITIES, TOKEN_PATTERN  # noqa: E402

DATA = {
    "service": "shebao-card",
    "idempotency_key": "kiosk-1:5a1e3c9d7f",
    "priority": "elderly",
    "age_years": 67,
    "identity_token": "ab" * 32,
    "channel": "kiosk",
}


def old_schema() -> Callable[[dict], Any] | None:
    """The pre-pydantic checker, from git history (commit 9bc0e5a)."""
    try:
        src = subprocess.run(
            ["git", "-C", str(ROOT), "show", "9bc0e5a:hall_bus/contracts/schema.py"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    mod = types.ModuleType("old_schema")
    exec(compile(src, "old_schema.py", "exec"), mod.__dict__)
    s = mod.__dict__
    spec = s["Obj"](
        service=s["Str"](pattern=ID_PATTERN),
        idempotency_key=s["Str"](min_len=8, max_len=64, pattern=r"[A-Za-z0-9_.:-]+"),
        priority=s["Enum"](*PRIORITIES, default="normal"),
        age_years=s["Int"](min=0, max=150, optional=True),
        identity_token=s["Str"](pattern=TOKEN_PATTERN, optional=True),
        appointment=s["Str"](pattern=APPOINTMENT_PATTERN, optional=True),
        channel=s["Enum"]("kiosk", "window", "cli", "app", "simulator", default="kiosk"),
    )
    return lambda data: spec.check(data, "data")


def msgspec_check() -> Callable[[dict], Any] | None:
    try:
        import msgspec
    except ImportError:
        return None
    Meta = msgspec.Meta

    class TicketIssueStruct(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
        service: Annotated[str, Meta(pattern=f"^(?:{ID_PATTERN})$", max_length=256)]
        idempotency_key: Annotated[str, Meta(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
        priority: Literal[PRIORITIES] = "normal"  # type: ignore[valid-type]
        age_years: Annotated[int, Meta(ge=0, le=150)] | None = None
        identity_token: Annotated[str, Meta(pattern=f"^(?:{TOKEN_PATTERN})$")] | None = None
        appointment: Annotated[str, Meta(pattern=f"^(?:{APPOINTMENT_PATTERN})$")] | None = None
        channel: Literal["kiosk", "window", "cli", "app", "simulator"] = "kiosk"

    return lambda data: msgspec.to_builtins(msgspec.convert(data, TicketIssueStruct))


def pydantic_check(data: dict) -> Any:
    return checked(TicketIssue, data, "invalid_data").model_dump(exclude_unset=True)


def measure(fn: Callable[[dict], Any], n: int, rounds: int) -> tuple[float, float]:
    per_call = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            fn(DATA)
        per_call.append((time.perf_counter() - t0) / n * 1e6)
    return statistics.median(per_call), min(per_call)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    candidates = {"schema.py (old)": old_schema(), "pydantic v2": pydantic_check, "msgspec": msgspec_check()}
    figures = []
    for name, fn in candidates.items():
        if fn is None:
            print(f"{name:16s} not available")
            continue
        fn(DATA)  # warm up, and fail early if the data does not pass
        median, best = measure(fn, args.n, args.rounds)
        figures.append(f"{name.split()[0].replace('.py', '')}_us={median:.2f}")
        print(f"{name:16s} median {median:6.2f} us/call  best {best:6.2f} us/call  ({args.n} x {args.rounds})")
    print(" ".join(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
