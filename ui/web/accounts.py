"""Staff accounts of the web console: argon2 password hashes, lockout, sessions and CSRF tokens.

Who the staff are, their roles and windows come from ``[[staff]]`` of hall.toml; only the password
hashes and the count of wrong passwords live here, in ``<data_dir>/web.db`` (never in hall.toml).
``hallkit staff passwd STAFF_NO`` sets a password. Five wrong passwords in a row (``[web]
lockout_after``) lock the account for ``lockout_min`` minutes, also across restarts.

Sessions live in the server's memory (a restart of the web console logs everybody out): a random id,
signed into an HttpOnly, SameSite=Strict cookie; each has its CSRF token, which every request that
changes something must carry; a session unused for ``idle_timeout_min`` minutes is over. Whoever
must know when a session ends (the clerk's desk: ui/web/routes/clerk.py ``free_desk``) is told through
:attr:`Accounts.on_end`, whether it ends by logging out, by being found idle when its cookie comes back,
or by :meth:`Accounts.sweep` (the web server sweeps the idle sessions every
:data:`SWEEP_EVERY_S`, so a clerk who walked away without logging out leaves no desk behind).
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, Signer

from devices.secret_file import read_or_create
from hall_bus.features.evaluation.settings import Staff
from ui.web.settings import WebSettings

MIN_PASSWORD = 8
SECRET_FILE = "web-secret"
SWEEP_EVERY_S = 30.0  # how often the web server ends the idle sessions (ui/web/server.py)

log = logging.getLogger(__name__)


class AccountError(Exception):
    """A refusal with the code the page shows a sentence for (``error.<code>``)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code


@dataclass
class Session:
    staff: Staff
    csrf: str
    last_seen: float
    window: int | None = None  # the window a clerk took
    data: dict[str, object] = field(default_factory=dict)

    @property
    def roles(self) -> tuple[str, ...]:
        return self.staff.roles

    def has(self, *roles: str) -> bool:
        return any(r in self.staff.roles for r in roles)


class Accounts:
    def __init__(
        self,
        data_dir: str | Path,
        staff: tuple[Staff, ...],
        settings: WebSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.staff = {s.staff_no: s for s in staff}
        self.settings = settings
        self.clock = clock
        self._hasher = PasswordHasher()
        self._lock = threading.Lock()
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(Path(data_dir) / "web.db"), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS staff_passwords (staff_no TEXT PRIMARY KEY, hash TEXT NOT NULL, "
            "changed_at REAL NOT NULL)"
        )
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS login_failures (staff_no TEXT PRIMARY KEY, failures INTEGER NOT NULL, "
            "locked_until REAL NOT NULL DEFAULT 0)"
        )
        self._signer = Signer(web_key(Path(data_dir)), salt="hallkit-web-session")
        self._sessions: dict[str, Session] = {}
        self.on_end: list[Callable[[Session], None]] = []  # told of every session that ended (outside the lock)

    # ------------------------------------------------------------------ passwords
    def set_password(self, staff_no: str, password: str) -> None:
        if staff_no not in self.staff:
            raise AccountError("unknown_staff", f"no [[staff]] with staff_no {staff_no!r} in hall.toml")
        if len(password) < MIN_PASSWORD:
            raise AccountError("weak_password", f"a password needs at least {MIN_PASSWORD} characters")
        with self._lock:
            self.db.execute(
                "INSERT OR REPLACE INTO staff_passwords (staff_no, hash, changed_at) VALUES (?,?,?)",
                (staff_no, self._hasher.hash(password), self.clock()),
            )
            self.db.execute("DELETE FROM login_failures WHERE staff_no=?", (staff_no,))

    def has_password(self, staff_no: str) -> bool:
        row = self.db.execute("SELECT 1 FROM staff_passwords WHERE staff_no=?", (staff_no,)).fetchone()
        return row is not None

    def authenticate(self, staff_no: str, password: str) -> Staff:
        """The staff member, or AccountError ``login_failed`` (which never says whether the staff number
        exists) or ``account_locked``."""
        now = self.clock()
        with self._lock:
            row = self.db.execute(
                "SELECT failures, locked_until FROM login_failures WHERE staff_no=?", (staff_no,)
            ).fetchone()
            if row is not None and row[1] > now:
                raise AccountError("account_locked", f"locked for {int(row[1] - now) // 60 + 1} more minute(s)")
            stored = self.db.execute("SELECT hash FROM staff_passwords WHERE staff_no=?", (staff_no,)).fetchone()
            staff = self.staff.get(staff_no)
            ok = False
            if stored is not None and staff is not None:
                try:
                    ok = self._hasher.verify(stored[0], password)
                except (VerifyMismatchError, VerificationError, InvalidHashError):
                    ok = False
            else:
                self._hasher.hash(password)  # the same work for an unknown number: no timing tells it apart
            if ok and staff is not None:
                self.db.execute("DELETE FROM login_failures WHERE staff_no=?", (staff_no,))
                if self._hasher.check_needs_rehash(stored[0]):
                    self.db.execute(
                        "UPDATE staff_passwords SET hash=? WHERE staff_no=?", (self._hasher.hash(password), staff_no)
                    )
                return staff
            failures = (row[0] if row is not None else 0) + 1  # (a lock that ran out left 0: a fresh start)
            locked = now + self.settings.lockout_min * 60 if failures >= self.settings.lockout_after else 0.0
            self.db.execute(
                "INSERT OR REPLACE INTO login_failures (staff_no, failures, locked_until) VALUES (?,?,?)",
                (staff_no[:64], 0 if locked else failures, locked),
            )
        if locked:
            raise AccountError("account_locked", "too many wrong passwords")
        raise AccountError("login_failed", "wrong staff number or password")

    # ------------------------------------------------------------------ sessions
    def open_session(self, staff: Staff) -> tuple[str, Session]:
        """A new session; returns the signed cookie value and the session."""
        sid = secrets.token_urlsafe(32)
        session = Session(staff=staff, csrf=secrets.token_urlsafe(24), last_seen=self.clock())
        with self._lock:
            self._sessions[sid] = session
        return self._signer.sign(sid).decode(), session

    def session(self, cookie: str | None) -> Session | None:
        """The live session a cookie names (its idle clock restarted), or None."""
        sid = self._sid(cookie)
        if sid is None:
            return None
        now = self.clock()
        with self._lock:
            session = self._sessions.get(sid)
            if session is None:
                return None
            if not self._idle(session, now):
                session.last_seen = now
                return session
            del self._sessions[sid]
        self._ended([session])
        return None

    def close_session(self, cookie: str | None) -> None:
        sid = self._sid(cookie)
        if sid is not None:
            with self._lock:
                session = self._sessions.pop(sid, None)
            self._ended([session] if session is not None else [])

    def sweep(self, now: float | None = None) -> int:
        """End the sessions idle longer than ``idle_timeout_min`` (telling :attr:`on_end`); how many ended."""
        now = self.clock() if now is None else now
        with self._lock:
            idle = [sid for sid, s in self._sessions.items() if self._idle(s, now)]
            ended = [self._sessions.pop(sid) for sid in idle]
        self._ended(ended)
        return len(ended)

    def sessions_of(self, staff_no: str) -> list[Session]:
        """The live sessions of ``staff_no`` (not those idle past the timeout, which only await the sweep)."""
        now = self.clock()
        with self._lock:
            return [s for s in self._sessions.values() if s.staff.staff_no == staff_no and not self._idle(s, now)]

    def _idle(self, session: Session, now: float) -> bool:
        return now - session.last_seen > self.settings.idle_timeout_min * 60

    def _ended(self, sessions: list[Session]) -> None:
        for session in sessions:
            for hook in list(self.on_end):
                try:
                    hook(session)
                except Exception:  # one hook's failure must not keep the others from their cleanup
                    log.exception("web console: a session-end hook failed")

    def _sid(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            return self._signer.unsign(cookie.encode()).decode()
        except BadSignature:
            return None

    def close(self) -> None:
        self.db.close()


def web_key(data_dir: Path) -> bytes:
    """The key that signs the console's cookies (sessions, tablets): made once per hall beside the stores."""
    return read_or_create(data_dir / SECRET_FILE, 32, "web console key")
