"""The real Kivy app in a real window (run under xvfb-run), tapped with real touch events.

All UI tests share one app in this module: Kivy allows one window per process. The hall behind it
is real: the controller on the session mosquitto, the kiosk devices from hall.toml (simulators
behind sim:// URLs) when the device layer is installed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def ui(mosquitto, tls_ca, tmp_path_factory):
    if not os.environ.get("DISPLAY"):
        pytest.skip("no display: run the UI tests under xvfb-run")
    tmp = tmp_path_factory.mktemp("ui")
    os.environ["KIVY_HOME"] = str(tmp / "kivy")
    os.environ["HALLKIT_TTS"] = "off"
    from ui.kivy_env import prepare

    prepare(size=(1080, 1920))
    import uuid

    from hall_bus import config as hallconfig
    from hall_bus.bus.client import BusClient, BusSettings
    from hall_bus.controller.service import HallController
    from hall_bus.hosts.kiosk_devices import open_kiosk_devices
    from ui.app import UiServices, build_app
    from ui.harness import Driver

    hall_id = f"t-ui-{uuid.uuid4().hex[:8]}"
    text = Path(ROOT, "hall.toml").read_text(encoding="utf-8")
    text = text.replace('id = "demo-hall"', f'id = "{hall_id}"', 1).replace(
        'data_dir = "var"', f'data_dir = "{tmp / "var"}"', 1
    )
    text = text.replace("[hall.hours]", "[hall.hours]\nalways_open = true", 1)
    (tmp / "hall.toml").write_text(text, encoding="utf-8")
    config = hallconfig.load(tmp / "hall.toml")
    clients = []

    def make_bus(client_id):
        c = BusClient(hall_id, client_id, BusSettings(host=mosquitto.host, port=mosquitto.port, tls_ca=tls_ca)).start()
        clients.append(c)
        assert c.wait_connected(10), c.last_error
        return c

    controller = HallController(config, make_bus("controller")).start()
    devices = open_kiosk_devices(config, make_bus)
    app = build_app(UiServices(config, make_bus, devices, ("kiosk", "display", "terminal")))
    driver = Driver(app)
    driver.controller = controller
    driver.devices = devices
    driver.wait(lambda: app.session.ctx.hall.get("services"), what="hall.info loaded")
    yield driver
    driver.stop()
    for d in devices.values():
        if d is not None:
            d.close()
    controller.stop()
    for c in clients:
        c.stop()


def find_action(root, action_id):
    from ui.widgets import find_action as find

    return find(root, action_id)


def labels_text(driver) -> str:
    from kivy.uix.label import Label

    return "\n".join(w.text for w in driver.app.root.walk(restrict=True) if isinstance(w, Label))


def go_home(ui):
    ui.app.show_tab("kiosk")  # a staff test that failed may have left another tab open
    ui.app.go_home()
    ui.wait(lambda: ui.screen == "home", what="home screen")


def test_take_a_ticket_by_touch(ui):
    go_home(ui)
    assert "欢迎办事" in labels_text(ui)
    ui.tap("tile:ticket")
    ui.wait(lambda: ui.screen == "ticket" and "社保" in labels_text(ui), what="domain screen")
    ui.tap("domain:shebao")
    ui.wait(lambda: "请选择办理事项" in labels_text(ui), what="service screen")
    ui.tap("service:shebao-card")
    ui.tap("priority:normal")
    ui.wait(lambda: "取号成功" in labels_text(ui), what="done screen")
    code = ui.app.session.flow.view()["ticket"]["code"]
    text = labels_text(ui)
    assert code in text and "前面还有" in text
    t = ui.controller.engine.ticket(code)
    assert t.service == "shebao-card" and t.channel == "kiosk" and t.priority == "normal"
    ui.tap("done")
    ui.wait(lambda: ui.screen == "home", what="home after done")
    assert ui.app.session.flow is None


def test_language_and_elder_mode_switch_at_any_time(ui):
    go_home(ui)
    ui.tap("tile:ticket")
    ui.find("domain:budongchan")
    ui.tap("lang")
    ui.wait(lambda: "Real estate" in labels_text(ui), what="English domain names")
    assert "Choose a business area" in labels_text(ui)
    ui.tap("elder")
    ui.wait(lambda: ui.app.fs > 1.0, what="elder mode")
    assert ui.app.session.ctx.elder and ui.app.session.flow.timeout == 120.0
    ui.tap("elder")
    ui.tap("lang")
    ui.wait(lambda: "不动产" in labels_text(ui), what="Chinese again")
    go_home(ui)


def test_inactivity_returns_home_and_clears_the_flow(ui):
    go_home(ui)
    ui.tap("tile:appointment")
    for ch in "AB12":
        ui.tap(f"key:{ch}")
    flow = ui.app.session.flow
    ui.wait(lambda: flow.code_typed == "AB12", what="typed code")
    flow.last_activity -= 3600  # as if the citizen walked away an hour ago
    ui.wait(lambda: ui.screen == "home", timeout=5, what="timeout to home")
    assert flow.finished and flow.code_typed == ""


def test_id_card_ticket_for_a_citizen_over_60_prints(ui, tmp_path):
    """Tap through 刷证取号 with card 0 of the simulator's deck (born 1948): elderly green channel."""
    reader, printer = ui.devices.get("idcard"), ui.devices.get("printer")
    assert reader is not None and printer is not None, "the simulated reader and printer must open"
    card_sim = reader.driver.port.simulator  # scripting the simulator: the citizen's hand
    paper = printer.driver.link.port.simulator
    printed_before = len(paper.pages)
    card_sim.remove()
    go_home(ui)
    ui.tap("tile:identify")
    ui.tap("identify:card")
    ui.wait(lambda: "请将身份证放在感应区" in labels_text(ui), what="waiting for the card")
    card_sim.insert(0)
    ui.wait(lambda: ui.app.session.flow.identity is not None, what="card read")
    flow = ui.app.session.flow
    assert flow.identity.masked_id == "1101**********103X" and flow.identity.age >= 60
    ui.wait(lambda: "1101**********103X" in labels_text(ui), what="masked ID on screen")
    assert "110101" not in labels_text(ui)  # never the full number on screen
    ui.tap("domain:yibao")
    ui.tap("service:yibao-reimburse")
    ui.wait(lambda: "已根据身份证为您开通老年人绿色通道" in labels_text(ui), what="elderly green channel offered")
    ui.tap("priority:elderly")
    ui.wait(lambda: "取号成功" in labels_text(ui), timeout=15, what="done screen")
    view = flow.view()["ticket"]
    assert view["printed"] and view["green"], view
    text = labels_text(ui)
    assert view["code"] in text and "绿色通道" in text and "请取走号票" in text
    t = ui.controller.engine.ticket(view["code"])
    assert t.priority == "elderly" and t.identity_token and len(t.identity_token) == 64
    # the printed ticket: parsed page and its rendered PNG, whose QR decodes to the queue URL
    page = paper.wait_pages(printed_before + 1)[-1]
    assert view["code"] in page.text and "医疗费用报销" in page.text
    from simulators.printer_render import save_png

    png = save_png(page, tmp_path / "ticket.png", paper.width_dots)
    import cv2

    from devices.scanner.decode import decode_image

    codes = [c.text for c in decode_image(cv2.imread(str(png)))]
    assert (
        codes == [page.qr_codes[0].data] and f".{view['code']}." in codes[0].rsplit("/t/", 1)[1]
    )  # the signed phone link
    card_sim.remove()
    ui.tap("done")
    ui.wait(lambda: ui.screen == "home", what="home")
    assert flow.identity is None and flow.result is None


def test_reader_unplugged_offers_other_ways(ui):
    reader = ui.devices.get("idcard")
    assert reader is not None, "the simulated reader must open"
    go_home(ui)
    ui.app.session.ctx.devices["idcard"] = None  # as if unplugged before the kiosk started
    try:
        ui.tap("tile:identify")
        ui.wait(lambda: ui.app.session.flow is not None and ui.app.session.flow.state == "identify", what="identify")
        ui.wait(lambda: "身份证读卡器暂不可用" in labels_text(ui), what="the reader's trouble said on screen")
        assert "identify:card" in ui.actions() and find_action(ui.app.root, "identify:card") is None  # shown, disabled
        ui.tap("identify:skip")
        ui.wait(lambda: ui.app.session.flow.state == "domain", what="domain without identity")
    finally:
        ui.app.session.ctx.devices["idcard"] = reader
    go_home(ui)


def test_staff_tabs_call_and_display(ui):
    go_home(ui)
    # no manager console: the hall manager works in the staff web console, which has a login
    assert [a for a in ui.actions() if a.startswith("tab:")] == ["tab:kiosk", "tab:display", "tab:terminal"]
    ui.controller.engine.issue("gongan-hukou", channel="cli")
    ui.tap("tab:terminal")
    ui.wait(lambda: ui.screen == "terminal", what="terminal")
    ui.tap("window:5")
    ui.wait(
        lambda: ui.app.terminal.window == 5 and ui.app.terminal.state is not None and ui.app.terminal.state.number == 5,
        what="window 5",
    )
    ui.tap("terminal:call")
    ui.wait(lambda: "号到 5 号窗口" in labels_text(ui), what="call message")
    ui.tap("tab:display")
    ui.wait(lambda: ui.screen == "display" and "5 号窗口办理" in labels_text(ui), what="call on the hall display")
    ui.tap("tab:kiosk")
    ui.wait(lambda: ui.screen == "home", what="kiosk again")


def test_bus_down_shows_a_message_and_retry_issues_once(ui):
    """The controller does not answer: clear message and 重试; the retry keeps the idempotency key."""
    from hall_bus.bus.client import BusClient

    session = ui.app.session
    real_bus = session.ctx.bus
    nowhere = BusClient(f"t-ui-gone-{id(ui)}", "kiosk-1", real_bus.settings).start()  # a hall without a controller
    assert nowhere.wait_connected(10)
    go_home(ui)
    ui.tap("tile:ticket")
    ui.tap("domain:gongan")
    ui.tap("service:gongan-hukou")
    ui.find("priority:normal")
    session.ctx.bus, session.ctx.request_timeout_s = nowhere, 0.5
    try:
        ui.tap("priority:normal")
        ui.wait(lambda: ui.screen == "error" and "暂时无法连接大厅系统" in labels_text(ui), what="bus error screen")
        key = session.flow.key
    finally:
        session.ctx.bus, session.ctx.request_timeout_s = real_bus, 5.0
        nowhere.stop()
    before = ui.controller.store.db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
    ui.tap("retry")
    ui.wait(lambda: ui.screen == "ticket" and "取号成功" in labels_text(ui), timeout=15, what="ticket after retry")
    assert session.flow.key == key
    after = ui.controller.store.db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
    assert after == before + 1
    ui.tap("done")


def test_pickup_entry_draws_the_pickup_flow(ui):
    go_home(ui)
    ui.tap("tile:pickup")
    ui.wait(lambda: ui.screen == "pickup" and "24小时自助取件" in labels_text(ui), what="pickup screen")
    for ch in "123456":
        ui.tap(f"key:{ch}")
    ui.wait(lambda: "123456" in labels_text(ui), what="typed pickup code")
    ui.tap("key:ok")
    # no item was deposited with this code: the flow says so (wrong code, attempts left), the screen shows it
    ui.wait(
        lambda: ui.app.session.flow.state == "identify" and ui.app.session.flow.message,
        timeout=10,
        what="pickup answer",
    )
    ui.wait(lambda: ui.app.session.flow.message in labels_text(ui), what="pickup message on screen")
    go_home(ui)


# ---------------------------------------------------------------------- issue 13: field readiness
def in_window(w) -> bool:
    """The widget is wholly inside the window (not below the fold, not off-screen)."""
    from kivy.core.window import Window

    x, y = w.to_window(w.x, w.y)
    return y >= 0 and y + w.height <= Window.height and x >= 0 and x + w.width <= Window.width


def test_elder_mode_keeps_every_home_tile_above_the_fold_and_the_hall_name_whole(ui):
    go_home(ui)
    ui.tap("elder")
    try:
        ui.wait(lambda: ui.app.fs > 1.0, what="elder mode")
        ui.wait(lambda: in_window(ui.find("tile:rate")), what="服务评价 above the fold")
        status = ui.app.root_screen().ids.status
        tile = ui.find("tile:rate")
        assert tile.to_window(tile.x, tile.y)[1] >= status.to_window(status.x, status.top)[1] - 1
        from ui.widgets import FitLabel

        header = next(w for w in ui.app.root.walk(restrict=True) if isinstance(w, FitLabel) and w.get_root_window())
        for lang in ("zh", "en"):
            if ui.app.lang != lang:
                ui.tap("lang")
            name = ui.app.services.config.name if lang == "zh" else ui.app.services.config.name_en
            ui.wait(lambda name=name: header.text == name, what="hall name")
            ui.pump(2)
            assert header.texture_size[1] <= header.height and header.texture_size[0] <= header.width, name
            assert not header.shorten and "…" not in header.text
    finally:
        if ui.app.lang != "zh":
            ui.tap("lang")
        ui.tap("elder")
    go_home(ui)


def test_a_finished_ticket_resets_language_and_elder_mode_on_screen(ui):
    go_home(ui)
    ui.tap("lang")
    ui.tap("elder")
    ui.wait(lambda: ui.app.fs > 1.0 and "Welcome" in labels_text(ui), what="English elder mode")
    ui.tap("tile:ticket")
    ui.tap("domain:shuiwu")
    ui.tap("service:shuiwu-invoice")
    ui.tap("priority:normal")
    ui.tap("done", timeout=15)
    ui.wait(lambda: ui.screen == "home" and "欢迎办事" in labels_text(ui), what="home in Chinese")
    ui.wait(lambda: ui.app.fs == 1.0, what="standard look")
    assert (ui.app.session.ctx.lang, ui.app.session.ctx.elder) == ("zh", False)


def test_search_with_the_on_screen_keyboard(ui):
    go_home(ui)
    ui.tap("tile:ticket")
    ui.wait(lambda: ui.screen == "ticket" and ui.app.session.flow.state == "domain", what="domain screen")
    screen = ui.app.root_screen()
    ui.tap_widget(screen._search)  # touching the search box opens the keyboard (no physical keyboard needed)
    ui.tap("kb:S")
    ui.tap("kb:B")
    ui.tap("kb:K")
    ui.wait(lambda: "搜索结果：1 项" in labels_text(ui), what="one result for sbk")
    assert "service:shebao-card" in ui.actions()
    ui.tap("lang")
    ui.wait(lambda: "1 result" in labels_text(ui), what="English result count")
    assert "1 results" not in labels_text(ui)
    ui.tap("lang")
    ui.tap("kb:done")
    ui.wait(lambda: "kb:S" not in ui.actions(), what="keyboard closed")
    go_home(ui)


def test_the_appointment_keypad_has_i_and_o_and_does_not_jump(ui):
    go_home(ui)
    ui.tap("tile:appointment")
    key = ui.find("key:1")
    ui.pump(3)
    before = key.to_window(key.x, key.y)[1]
    for ch in "YYIO9":
        ui.tap(f"key:{ch}")
    ui.tap("key:ok")
    ui.wait(lambda: "未找到预约码 YYIO9" in labels_text(ui), what="not found message")
    ui.pump(3)
    key = ui.find("key:1")
    assert key.to_window(key.x, key.y)[1] == before  # the message did not push the keypad down
    go_home(ui)


def test_a_smaller_window_scales_the_ui_and_keeps_header_and_footer_on_screen(ui):
    from kivy.core.window import Window

    go_home(ui)
    ui.tap("tile:ticket")
    try:
        Window.size = (630, 1120)  # a portrait kiosk window on a 1920x1200 screen
        ui.wait(lambda: ui.app.fs < 0.7, what="scaled UI")
        ui.pump(3)
        assert in_window(ui.find("home")) and in_window(ui.find("lang")) and in_window(ui.find("elder"))
    finally:
        Window.size = (1080, 1920)
        ui.wait(lambda: ui.app.fs == 1.0, what="design size again")
    go_home(ui)
