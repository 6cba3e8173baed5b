"""Simulators refuse what they do not know (issue 13, item 17): unknown options and faults are
errors that list the valid ones, in the registry, in a ``sim://`` URL and on ``hallkit sim``."""

from __future__ import annotations

import pytest

from drivers.errors import DeviceReported, TransportError
from drivers.idcard import IdCardDriver
from drivers.transport import open_transport
from simulators import registry
from simulators.base import FaultPlan


@pytest.mark.parametrize("kind", ["idcard", "locker", "pad", "caller", "display", "printer", "hallbus"])
def test_an_unknown_option_is_refused_with_the_valid_ones(kind: str) -> None:
    query = {"pad": "1"} if kind == "hallbus" else {}
    with pytest.raises(ValueError, match=rf"the {kind} simulator has no option nosuch \(valid: .*baud.*fault"):
        registry.create(kind, {**query, "nosuch": "1"})


def test_a_printer_has_no_card() -> None:
    with pytest.raises(
        ValueError, match=r"no option card \(valid: baud, chinese, fault, font, id, line_rate, model, out"
    ):
        registry.create("printer", {"card": "0"})


@pytest.mark.parametrize("fault", ["bogus", "paper_out", "jammed:1:2"])
def test_an_unknown_device_fault_is_refused_with_the_valid_ones(fault: str) -> None:
    with pytest.raises(ValueError, match=rf"unknown fault '{fault}' \(valid: delay=SECONDS, .*no_card.*read_fail"):
        registry.create("idcard", {"fault": fault})


def test_an_unknown_counted_fault_is_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown fault 'bogus=1' \(valid: .*paper_out"):
        registry.create("printer", {"fault": "bogus=1"})


def test_the_faults_a_kind_knows_are_taken() -> None:
    sim = registry.create("locker", {"fault": "jammed:1:3,board_offline:2,delay=0.1,split", "boards": "1,2"})
    assert sim.faults.delay_s == 0.1 and sim.faults.split and sim.faults.has("board_offline:2")
    assert FaultPlan.parse("anything").has("anything")  # without a kind's list, words are the caller's


def test_a_sim_url_with_a_typo_does_not_open() -> None:
    with pytest.raises(TransportError, match=r"sim://printer: the printer simulator has no option card"):
        open_transport("sim://printer?card=0", baudrate=115200, timeout=0.2)


def test_hallbus_options_of_a_device_need_the_device_and_are_checked_by_it() -> None:
    with pytest.raises(ValueError, match=r"pad.press: give the pad's address too"):
        registry.create("hallbus", {"caller": "1", "pad.press": "2"})
    with pytest.raises(ValueError, match=r"the pad simulator has no option nosuch"):
        registry.create("hallbus", {"pad": "1", "pad.nosuch": "2"})
    with pytest.raises(ValueError, match=r"lamp.x: no device kind 'lamp'"):
        registry.create("hallbus", {"pad": "1", "lamp.x": "2"})
    sim = registry.create("hallbus", {"pad": "3", "pad.press": "2", "display": "2"})
    assert sorted(sim.children) == ["display", "pad"]


def test_read_fail_with_a_card_fails_every_read_and_read_fail_n_only_n() -> None:
    def read(fault: str) -> str:
        port = open_transport(f"sim://idcard?card=0&line_rate=0&fault={fault}", baudrate=115200, timeout=0.5)
        try:
            return IdCardDriver(port, retries=2).read_card().masked_id
        except DeviceReported as exc:
            return f"error {exc.code:02X}"
        finally:
            port.close()

    assert read("read_fail") == "error 41"  # a card the reader cannot read, whatever the retries
    assert read("read_fail:2") == "1101**********103X"  # the third attempt reads it
    assert read("read_fail:3") == "error 41"
