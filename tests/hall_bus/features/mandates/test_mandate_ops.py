"""帮办代办 over the real broker: a mandate is recorded, moved in its order of states to the end, every
move audited with its actor; moves out of order are refused with their own codes; the ledger filters;
the follow link is signed; the roles table keeps kiosks and displays out."""

from __future__ import annotations

import json

import pytest

from hall_bus.bus.client import RequestFailed
from hall_bus.features.mandates import link
from tests.hall_bus.features.mandates.conftest import TOKEN, new_mandate, promised


def refused(code: str, fn) -> None:
    with pytest.raises(RequestFailed) as exc:
        fn()
    assert exc.value.code == code, exc.value


def move(client, no: str, state: str, note: str | None = None, actor: str = "S0102") -> dict:
    data = {"mandate_no": no, "state": state, "actor": actor, **({"note": note} if note is not None else {})}
    answer: dict = client.request("mandate.update", data, timeout=5)["mandate"]
    return answer


def test_a_mandate_goes_from_received_to_done_and_every_step_is_audited(mandate_hall, bus_factory) -> None:
    ctl = mandate_hall
    web = bus_factory("web")
    m = new_mandate(web, ctl)
    day = ctl.engine.local().strftime("%Y%m%d")
    assert m["mandate_no"] == f"DB-{day}-0001" and m["state"] == "received" and m["state_zh"] == "已受理"
    assert (m["agent"], m["agent_name"], m["service_name"]) == ("S0102", "李强", "养老保险关系转移")
    assert m["materials"] == ["身份证复印件", "参保缴费凭证（原件）"] and not m["overdue"]
    assert new_mandate(web, ctl)["mandate_no"] == f"DB-{day}-0002"
    move(web, m["mandate_no"], "processing")
    esc = move(web, m["mandate_no"], "escalated", "报市社保局审核", actor="M0001")
    assert esc["note"] == "报市社保局审核"
    done = move(bus_factory("window-2"), m["mandate_no"], "done", actor="S0102")
    assert [s["state"] for s in done["history"]] == ["received", "processing", "escalated", "done"]
    assert [s["actor"] for s in done["history"]] == ["web/S0102", "web/S0102", "web/M0001", "window-2/S0102"]
    audit = [
        (r["actor"], r["action"], json.loads(r["detail"]))
        for r in ctl.store.db.execute("SELECT * FROM audit WHERE target=? ORDER BY id", (f"mandate {m['mandate_no']}",))
    ]
    assert [a[:2] for a in audit] == [
        ("web/S0102", "mandate.create"),
        ("web/S0102", "mandate.update"),
        ("web/M0001", "mandate.update"),
        ("window-2/S0102", "mandate.update"),
    ]
    assert audit[2][2] == {"from": "processing", "state": "escalated", "note": "报市社保局审核"}
    # the integrator reads it; the token is there, no name or ID number anywhere
    got = bus_factory("integrator").request("mandate.get", {"mandate_no": m["mandate_no"]})["mandate"]
    assert got["state"] == "done" and got["identity_token"] == TOKEN


def test_moves_out_of_order_are_refused_with_their_codes_and_change_nothing(mandate_hall, bus_factory) -> None:
    ctl = mandate_hall
    web = bus_factory("manager")
    no = new_mandate(web, ctl)["mandate_no"]
    refused("mandate_order", lambda: move(web, no, "done"))  # received -> done skips processing
    refused("mandate_order", lambda: move(web, no, "escalated", "x"))
    refused("mandate_order", lambda: move(web, no, "received"))
    move(web, no, "processing")
    refused("escalation_note", lambda: move(web, no, "escalated"))
    refused("escalation_note", lambda: move(web, no, "escalated", "   "))
    move(web, no, "returned", "材料不全，已退回")
    refused("mandate_closed", lambda: move(web, no, "processing"))
    refused("mandate_closed", lambda: move(web, no, "done"))
    got = web.request("mandate.get", {"mandate_no": no})["mandate"]
    assert [s["state"] for s in got["history"]] == ["received", "processing", "returned"]
    assert ctl.store.db.execute("SELECT COUNT(*) FROM audit WHERE target=?", (f"mandate {no}",)).fetchone()[0] == 3
    refused("not_found", lambda: move(web, "DB-20200101-0001", "processing"))
    refused("not_found", lambda: web.request("mandate.get", {"mandate_no": "DB-20200101-0001"}))


def test_create_refuses_what_it_cannot_record(mandate_hall, bus_factory) -> None:
    ctl = mandate_hall
    web = bus_factory("web")
    refused("unknown_agent", lambda: new_mandate(web, ctl, agent="S9999"))
    refused("promised_past", lambda: new_mandate(web, ctl, promised_date=promised(ctl, -1)))
    refused("not_found", lambda: new_mandate(web, ctl, service="no-such-service"))
    refused("invalid_data", lambda: new_mandate(web, ctl, materials=[]))
    refused("invalid_data", lambda: new_mandate(web, ctl, identity_token="张三 110101199001011234"))
    refused("invalid_request", lambda: new_mandate(web, ctl, materials=["身份证", " "]))
    refused("forbidden", lambda: new_mandate(bus_factory("kiosk-1"), ctl))
    refused("forbidden", lambda: bus_factory("display").request("mandate.list", {}))
    assert ctl.store.db.execute("SELECT COUNT(*) FROM mandates").fetchone()[0] == 0


def test_the_ledger_filters_by_state_agent_service_day_and_overdue(mandate_hall, bus_factory) -> None:
    ctl = mandate_hall
    web = bus_factory("web")
    a = new_mandate(web, ctl)["mandate_no"]
    b = new_mandate(web, ctl, agent="S0101", service="budongchan-register", promised_date=promised(ctl, 0))[
        "mandate_no"
    ]
    move(web, a, "processing")
    today = ctl.engine.local().date().isoformat()

    def listed(**filters) -> list[str]:
        return [m["mandate_no"] for m in web.request("mandate.list", filters)["mandates"]]

    assert listed() == [b, a]  # newest first
    assert listed(state="processing") == [a] and listed(agent="S0101") == [b]
    assert listed(service="budongchan-register") == [b]
    assert listed(from_day=today, to_day=today) == [b, a] and listed(to_day=promised(ctl, -1)) == []
    assert listed(overdue=True) == []  # promised today is not late yet
    ctl.store.db.execute("UPDATE mandates SET promised_date=? WHERE mandate_no=?", (promised(ctl, -1), b))
    assert listed(overdue=True) == [b]
    refused("invalid_request", lambda: listed(from_day="2026-13-40"))


def test_the_follow_link_is_signed_for_that_mandate_only(mandate_hall, bus_factory) -> None:
    ctl = mandate_hall
    m = new_mandate(bus_factory("web"), ctl)
    assert m["follow_url"].startswith("http://127.0.0.1:8080/m/DB-")
    token = m["follow_url"].rsplit("/", 1)[1]
    secret = ctl.ticket_links.secret
    assert link.verify(secret, ctl.hall, token) == m["mandate_no"]
    other = m["mandate_no"][:-1] + "9"
    assert link.verify(secret, ctl.hall, other + token[len(other) :]) is None  # another number, same signature
    assert link.verify(secret, ctl.hall, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert link.verify(secret, "another-hall", token) is None
    assert link.verify(secret, ctl.hall, m["mandate_no"]) is None
