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

import hashlib
import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, Signer

from devices.secret_file import read_or_create
from hall_bus.features.evaluation.settings import Staff
from ui.web.settings import WebSettings

MIN_PASSWORD = 8
SECRET_FILE = "web-secret"
SAVE_SEEN_EVERY_S = 60.0  # a session's last activity is written to web.db at most this often
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
    key: str = ""  # the SHA-256 of its id: how web.db knows it (the id itself is only in the cookie)
    saved_seen: float = 0.0  # the last_seen web.db holds

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
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS web_sessions (key TEXT PRIMARY KEY, staff_no TEXT NOT NULL, "
            "csrf TEXT NOT NULL, last_seen REAL NOT NULL, window INTEGER)"
        )
        self._signer = Signer(web_key(Path(data_dir)), salt="hallkit-web-session")
        self._sessions: dict[str, Session] = {}  # by key
        self.on_end: list[Callable[[Session], None]] = []  # told of every session that ended (outside the lock)
        self._restore()

    def _restore(self) -> None:
        """The sessions a restart of the console found in web.db (staff stay logged in, at their window);
        an idle one, or one of a staff member no longer in hall.toml, is dropped."""
        now = self.clock()
        with self._lock:
            for key, staff_no, csrf, seen, window in self.db.execute("SELECT * FROM web_sessions").fetchall():
                staff = self.staff.get(staff_no)
                session = Session(staff, csrf, seen, window, key, seen) if staff is not None else None
                if session is None or self._idle(session, now):
                    self.db.execute("DELETE FROM web_sessions WHERE key=?", (key,))
                else:
                    self._sessions[key] = session

    def save(self, session: Session) -> None:
        """Write a session's window and activity to web.db (a clerk took or left a window)."""
        with self._lock:
            self._save(session)

    def _save(self, session: Session) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO web_sessions (key, staff_no, csrf, last_seen, window) VALUES (?,?,?,?,?)",
            (session.key, session.staff.staff_no, session.csrf, session.last_seen, session.window),
        )
        session.saved_seen = session.last_seen

    def _forget(self, sessions: list[Session]) -> None:
        self.db.executemany("DELETE FROM web_sessions WHERE key=?", [(s.key,) for s in sessions])

    def restored(self) -> list[Session]:
        """The live sessions (for the desks to show who is at which window after a restart)."""
        now = self.clock()
        with self._lock:
            return [s for s in self._sessions.values() if not self._idle(s, now)]

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
        session = Session(staff=staff, csrf=secrets.token_urlsafe(24), last_seen=self.clock(), key=_key(sid))
        with self._lock:
            self._sessions[session.key] = session
            self._save(session)
        return self._signer.sign(sid).decode(), session

    def session(self, cookie: str | None) -> Session | None:
        """The live session a cookie names (its idle clock restarted), or None."""
        sid = self._sid(cookie)
        if sid is None:
            return None
        now = self.clock()
        with self._lock:
            session = self._sessions.get(_key(sid))
            if session is None:
                return None
            if not self._idle(session, now):
                session.last_seen = now
                if now - session.saved_seen >= SAVE_SEEN_EVERY_S:
                    self._save(session)
                return session
            del self._sessions[session.key]
            self._forget([session])
        self._ended([session])
        return None

    def close_session(self, cookie: str | None) -> None:
        sid = self._sid(cookie)
        if sid is not None:
            with self._lock:
                session = self._sessions.pop(_key(sid), None)
                self._forget([session] if session is not None else [])
            self._ended([session] if session is not None else [])

    def sweep(self, now: float | None = None) -> int:
        """End the sessions idle longer than ``idle_timeout_min`` (telling :attr:`on_end`); how many ended."""
        now = self.clock() if now is None else now
        with self._lock:
            idle = [key for key, s in self._sessions.items() if self._idle(s, now)]
            ended = [self._sessions.pop(key) for key in idle]
            self._forget(ended)
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


def _key(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def web_key(data_dir: Path) -> bytes:
    """The key that signs the console's cookies (sessions, tablets): made once per hall beside the stores."""
    return read_or_create(data_dir / SECRET_FILE, 32, "web console key")
