"""A multi-page scanning session: pages captured, retaken, and finished as a PDF plus per-page JPEGs.

The session belongs to a citizen's ticket or case by reference (``ref``): the files stay on the
kiosk (or a document store), and only the session id, page count and file names travel on.
Images are never published on the bus.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import img2pdf
import numpy as np

from devices.scanner.decode import Decoded, decode_image
from devices.scanner.pipeline import encode_jpeg


@dataclass
class ScannedPage:
    path: Path
    codes: list[Decoded] = field(default_factory=list)


@dataclass(frozen=True)
class SessionResult:
    session_id: str
    ref: str
    pdf: Path
    pages: tuple[Path, ...]
    codes: tuple[str, ...]

    def reference(self) -> dict[str, Any]:
        """What may leave the kiosk: ids, counts and file names, no images."""
        return {"session_id": self.session_id, "ref": self.ref, "pages": len(self.pages), "pdf": self.pdf.name}


class ScanSession:
    def __init__(self, out_dir: str | Path, ref: str = "", quality: int = 90) -> None:
        self.session_id = f"scan-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        self.dir = Path(out_dir) / self.session_id
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ref = ref
        self.quality = quality
        self.pages: list[ScannedPage] = []
        self._serial = 0

    def _write(self, img: np.ndarray) -> ScannedPage:
        self._serial += 1
        path = self.dir / f"page-{self._serial:03d}.jpg"
        path.write_bytes(encode_jpeg(img, self.quality))
        return ScannedPage(path, decode_image(img))

    def add(self, img: np.ndarray) -> int:
        self.pages.append(self._write(img))
        return len(self.pages)

    def retake(self, number: int, img: np.ndarray) -> None:
        """Replace page ``number`` (1-based)."""
        if not 1 <= number <= len(self.pages):
            raise IndexError(f"no page {number} (the session has {len(self.pages)})")
        old = self.pages[number - 1]
        self.pages[number - 1] = self._write(img)
        old.path.unlink(missing_ok=True)

    def remove(self, number: int) -> None:
        page = self.pages.pop(number - 1)
        page.path.unlink(missing_ok=True)

    def finish(self) -> SessionResult:
        if not self.pages:
            raise ValueError("no pages scanned")
        pdf = self.dir / "document.pdf"
        pdf.write_bytes(img2pdf.convert([str(p.path) for p in self.pages]))
        codes = tuple(c.text for p in self.pages for c in p.codes)
        result = SessionResult(self.session_id, self.ref, pdf, tuple(p.path for p in self.pages), codes)
        (self.dir / "session.json").write_text(
            json.dumps(
                {**result.reference(), "files": [p.name for p in result.pages], "codes": list(codes)},
                ensure_ascii=False,
                indent=2,
            )
        )
        return result
