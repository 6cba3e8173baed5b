"""Technician tools (issue 13, item 18): a command that worked says what it did, and a device that
does not answer is reported with its likely cause (address, baud rate, wiring)."""

from __future__ import annotations

from hall_bus.cli.main import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_display_show_confirms_what_the_display_shows(capsys) -> None:
    rc, out, _ = run(capsys, "device", "display", "show", "--url", "sim://display?line_rate=0", "请A012号", "到3号窗口")
    assert rc == 0 and out == "display at address 1 shows (center): 请A012号 | 到3号窗口\n"
    rc, out, _ = run(capsys, "device", "display", "clear", "--url", "sim://display?line_rate=0")
    assert rc == 0 and out == "display at address 1 cleared\n"


def test_caller_and_pad_show_confirm(capsys) -> None:
    rc, out, _ = run(capsys, "device", "caller", "show", "--url", "sim://caller?line_rate=0", "A012 办理中")
    assert rc == 0 and out == "keypad at address 1 shows: A012 办理中\n"
    argv = ["--window", "3", "--staff-no", "S0107", "--name", "王芳"]
    rc, out, _ = run(capsys, "device", "pad", "show", "--url", "sim://pad?line_rate=0", *argv)
    assert rc == 0 and out == "pad at address 1 shows window 3, staff S0107 王芳\n"


def test_a_display_at_another_address_is_told_to_check_address_baud_and_wiring(capsys) -> None:
    rc, _, err = run(capsys, "device", "display", "show", "--url", "sim://display?line_rate=0", "--address", "5", "x")
    assert rc != 0
    assert "no reply to command" in err and "at address 5" in err
    assert "check the RS485 address (--address), the baud rate (--baud) and the A/B wiring" in err


def test_a_display_at_another_baud_rate_is_told_so(capsys) -> None:
    url = "sim://display?baud=19200"  # the device runs at 19200, the tool at its default 9600
    rc, _, err = run(capsys, "device", "display", "show", "--url", url, "x")
    assert rc != 0 and "the baud rate (--baud)" in err
    rc, out, _ = run(capsys, "device", "display", "show", "--url", url, "--baud", "19200", "x")
    assert rc == 0 and "shows" in out


def test_a_silent_lock_board_names_its_address_switches(capsys) -> None:
    url = "sim://locker?boards=1&fire_ms=20"
    rc, _, err = run(capsys, "device", "locker", "status", "--url", url, "--board", "4")
    assert rc != 0
    assert "lock board 4: no complete reply" in err
    assert "check the board address (--board; the DIP switches), the baud rate (--baud) and the A/B wiring" in err


def test_an_id_card_reader_at_another_baud_rate(capsys) -> None:
    url = "sim://idcard?card=0"  # the reader runs at 115200, as a SAM reader does
    rc, _, err = run(capsys, "device", "idcard", "read", "--url", url, "--baud", "9600")
    assert rc != 0 and "no complete reply" in err and "the baud rate (--baud)" in err
    rc, out, _ = run(capsys, "device", "idcard", "read", "--url", url)
    assert rc == 0 and "1101**********103X" in out
