"""``hallkit sim``: every kind listed and served (the scanner as an MJPEG stream), typos refused
with the valid options and faults (issue 13, item 17)."""

from __future__ import annotations

import subprocess
import sys
import urllib.request

import pytest

from hall_bus.cli.main import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_help_lists_every_kind(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["sim", "--help"])
    out = capsys.readouterr().out.replace("\n", " ")
    for kind in ("idcard", "locker", "pad", "caller", "display", "printer", "hallbus", "scanner"):
        assert kind in out, kind


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["printer", "--fault", "bogus"], "unknown fault 'bogus' (valid: delay=SECONDS"),
        (["printer", "--opt", "nosuch=1"], "the printer simulator has no option nosuch (valid: baud, chinese"),
        (["idcard", "--out", "x"], "the idcard simulator has no option out"),
        (["toaster"], "no simulator of kind 'toaster' (kinds: idcard, locker, pad, caller, display, printer, hallbus"),
        (["scanner", "--opt", "zoom=2"], "the scanner simulator has no option zoom (valid: width, height"),
        (["scanner", "--fault", "no_reply=1"], "the scanner is a camera stream"),
    ],
)
def test_typos_are_refused_with_what_is_valid(capsys, argv: list[str], message: str) -> None:
    rc, _, err = run(capsys, "sim", *argv)
    assert rc == 2 and message in err


def test_options_lists_a_kinds_options_and_faults(capsys) -> None:
    rc, out, _ = run(capsys, "sim", "printer", "--options")
    assert rc == 0
    assert "  out: directory for one PNG per printed page" in out
    assert "paper_out_after (paper_out_after:N" in out and "no_reply=N" in out
    rc, out, _ = run(capsys, "sim", "hallbus", "--options")
    assert rc == 0 and "pad.OPTION" in out


def test_sim_scanner_serves_the_desk_scene_as_mjpeg() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hall_bus.cli.main",
            "sim",
            "scanner",
            "--tcp",
            "0",
            "--opt",
            "width=640",
            "--opt",
            "height=480",
            "--opt",
            "fps=5",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/stream.mjpg"), proc.stderr.read()
        with urllib.request.urlopen(url, timeout=10) as stream:
            head = stream.read(200)
        assert head.startswith(b"--hallkitframe\r\nContent-Type: image/jpeg") and b"\xff\xd8" in head
    finally:
        proc.terminate()
        proc.wait(10)
