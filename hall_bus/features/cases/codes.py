"""The verification code printed on a case's receipt (查询码), and the limit on wrong codes.

The phone page (``/case``) shows a case to whoever gives its case number and its code. Case numbers
are printed, spoken and guessable (``SB20261101001``), so the code carries the secret:
``code = base32(first 5 bytes of HMAC-SHA256(key, "hallkit-case:<hall>:<case_no>"))``, 8 characters
of Crockford's alphabet (no I, L, O, U: read aloud and typed without confusion; ``O`` is taken as
``0`` and ``I``/``L`` as ``1``), printed as ``ABCD-EFGH``. 40 bits, and at most
:data:`MAX_FAILURES` wrong codes per case within :data:`WINDOW_S` before the case refuses every code
for :data:`LOCK_S`: a guesser gets a handful of tries out of 2^40.

The code is derived, not stored: nothing to leak from the store, nothing to migrate, and the staff
can print it again (``case.receipt``). The key is made once per hall: ``HALLKIT_CASE_CODE_SECRET``
or a 0600 file ``case-code.secret`` in the hall's data_dir (like the ticket link key).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import sqlite3

from devices.secret_file import hall_key

SECRET_ENV = "HALLKIT_CASE_CODE_SECRET"
SECRET_FILE = "case-code.secret"
CODE_BYTES = 5  # 40 bits, 8 base32 characters
MAX_FAILURES = 5  # wrong codes for one case ...
WINDOW_S = 900.0  # ... within this long lock the case ...
LOCK_S = 900.0  # ... for this long
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TO_CROCKFORD = str.maketrans(_B32, _CROCKFORD)
_READ = str.maketrans({"O": "0", "I": "1", "L": "1"})


def code_secret(data_dir: str | os.PathLike[str]) -> bytes:
    return hall_key(data_dir, SECRET_FILE, SECRET_ENV, "case code secret")


def case_code(secret: bytes, hall: str, case_no: str) -> str:
    """The 8-character code of a case (without the dash)."""
    message = f"hallkit-case:{hall}:{case_no.strip().upper()}".encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()[:CODE_BYTES]
    return base64.b32encode(digest).decode("ascii").translate(_TO_CROCKFORD)


def printed(code: str) -> str:
    """As printed on the receipt: ``ABCD-EFGH``."""
    return f"{code[:4]}-{code[4:]}"


def normal(text: str) -> str:
    """What a citizen typed, as a code: upper case, no spaces or dashes, O read as 0, I and L as 1."""
    return "".join(ch for ch in text.upper() if ch.isalnum()).translate(_READ)


def matches(secret: bytes, hall: str, case_no: str, typed: str) -> bool:
    return hmac.compare_digest(normal(typed).encode(), case_code(secret, hall, case_no).encode())


def locked_until(db: sqlite3.Connection, case_no: str, now: float) -> float | None:
    """When the case takes codes again, if it is locked now."""
    row = db.execute("SELECT locked_until FROM case_code_failures WHERE case_no=?", (case_no,)).fetchone()
    return float(row["locked_until"]) if row is not None and row["locked_until"] > now else None


def count_failure(db: sqlite3.Connection, case_no: str, now: float) -> bool:
    """Count a wrong code for ``case_no`` (also a case that does not exist); True when it now locks."""
    row = db.execute("SELECT failures, first_at FROM case_code_failures WHERE case_no=?", (case_no,)).fetchone()
    if row is None or now - row["first_at"] > WINDOW_S:
        failures, first_at = 1, now
    else:
        failures, first_at = int(row["failures"]) + 1, float(row["first_at"])
    locks = failures >= MAX_FAILURES
    db.execute(
        "INSERT OR REPLACE INTO case_code_failures (case_no, failures, first_at, locked_until) VALUES (?,?,?,?)",
        (case_no, 0 if locks else failures, now if locks else first_at, now + LOCK_S if locks else 0.0),
    )
    db.execute("DELETE FROM case_code_failures WHERE first_at < ? AND locked_until < ?", (now - WINDOW_S, now))
    return locks


def clear_failures(db: sqlite3.Connection, case_no: str) -> None:
    db.execute("DELETE FROM case_code_failures WHERE case_no=?", (case_no,))
