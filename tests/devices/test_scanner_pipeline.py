"""The document camera pipeline on generated desk frames with known page corners."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from devices.config import DeviceConfig
from devices.scanner import pipeline
from devices.scanner.autocapture import AutoCapture
from devices.scanner.decode import decode_image
from devices.scanner.device import DocumentScanner
from devices.scanner.session import ScanSession
from simulators.desk_scene import DeskScene, page_qr_text
from simulators.scanner_stream import MjpegStream


@pytest.mark.parametrize(("size", "seed"), [((1296, 972), 1), ((1296, 972), 2), ((2592, 1944), 3), ((1600, 1200), 4)])
def test_corner_error_under_one_percent_of_the_diagonal(size, seed) -> None:
    scene = DeskScene(*size, seed=seed)
    for t in (1.5, 5.5, 9.0):
        frame = scene.frame_at(t)
        assert frame.phase == "still"
        det = pipeline.detect(frame.image)
        assert det is not None
        diag = np.linalg.norm(frame.corners[2] - frame.corners[0])
        err = np.linalg.norm(det.corners - frame.corners, axis=1).max() / diag
        assert err < 0.01, f"corner error {err:.4f} of the diagonal at t={t}"


def test_no_page_no_detection() -> None:
    scene = DeskScene(1296, 972, seed=1, script="away:1")
    assert pipeline.detect(scene.frame_at(0.2).image) is None


def test_warped_page_is_upright_a4_and_its_qr_decodes() -> None:
    scene = DeskScene(1600, 1200, seed=5)
    frame = scene.frame_at(2.0)
    page, det = pipeline.process(frame.image)
    h, w = page.shape[:2]
    assert abs(h / w - 297 / 210) < 0.02
    found = decode_image(page)
    assert [d.text for d in found] == [page_qr_text(frame.page_index)]
    assert found[0].decoder in ("zxing-cpp", "pyzbar")
    white = pipeline.whiten(page)
    assert np.median(white) > np.median(page)  # the paper turned whiter


def run_autocapture(scene: DeskScene, seconds: float, still_s: float = 0.8) -> list:
    auto = AutoCapture(still_s=still_s)
    fired = []
    for _ in range(int(seconds * scene.fps)):
        frame = scene.read()
        det = pipeline.detect(frame.image, refine=False)
        if auto.update(None if det is None else det.corners, frame.t):
            fired.append(frame)
    return fired


def test_autocapture_fires_once_per_still_page_and_never_in_motion() -> None:
    scene = DeskScene(
        960, 720, fps=10, seed=7, script="move:1.0,still:2.0,move:1.0,still:2.5,away:1.0,move:1.0,still:2.0", loop=False
    )
    fired = run_autocapture(scene, 10.5)
    assert [f.phase for f in fired] == ["still", "still", "still"]
    assert [f.page_index for f in fired] == [0, 1, 2]


def test_autocapture_never_fires_while_the_hand_keeps_moving() -> None:
    scene = DeskScene(960, 720, fps=10, seed=8, script="move:6.0", loop=False)
    assert run_autocapture(scene, 5.5) == []


def test_session_writes_pdf_and_jpegs(tmp_path: Path) -> None:
    dev = DocumentScanner(
        DeviceConfig(
            id="kiosk-1-scanner",
            kind="scanner",
            url="sim://scanner?width=1296&height=972&fps=10",
            profile="generic-5mp",
        ),
        realtime=False,
    ).open()
    try:
        result = dev.scan(ScanSession(tmp_path, ref="ticket:A001"), pages=2, still_s=0.8, timeout_s=30)
    finally:
        dev.close()
    assert result is not None and len(result.pages) == 2
    assert result.pdf.read_bytes().startswith(b"%PDF")
    assert all(cv2.imread(str(p)) is not None for p in result.pages)
    assert result.codes == (page_qr_text(0), page_qr_text(1))
    assert result.reference() == {
        "session_id": result.session_id,
        "ref": "ticket:A001",
        "pages": 2,
        "pdf": "document.pdf",
    }


def test_retake_replaces_a_page(tmp_path: Path) -> None:
    s = ScanSession(tmp_path)
    blank = np.full((200, 150, 3), 255, np.uint8)
    s.add(blank)
    first = s.pages[0].path
    s.retake(1, blank)
    assert not first.exists() and s.pages[0].path.exists()
    with pytest.raises(IndexError):
        s.retake(3, blank)


def test_video_capture_opens_the_simulated_stream() -> None:
    stream = MjpegStream(DeskScene(800, 600, fps=15, seed=2)).start()
    try:
        dev = DocumentScanner(DeviceConfig(id="cam", kind="scanner", url=stream.url, profile="generic-5mp")).open()
        frame = dev.frame()
        assert frame.shape == (600, 800, 3)
        dev.close()
    finally:
        stream.stop()


def test_scan_commands(tmp_path: Path) -> None:
    frame = DeskScene(1296, 972, seed=9).frame_at(2.0)
    img = tmp_path / "desk.jpg"
    cv2.imwrite(str(img), frame.image)
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((100, 100), 255, np.uint8))
    out = subprocess.run(
        [sys.executable, "-m", "hall_bus.cli.main", "scan", "decode", str(img), str(blank)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = out.stdout.splitlines()
    assert page_qr_text(frame.page_index) in lines[0] and lines[1].endswith("NONE")
    crop = tmp_path / "page.jpg"
    out = subprocess.run(
        [sys.executable, "-m", "hall_bus.cli.main", "scan", "crop", str(img), "-o", str(crop)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert cv2.imread(str(crop)).shape[0] > 600
