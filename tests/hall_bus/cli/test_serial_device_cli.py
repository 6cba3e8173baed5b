"""hallkit device idcard read / locker open|status, against simulators by URL (sim:// and a pty)."""

from __future__ import annotations

import json

from hall_bus.cli.main import main
from simulators.base import serve_pty
from simulators.idcard import IdCardSimulator


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_idcard_read_json_is_masked(capsys) -> None:
    rc, out, _ = run(capsys, "device", "idcard", "read", "--url", "sim://idcard?card=0", "--json")
    assert rc == 0
    data = json.loads(out)
    assert data == {
        "card_type": "resident",
        "id_masked": "1101**********103X",
        "name": "张**",
        "sex": "male",
        "nation": "汉族",
        "birth": "1948-03-12",
        "valid_from": "2008-05-20",
        "valid_to": None,
        "checksum_ok": True,
    }
    assert "11010119480312103X" not in out


def test_idcard_read_reveal_over_a_pty(capsys) -> None:
    served = serve_pty(IdCardSimulator({"card": "5"}))
    try:
        rc, out, _ = run(capsys, "device", "idcard", "read", "--url", served.url, "--reveal")
    finally:
        served.stop()
    assert rc == 0
    assert "史约翰" in out and "USA310176040115" in out and "card type: I" in out
    assert "n/a" in out  # the old 15-character number has no public check rule


def test_idcard_read_without_card_and_with_a_dead_url(capsys) -> None:
    rc, _, err = run(capsys, "device", "idcard", "read", "--url", "sim://idcard", "--wait", "0.1")
    assert rc == 2 and "no card" in err
    rc, _, err = run(capsys, "device", "idcard", "read", "--url", "socket://127.0.0.1:9")
    assert rc == 1 and err.startswith("hallkit device idcard read:") and err.count("\n") == 1


def test_locker_open_and_status(capsys) -> None:
    rc, out, _ = run(
        capsys,
        "device",
        "locker",
        "open",
        "--url",
        "sim://locker?boards=1,2&fire_ms=20",
        "--board",
        "2",
        "--lock",
        "7",
        "--json",
    )
    assert rc == 0 and json.loads(out) == {"board": 2, "lock": 7, "door": "open"}
    rc, out, _ = run(
        capsys,
        "device",
        "locker",
        "open",
        "--url",
        "sim://locker?fire_ms=20&fault=jammed:1:2",
        "--board",
        "1",
        "--lock",
        "2",
    )
    assert rc == 3 and "still closed" in out
    rc, out, _ = run(capsys, "device", "locker", "status", "--url", "sim://locker?boards=1", "--board", "1")
    assert rc == 0 and out.count("closed") == 24 and "board 1 lock 24: closed" in out
    rc, out, _ = run(
        capsys, "device", "locker", "status", "--url", "sim://locker?boards=1", "--board", "1", "--lock", "3", "--json"
    )
    assert rc == 0 and json.loads(out) == {"board": 1, "doors": {"3": "closed"}}


def test_locker_errors_are_one_line(capsys) -> None:
    rc, _, err = run(capsys, "device", "locker", "status", "--url", "sim://locker?boards=1", "--board", "3")
    assert rc == 1 and "lock board 3: no complete reply" in err and err.count("\n") == 1
    rc, _, err = run(capsys, "device", "locker", "status", "--url", "sim://locker", "--board", "1", "--profile", "nope")
    assert rc == 1 and "no locker profile 'nope'" in err
