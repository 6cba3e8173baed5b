"""Scanned materials at the window (材料扫描到窗口): the web console's store of the pages a kiosk
scanned for a ticket or a case (办件编号), who may see them, and the audit of every view.

Transport: the kiosk uploads a finished scan session over HTTP(S) to ``<public_url>api/scans/upload``
(a multipart form: the ticket code or the case number, the material code, the PDF and the page JPEGs;
the kiosk accepted the case number only once ``case.lookup`` found it). The pages are
files of megabytes, far above the bus's 256 KiB messages, and the web console already serves them to
the window's browser, so one upload straight to it is the simplest sound path. The kiosk signs in
with its own bus login (HTTP Basic: its client id and the password ``hallkit bus credentials`` made
for it); the console checks it against the same password hashes the broker checks
(``<[bus] credentials_dir>/passwd``) and accepts only a kiosk of hall.toml. A hall whose bus has no
logins (no ``credentials_dir``) takes no uploads: the pages stay on the kiosk under their material code.

Store: ``<data_dir>/window-scans/<hall>/<yyyymmdd>/<ticket>/<material code>/`` (the hall's day:
ticket codes start again every day) and ``<data_dir>/window-scans/<hall>/case/<case number>/<material
code>/`` (a case lasts beyond a day), both kept ``[scans] keep_days`` days (default 30) and then deleted
(:meth:`WindowScans.purge`, at start and after every upload).

Who may see them: a manager; for a ticket's scans the clerk whose session holds the window where that
ticket is the current one (called or being served) today; for a case's scans a clerk whose session
holds a window (the clerk types the case number from the citizen's receipt). Every page or PDF served
is one row of ``scan_views`` in the console's own ``web.db`` (who, which ticket and day or which case,
which file, when): no bus op is added. The table has no schema version (web.db keeps none): its
``case_no`` column, added for cases, is added to an older table in place, its rows kept.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from hall_bus.bus.credentials import PASSWORD_FILE, verify_password
from hall_bus.config import ConfigError, HallConfig, Section, checked, int_between
from hall_bus.contracts.cases import CASE_NO
from hall_bus.vocabulary import TICKET_CODE_PATTERN
from ui.web.i18n import strings

log = logging.getLogger(__name__)

ROOT = "window-scans"
DAY = re.compile(r"\d{8}")
TICKET = re.compile(TICKET_CODE_PATTERN)
CASE = re.compile(CASE_NO.replace("a-z", ""))  # as printed: upper case
CASES = "case"  # the folder of the cases' scans, beside the days'
MATERIAL = re.compile(r"[A-Z2-9]{8}")
FILE = re.compile(r"(document\.pdf|page-\d{3}\.jpg)")
MAX_FILES = 41  # 20 pages, their PDF (kiosk.scan_flow.MAX_PAGES)
MAX_BYTES = 40 * 1024 * 1024

strings(
    {
        "error.scan_upload_off": (
            "本厅总线未设置登录，扫描材料不上传。",
            "This hall's bus has no logins: scans are not uploaded.",
        ),
        "error.scan_login": ("自助终端的登录不正确。", "The kiosk's login is wrong."),
        "error.scan_files": ("扫描材料的文件不正确。", "The scanned files are not right."),
        "error.scan_not_yours": (
            "只有叫到该号的窗口或管理人员可以查看其材料。",
            "Only the window that called this ticket, or a manager, may see its materials.",
        ),
        "error.scan_case_not_yours": (
            "只有在窗口工作的人员或管理人员可以查看办件的扫描材料。",
            "Only a clerk at a window, or a manager, may see a case's scanned materials.",
        ),
    }
)


class ScansSection(Section):
    keep_days: Annotated[int, int_between(1, 3650)] = 30  # scanned pages are deleted after this many days


def keep_days(config: HallConfig) -> int:
    section = config.extra.get("scans", {})
    if not isinstance(section, dict):
        raise ConfigError(config.source, "scans", "must be a table")
    return int(checked(ScansSection, section, config.source, "scans").keep_days)


def hall_day(config: HallConfig, at: float) -> str:
    return dt.datetime.fromtimestamp(at, config.hours.tz).strftime("%Y%m%d")


@dataclass(frozen=True)
class ScanSet:
    """One kiosk scan session attached to a ticket (of ``day``) or to a case (``case_no``; its ``day`` the
    day it was saved, ``ticket`` empty)."""

    day: str
    ticket: str
    ref: str
    kiosk: str
    pages: tuple[str, ...]
    pdf: str
    saved_at: float
    case_no: str = ""

    def as_dict(self) -> dict[str, Any]:
        base = (
            f"/scanned/case/{self.case_no}/{self.ref}/"
            if self.case_no
            else f"/scans/{self.day}/{self.ticket}/{self.ref}/"
        )
        return {
            "ref": self.ref,
            "ticket": self.ticket,
            "case_no": self.case_no,
            "saved_at": self.saved_at,
            "pages": [base + p for p in self.pages],
            "pdf": base + self.pdf if self.pdf else "",
        }


class ScanRefused(Exception):
    def __init__(self, code: str, status: int) -> None:
        super().__init__(code)
        self.code, self.status = code, status


class WindowScans:
    """The console's scans, per hall, day and ticket or per case, with their retention and the views' audit."""

    def __init__(self, config: HallConfig, db: sqlite3.Connection, clock: Callable[[], float] = time.time) -> None:
        self.config, self.db, self.clock = config, db, clock
        self.root = Path(config.data_dir) / ROOT / config.hall_id
        self.keep_days = keep_days(config)
        self._lock = threading.Lock()
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS scan_views (id INTEGER PRIMARY KEY, at REAL NOT NULL, staff_no TEXT NOT NULL,"
            " window INTEGER, day TEXT NOT NULL, ticket TEXT NOT NULL, ref TEXT NOT NULL, file TEXT NOT NULL,"
            " case_no TEXT)"
        )
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(scan_views)")}
        if "case_no" not in columns:  # a web.db from before the cases' scans: its rows stay, for tickets
            self.db.execute("ALTER TABLE scan_views ADD COLUMN case_no TEXT")

    # ------------------------------------------------------------------ the kiosk's upload
    def check_kiosk(self, user: str, password: str) -> str:
        """The kiosk id of a valid kiosk login; :class:`ScanRefused` otherwise."""
        creds = self.config.bus.credentials_dir
        if not creds:
            raise ScanRefused("scan_upload_off", 403)
        if not any(k.id == user for k in self.config.kiosks):
            raise ScanRefused("scan_login", 401)
        try:
            lines = (Path(creds) / PASSWORD_FILE).read_text(encoding="utf-8").splitlines()
        except OSError:
            log.warning("scan upload: the bus password file in %s cannot be read", creds)
            raise ScanRefused("scan_upload_off", 403) from None
        hashed = next((ln.split(":", 1)[1] for ln in lines if ln.startswith(user + ":")), "")
        if not hashed or not verify_password(password, hashed):
            raise ScanRefused("scan_login", 401)
        return user

    def save(self, kiosk: str, ticket: str, ref: str, files: dict[str, bytes]) -> ScanSet:
        """Keep a kiosk's scan session for ``ticket`` of today (the hall's day)."""
        if not TICKET.fullmatch(ticket):
            raise ScanRefused("scan_files", 422)
        day = hall_day(self.config, self.clock())
        return self._keep(kiosk, ref, files, self.root / day / ticket / ref, {"ticket": ticket})

    def save_case(self, kiosk: str, case_no: str, ref: str, files: dict[str, bytes]) -> ScanSet:
        """Keep a kiosk's scan session for case ``case_no`` (upper case, as printed)."""
        if not CASE.fullmatch(case_no):
            raise ScanRefused("scan_files", 422)
        return self._keep(kiosk, ref, files, self.root / CASES / case_no / ref, {"ticket": "", "case_no": case_no})

    def _keep(self, kiosk: str, ref: str, files: dict[str, bytes], where: Path, about: dict[str, str]) -> ScanSet:
        if not MATERIAL.fullmatch(ref):
            raise ScanRefused("scan_files", 422)
        pages = sorted(n for n in files if n.endswith(".jpg"))
        if (
            not pages
            or len(files) > MAX_FILES
            or not all(FILE.fullmatch(n) for n in files)
            or sum(len(b) for b in files.values()) > MAX_BYTES
        ):
            raise ScanRefused("scan_files", 422)
        now = self.clock()
        day = hall_day(self.config, now)
        with self._lock:
            if where.exists():
                shutil.rmtree(where)
            where.mkdir(parents=True)
            for name, data in files.items():
                (where / name).write_bytes(data)
            meta = {"ref": ref, "kiosk": kiosk, **about, "day": day, "saved_at": now}
            (where / "session.json").write_text(json.dumps(meta), encoding="utf-8")
        self.purge()
        what = f"case {about['case_no']}" if about.get("case_no") else f"ticket {about['ticket']}"
        log.info("scan %s for %s (%s) from %s: %d page(s)", ref, what, day, kiosk, len(pages))
        return self._set(where)

    # ------------------------------------------------------------------ the window's view
    def of_ticket(self, ticket: str, day: str | None = None) -> list[ScanSet]:
        d = day or hall_day(self.config, self.clock())
        if not TICKET.fullmatch(ticket) or not DAY.fullmatch(d):
            return []
        return self._sets(self.root / d / ticket)

    def of_case(self, case_no: str) -> list[ScanSet]:
        return self._sets(self.root / CASES / case_no) if CASE.fullmatch(case_no) else []

    def _sets(self, folder: Path) -> list[ScanSet]:
        found = [self._set(p) for p in folder.iterdir() if (p / "session.json").is_file()] if folder.is_dir() else []
        return sorted(found, key=lambda s: s.saved_at)

    def file(self, day: str, ticket: str, ref: str, name: str) -> Path | None:
        if not (DAY.fullmatch(day) and TICKET.fullmatch(ticket) and MATERIAL.fullmatch(ref) and FILE.fullmatch(name)):
            return None
        path = self.root / day / ticket / ref / name
        return path if path.is_file() else None

    def case_file(self, case_no: str, ref: str, name: str) -> Path | None:
        if not (CASE.fullmatch(case_no) and MATERIAL.fullmatch(ref) and FILE.fullmatch(name)):
            return None
        path = self.root / CASES / case_no / ref / name
        return path if path.is_file() else None

    def audit(
        self, staff_no: str, window: int | None, day: str, ticket: str, ref: str, name: str, case_no: str = ""
    ) -> None:
        """One served file: of a ticket's scans (``day``, ``ticket``) or of a case's (``case_no``; day and
        ticket empty)."""
        with self._lock:
            self.db.execute(
                "INSERT INTO scan_views (at, staff_no, window, day, ticket, ref, file, case_no)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (self.clock(), staff_no, window, day, ticket, ref, name, case_no or None),
            )

    def views(self, ticket: str | None = None, case_no: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT at, staff_no, window, day, ticket, ref, file, case_no FROM scan_views"
        where, args = ("ticket=?", (ticket,)) if ticket else ("case_no=?", (case_no,)) if case_no else ("1", ())
        rows = self.db.execute(f"{sql} WHERE {where} ORDER BY id", args)
        keys = ("at", "staff_no", "window", "day", "ticket", "ref", "file", "case_no")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    # ------------------------------------------------------------------ retention
    def purge(self, now: float | None = None) -> int:
        """Delete the scan sessions saved more than ``keep_days`` ago; how many went."""
        limit = (self.clock() if now is None else now) - self.keep_days * 86400.0
        gone = 0
        with self._lock:
            for meta in self.root.glob("*/*/*/session.json"):
                try:
                    saved = float(json.loads(meta.read_text(encoding="utf-8"))["saved_at"])
                except (OSError, ValueError, KeyError):
                    saved = meta.stat().st_mtime
                if saved < limit:
                    shutil.rmtree(meta.parent, ignore_errors=True)
                    gone += 1
            for empty in sorted(self.root.glob("*/*"), reverse=True) + sorted(self.root.glob("*")):
                if empty.is_dir() and not any(empty.iterdir()):
                    empty.rmdir()
        if gone:
            log.info("window scans: %d session(s) past %d days deleted", gone, self.keep_days)
        return gone

    def _set(self, where: Path) -> ScanSet:
        meta = json.loads((where / "session.json").read_text(encoding="utf-8"))
        pages = tuple(sorted(p.name for p in where.glob("page-*.jpg")))
        pdf = "document.pdf" if (where / "document.pdf").is_file() else ""
        return ScanSet(
            meta["day"],
            meta["ticket"],
            meta["ref"],
            meta.get("kiosk", ""),
            pages,
            pdf,
            meta["saved_at"],
            meta.get("case_no", ""),
        )
