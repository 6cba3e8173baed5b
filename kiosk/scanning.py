"""The document camera (``devices.scanner.device.DocumentScanner``) as the kiosk flows use it.

:class:`KioskScanner` implements :class:`kiosk.ports.ScannerPort` on the scanner pipeline:

* ``capture_page(timeout)``: frames until auto-capture fires (the page lay still), then the
  perspective-corrected, deskewed page; a small PNG preview for the screen;
* ``read_code(timeout)``: frames until a QR/barcode decodes (居民码, appointment QR);
* ``save_pages(pages)``: a scanning session (PDF plus per-page JPEGs) in the kiosk's :class:`ScanStore`;
  it answers the session's short material code (材料编号) the citizen shows at the window, never the
  images.

The store is a configured place with a retention (材料保存期限): the scanner device's options in
hall.toml, ``options = { store = "/var/lib/hallkit/scans", retention_days = 30 }`` (``store`` absolute,
``~``-relative, or relative to the hall's ``data_dir``; by default ``<data_dir>/scans`` for 30 days).
Sessions older than the retention are deleted when the kiosk starts and after every save; staff find a
citizen's scans by the material code (:meth:`ScanStore.find`).

A session attached to a ticket or a case (办件编号) goes to the window (:meth:`KioskScanner.send`): a
:class:`ScanUploader` posts its PDF and page JPEGs, with the ticket or the case number, to the web console (``<[web] public_url>api/scans/upload``), signed in
with the kiosk's own bus login (HTTP Basic; ``ui/web/scans.py`` explains the choice). A hall whose bus
has no logins has no uploader: the pages stay here under their material code.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hall_bus.bus.credentials import CredentialsError, read_password
from hall_bus.config import HallConfig
from hall_bus.controller.ticket_link import public_url
from kiosk.ports import ScannedPage

log = logging.getLogger(__name__)

PREVIEW_WIDTH = 720
DEFAULT_RETENTION_DAYS = 30.0
CODE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud and typed by staff
CODE_LEN = 8


@dataclass(frozen=True)
class ScanStore:
    """Where a kiosk keeps its scanned materials, and for how many days."""

    root: Path
    retention_days: float = DEFAULT_RETENTION_DAYS

    @classmethod
    def configured(cls, options: Mapping[str, Any], data_dir: str | Path) -> ScanStore:
        """The store the scanner device's ``options`` name (``store``, ``retention_days``; the device's own
        options beside them are the device's business), else the default."""
        where = Path(str(options.get("store") or "scans")).expanduser()
        days = options.get("retention_days", DEFAULT_RETENTION_DAYS)
        if isinstance(days, bool) or not isinstance(days, int | float) or not 0 < days <= 3650:
            raise ValueError(f"scanner options: retention_days must be 1..3650 days, got {days!r}")
        return cls(where if where.is_absolute() else Path(data_dir) / where, float(days))

    @property
    def retention_s(self) -> float:
        return self.retention_days * 86400.0

    def new_code(self) -> str:
        while True:
            code = "".join(secrets.choice(CODE_CHARS) for _ in range(CODE_LEN))
            if self.find(code) is None:
                return code

    def sessions(self) -> list[Path]:
        """The saved sessions (folders with a session.json), oldest first."""
        if not self.root.is_dir():
            return []
        found = [d for d in self.root.iterdir() if (d / "session.json").is_file()]
        return sorted(found, key=lambda d: (d / "session.json").stat().st_mtime)

    def find(self, code: str) -> Path | None:
        """The session folder of material code ``code`` (staff look a citizen's scans up by it)."""
        for d in self.sessions():
            try:
                if json.loads((d / "session.json").read_text(encoding="utf-8")).get("ref") == code:
                    return d
            except (OSError, ValueError):
                continue
        return None

    def purge(self, now: float | None = None) -> int:
        """Delete the sessions older than the retention; how many went."""
        limit = (time.time() if now is None else now) - self.retention_s
        gone = 0
        for d in self.sessions():
            if (d / "session.json").stat().st_mtime < limit:
                shutil.rmtree(d, ignore_errors=True)
                gone += 1
        if gone:
            log.info("scan store %s: %d session(s) past %g days deleted", self.root, gone, self.retention_days)
        return gone


@dataclass(frozen=True)
class ScanUploader:
    """Sends a saved scan session, attached to a ticket or a case, to the web console."""

    url: str  # <public_url>api/scans/upload
    kiosk_id: str
    password: str
    timeout_s: float = 30.0

    @classmethod
    def configured(cls, config: HallConfig, kiosk_id: str) -> ScanUploader | None:
        """The uploader of kiosk ``kiosk_id`` (its bus login), or None on a hall whose bus has no logins."""
        if not config.bus.credentials_dir:
            return None
        try:
            password = read_password(config.bus.credentials_dir, kiosk_id)
        except CredentialsError as exc:
            log.warning("scans stay on the kiosk: %s", exc)
            return None
        return cls(public_url(config) + "api/scans/upload", kiosk_id, password)

    def send(self, folder: Path, ref: str, ticket: str = "", case_no: str = "") -> bool:
        """Upload ``folder`` (a ScanSession's, material code ``ref``) for ``ticket`` or for case ``case_no``;
        whether the console took it."""
        files = [p for p in sorted(folder.iterdir()) if p.name == "document.pdf" or p.name.startswith("page-")]
        fields = {"case": case_no, "ref": ref} if case_no else {"ticket": ticket, "ref": ref}
        body, kind = _multipart(fields, files)
        what = f"case {case_no}" if case_no else f"ticket {ticket}"
        login = base64.b64encode(f"{self.kiosk_id}:{self.password}".encode()).decode("ascii")
        request = urllib.request.Request(
            self.url, data=body, method="POST", headers={"Content-Type": kind, "Authorization": f"Basic {login}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
                return bool(json.loads(answer.read().decode("utf-8")).get("ok"))
        except urllib.error.HTTPError as exc:
            log.warning("scan %s for %s refused by the console: %s %s", ref, what, exc.code, exc.read()[:200])
        except (OSError, ValueError) as exc:
            log.warning("scan %s for %s not sent: %s", ref, what, exc)
        return False


def _multipart(fields: dict[str, str], files: list[Path]) -> tuple[bytes, str]:
    boundary = "hallkit-" + secrets.token_hex(12)
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for path in files:
        kind = "application/pdf" if path.suffix == ".pdf" else "image/jpeg"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
            f"Content-Type: {kind}\r\n\r\n"
        )
        parts.append(head.encode() + path.read_bytes() + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class KioskScanner:
    def __init__(
        self,
        device: Any,
        store: ScanStore | str | Path,
        still_s: float = 1.0,
        uploader: ScanUploader | None = None,
    ) -> None:
        self.device = device
        self.uploader = uploader
        self.store = store if isinstance(store, ScanStore) else ScanStore(Path(store))
        self.out_dir = self.store.root
        self.still_s = still_s
        self.should_stop: Callable[[], bool] = lambda: False

    @property
    def state(self) -> Any:
        return getattr(self.device, "state", None)

    def capture_page(self, timeout: float) -> ScannedPage | None:
        from devices.scanner import pipeline
        from devices.scanner.autocapture import AutoCapture

        auto = AutoCapture(still_s=self.still_s)
        deadline = time.monotonic() + timeout
        t0 = time.monotonic()
        while time.monotonic() < deadline and not self.should_stop():
            frame = self.device.frame()
            det = pipeline.detect(frame, refine=False)
            source = getattr(self.device, "source", None)
            t = getattr(getattr(source, "last", None), "t", time.monotonic() - t0)
            if auto.update(None if det is None else det.corners, t):
                full = pipeline.detect(frame)
                if full is None:
                    continue
                page, _ = pipeline.deskew(pipeline.warp(frame, full.corners))
                return ScannedPage(
                    preview_png=_preview_png(page), width=int(page.shape[1]), height=int(page.shape[0]), handle=page
                )
        return None

    def read_code(self, timeout: float) -> str | None:
        from devices.scanner.decode import decode_image

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.should_stop():
            codes = decode_image(self.device.frame())
            if codes:
                return codes[0].text
        return None

    @property
    def retention_days(self) -> float:
        return self.store.retention_days

    def save_pages(self, pages: list[ScannedPage]) -> str:
        """Save ``pages`` as one session in the store; its material code (also its ``ref`` in session.json)."""
        from devices.scanner.session import ScanSession

        self.store.purge()
        code = self.store.new_code()
        session = ScanSession(self.out_dir, ref=code)
        for p in pages:
            session.add(p.handle)
        session.finish()
        return code

    def send(self, code: str, ticket: str = "", case_no: str = "") -> bool:
        """Send the saved session ``code`` to the window for ``ticket`` or case ``case_no``; False when it
        stays here only."""
        folder = self.store.find(code)
        if self.uploader is None or folder is None:
            return False
        return self.uploader.send(folder, code, ticket=ticket, case_no=case_no)

    def close(self) -> None:
        self.device.close()


def _preview_png(page: Any) -> bytes:
    import cv2

    h, w = page.shape[:2]
    scale = min(1.0, PREVIEW_WIDTH / float(w))
    small = cv2.resize(page, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".png", small)
    if not ok:
        raise ValueError("the page preview could not be encoded")
    return buf.tobytes()


def kiosk_devices(
    devices: dict[str, Any], data_dir: str | Path, uploader: ScanUploader | None = None
) -> dict[str, Any]:
    """Wrap a raw document-camera device in a KioskScanner on its configured :class:`ScanStore` (other
    devices pass through), sending to the window through ``uploader``; scans past their retention are
    deleted now."""
    out = dict(devices)
    scanner = out.get("scanner")
    if scanner is not None and not hasattr(scanner, "capture_page"):
        options = getattr(getattr(scanner, "config", None), "options", None) or {}
        store = ScanStore.configured(options, data_dir)
        store.purge()
        out["scanner"] = KioskScanner(scanner, store, uploader=uploader)
    return out
