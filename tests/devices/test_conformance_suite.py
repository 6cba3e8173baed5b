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


def test_a_silent_device_fails_every_check() -> None:
    results = conformance.run("display", "sim://display?fault=no_reply=-1&line_rate=0")
    assert not any(r.passed for r in results)
    assert all("ReplyTimeout" in r.detail for r in results)


def test_unknown_kind() -> None:
    with pytest.raises(KeyError, match="no conformance checks"):
        conformance.run("toaster", "loop://")
