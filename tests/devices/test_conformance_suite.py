"""`hallkit conformance`: every kind passes against its simulator, and a failure shows the bytes."""

from __future__ import annotations

import pytest

from devices.conformance import suite as conformance
from hall_bus.cli.main import main

URLS = {
    "idcard": "sim://idcard?card=0",
    "locker": "sim://locker?boards=1,2",
    "pad": "sim://pad",
    "caller": "sim://caller",
    "display": "sim://display",
    "printer": "sim://printer",
}


@pytest.mark.parametrize("kind", sorted(URLS))
def test_every_kind_passes_against_its_simulator(kind: str) -> None:
    results = conformance.run(kind, URLS[kind] + ("&" if "?" in URLS[kind] else "?") + "line_rate=0")
    assert results and all(r.passed for r in results), [(r.name, r.detail) for r in results if not r.passed]


def test_a_failure_reports_the_bytes_exchanged(capsys) -> None:
    rc = main(["conformance", "idcard", "--url", "sim://idcard?card=none&line_rate=0"])
    out = capsys.readouterr().out
    assert rc == 1
    assert "FAIL  find, select and read a card" in out and "no card found" in out
    assert "-> aa aa aa 96 69" in out and "<- aa aa aa 96 69" in out


def test_a_silent_device_fails_the_first_check_and_the_others_are_not_run() -> None:
    results = conformance.run("display", "sim://display?fault=no_reply=-1&line_rate=0")
    assert not any(r.passed for r in results)
    first, rest = results[0], results[1:]
    assert first.ran and "does not answer as a display" in first.detail and "ReplyTimeout" in first.detail
    assert "check the RS485 address (--address), the baud rate (--baud) and the A/B wiring" in first.detail
    assert rest and not any(r.ran for r in rest)


def test_another_kind_of_device_is_told_apart_after_one_check(capsys) -> None:
    # a pad's checks against an ID card reader: one heartbeat (three tries), not six checks of timeouts
    rc = main(["conformance", "pad", "--url", "sim://idcard?line_rate=0"])
    out = capsys.readouterr().out
    assert rc == 1
    assert "sim://idcard?line_rate=0 does not answer as a pad" in out
    assert out.count("FAIL") == 1 and out.count("SKIP") == 5 and "5 not run" in out


def test_a_device_that_answers_with_an_error_code_still_gets_every_check() -> None:
    results = conformance.run("printer", "sim://printer?line_rate=0&fault=paper_out")
    assert all(r.ran for r in results)
    failed = [r for r in results if not r.passed]
    assert [r.name for r in failed] == ["ready to print: paper loaded, cover closed, online"]
    assert "paper out: load a roll" in failed[0].detail and "-> 10 04 04" in failed[0].transcript


@pytest.mark.parametrize(
    ("fault", "message"),
    [("cover_open", "the cover is open"), ("offline", "the printer is offline")],
)
def test_printer_conformance_reports_the_paper_path_faults(fault: str, message: str) -> None:
    results = conformance.run("printer", f"sim://printer?line_rate=0&fault={fault}")
    assert [r.detail for r in results if not r.passed] == [
        message + (": close it" if fault == "cover_open" else ": check for a paper jam or an error light")
    ]


def test_printer_conformance_covers_status_queries_code_page_qr_and_cut() -> None:
    names = [r.name for r in conformance.run("printer", "sim://printer?line_rate=0")]
    for word in ("DLE EOT 1, 2, 3 and 4", "GS r 1", "GS I", "code page 1252", "QR", "cut", "paper loaded"):
        assert any(word in n for n in names), word
    assert len(names) == 7


def test_unknown_kind() -> None:
    with pytest.raises(KeyError, match="no conformance checks"):
        conformance.run("toaster", "loop://")
