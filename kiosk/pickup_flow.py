"""24-hour self-service pickup at the kiosk (24小时自助取件): the citizen's journey as a state machine.

No Kivy here: ``ui/screens/pickup`` draws :meth:`PickupFlow.view` and calls the actions. The flow
talks to the hall controller only through ``ctx.bus.request`` (a :class:`hall_bus.client.BusClient`);
the controller verifies the citizen and opens the doors itself - the kiosk never addresses a lock.

States::

    idle ─start()─▶ identify ─card_read(token) | submit_code(code) | submit_qr(text)─▶ verifying
    verifying ─▶ choose_items            (items found: masked, no personal data)
              └▶ identify + message      (wrong code: attempts left; nothing found; bad QR)
              └▶ locked_out              (too many wrong codes at this kiosk / for this code)
    choose_items ─choose(ids | "all")─▶ opening ─▶ waiting_close   (screen: compartment number and position)
                                                └▶ error          (no door opened: seek help; items stay in the locker)
    waiting_close ─tick(): door(s) closed─▶ done, or choose_items when more items wait (one after another)
    any ─cancel() | inactivity timeout─▶ finished (back home, personal data cleared)

API (stable; the UI and tests rely on it):

* ``PickupFlow(ctx, autostart=True)`` - ``ctx`` is a :class:`kiosk.flow.KioskContext`; with
  ``autostart`` the flow begins in ``identify`` (the kiosk tile), else in ``idle``.
* actions: ``start()``, ``by_card()`` (reads ``ctx.device("idcard")``), ``card_read(token)``,
  ``type_char(ch)`` / ``backspace()`` / ``submit()`` (the code keypad), ``submit_code(code)``,
  ``by_qr()`` (reads ``ctx.device("scanner").read_code``), ``submit_qr(text)``,
  ``choose(item_ids | "all")``, ``refresh()``, ``print_slip()``, ``cancel()``; actions may block on
  the bus or a device, so the UI calls them on a worker thread.
* ``tick(now=None) -> bool``: polls the doors while waiting for them to close (every ``poll_s``)
  and applies the inactivity timeout (True when it sent the kiosk home, personal data cleared).
* ``state``, ``listeners`` (called with the flow after every change), ``view() -> dict`` with
  ``state``, ``message`` (current language), ``message_zh``, ``message_en``, ``title``, ``items``
  [{item_id, item_name, service_name, case_no_masked, compartment, position, size, state, phase,
  door_open_s}], ``opened`` [{item_id, compartment, position, door}], ``failed`` (compartments that
  did not open), ``typed``/``keypad`` (code entry), ``lines`` and ``actions`` [{id, label, arg?,
  role?}] for the screen, ``locked_s``.
"""
from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

from kiosk.flow import Flow, KioskContext
from kiosk.identify import CardReadFailed, NoCard, ReaderUnavailable, read_card_identity
from kiosk.ports import is_bus_error

CODE = re.compile(r"^\d{6,8}$")

# key: (中文, English)
TEXT: dict[str, tuple[str, str]] = {
    "title": ("24小时自助取件", "24-hour pickup"),
    "idle": ("请选择取件方式", "Choose how to identify"),
    "identify": ("请刷身份证、输入取件码或扫描短信中的二维码", "Place your ID card, type your pickup code or scan the QR from your message"),
    "verifying": ("正在核验，请稍候…", "Checking, please wait..."),
    "found": ("找到 {n} 件待取物品，请选择", "{n} item(s) waiting for you; choose what to open"),
    "not_found": ("没有找到待取物品，如有疑问请咨询服务台", "No items are waiting for you; please ask at the service desk"),
    "wrong_code": ("取件码不正确，还可尝试 {left} 次", "Wrong pickup code; {left} attempt(s) left"),
    "bad_code": ("请输入 6-8 位数字取件码", "Please type the 6-8 digit pickup code"),
    "invalid_qr": ("二维码无效，请使用取件通知中的二维码", "This QR code is not valid; use the QR from your pickup message"),
    "qr_expired": ("二维码已过期，请刷身份证或输入取件码", "This QR code has expired; use your ID card or pickup code"),
    "locked_out": ("错误次数过多，请 {minutes} 分钟后再试或刷身份证取件",
                   "Too many wrong attempts; try again in {minutes} min or use your ID card"),
    "no_reader": ("身份证读卡器暂不可用，请输入取件码", "The ID card reader is unavailable; please type your pickup code"),
    "no_card": ("未检测到身份证，请将身份证放在感应区", "No ID card found; place it on the reader"),
    "card_failed": ("身份证读取失败：{reason}", "Could not read the ID card: {reason}"),
    "no_scanner": ("扫码功能暂不可用，请输入取件码", "Scanning is unavailable; please type your pickup code"),
    "no_qr": ("未识别到二维码，请将手机屏幕对准扫码区", "No QR code seen; hold your phone to the scanner"),
    "opening": ("正在打开柜门，请稍候…", "Opening the compartment, please wait..."),
    "take": ("请到 {where} 取件，取出后请关好柜门", "Please collect from {where} and close the door afterwards"),
    "take_partly": ("请到 {where} 取件；{failed} 柜门未能打开，请联系工作人员",
                    "Please collect from {where}; {failed} did not open - please ask staff for help"),
    "reminder": ("柜门仍未关闭，请取出物品后关好柜门", "The door is still open: please take your item and close the door"),
    "open_failed": ("柜门 {failed} 未能打开，请联系工作人员，物品仍安全保存在柜中",
                    "Compartment {failed} did not open; please ask staff for help - your item stays safely in the locker"),
    "done": ("取件完成，谢谢！需要凭条请点击打印", "All collected, thank you! Tap print for a slip"),
    "more": ("已取 {done} 件，还有 {left} 件待取", "{done} collected, {left} more waiting"),
    "printed": ("凭条已打印", "Slip printed"),
    "print_failed": ("打印机暂不可用：{reason}", "The printer is unavailable: {reason}"),
    "session_expired": ("操作超时，请重新核验身份", "This took too long; please identify again"),
    "bus": ("暂时无法连接服务器，请稍后重试", "Cannot reach the hall system; please try again"),
    "failed": ("操作失败：{reason}", "Failed: {reason}"),
    "unavailable": ("自助取件暂不可用，请到综合窗口咨询", "Self-service pickup is unavailable; please ask at the general window"),
    # action labels
    "a.card": ("刷身份证", "ID card"),
    "a.qr": ("扫二维码", "Scan QR"),
    "a.all": ("全部打开（{n} 件）", "Open all ({n})"),
    "a.one": ("打开 {no}（{position}）", "Open {no} ({position})"),
    "a.print": ("打印凭条", "Print slip"),
    "a.retry": ("重试", "Retry"),
    "a.again": ("重新核验", "Identify again"),
    "a.done": ("完成", "Done"),
    "a.cancel": ("返回首页", "Home"),
}


def text(key: str, lang: str, **values: Any) -> str:
    zh, en = TEXT[key]
    s = en if lang == "en" else zh
    return s.format(**values) if values else s


class PickupFlow(Flow):
    name = "pickup"
    initial = "idle"
    timeout_s = 60.0
    busy_states = frozenset({"verifying", "opening"})
    poll_s = 0.5
    open_wait_s = 15.0  # how long "opening" waits for the controller to report the doors
    reminder_s = 20.0  # door open this long: remind the citizen on screen

    def __init__(self, ctx: KioskContext, autostart: bool = True) -> None:
        super().__init__(ctx)
        self.typed = ""
        self.session: dict | None = None
        self.items: list[dict] = []
        self.opened: list[int] = []  # item ids opened in this round
        self.failed: list[int] = []
        self.collected: list[dict] = []
        self.masked_id = ""
        self.locked_s = 0
        self._msg: tuple[str, dict] = ("idle", {})
        self._last_poll = -1e9
        self._retry = None
        if autostart:
            self.start()

    # ------------------------------------------------------------------ plumbing
    def say(self, state: str, key: str, **values: Any) -> None:
        self._msg = (key, values)
        self.go(state, text(key, self.ctx.lang, **values))

    def clear_personal_data(self) -> None:
        self.typed = ""
        self.session = None
        self.items, self.opened, self.failed, self.collected = [], [], [], []
        self.masked_id = ""
        self._retry = None

    def state_timeout(self) -> float:
        return 300.0 if self.state == "waiting_close" else self.timeout_s

    def _request(self, op: str, data: dict, timeout: float | None = None) -> Any:
        return self.ctx.bus.request(op, data, timeout=timeout or self.ctx.request_timeout_s, retry_s=1.0)

    def _failure(self, exc: Exception, retry) -> None:
        code = getattr(exc, "code", "")
        msg = str(exc).split(": ", 2)[-1]
        if is_bus_error(exc):
            self._retry = retry
            self.say("error", "bus")
        elif code == "locked_out":
            m = re.search(r"(\d+) s\b", msg)
            self.locked_s = int(m.group(1)) if m else 0
            self.say("locked_out", "locked_out", minutes=max(1, (self.locked_s + 59) // 60))
        elif code == "wrong_code":
            m = re.search(r"(\d+) attempt", msg)
            self.say("identify", "wrong_code", left=m.group(1) if m else "?")
        elif code in ("not_found", "invalid_qr", "qr_expired"):
            self.say("identify", code)
        elif code in ("no_session", "session_expired"):
            self.items = []
            self.say("identify", "session_expired")
        elif code in ("unknown_op", "unavailable"):
            self.say("error", "unavailable")
        else:
            self.say("error", "failed", reason=msg)

    # ------------------------------------------------------------------ identify
    def start(self) -> None:
        """Begin (or begin again): forget any earlier citizen and ask how to identify."""
        self._cancel.clear()
        self.clear_personal_data()
        self.say("identify", "identify")

    def by_card(self) -> None:
        """Wait for an ID card on the kiosk's reader and identify with its token."""
        self._cancel.clear()
        self.say("verifying", "verifying")
        try:
            identity = read_card_identity(self.ctx.device("idcard"), self.ctx.card_wait_s, lambda: self.cancelled, self.ctx.salt)
        except ReaderUnavailable:
            self.say("identify", "no_reader")
            return
        except NoCard:
            self.say("identify", "no_card")
            return
        except CardReadFailed as exc:
            self.say("identify", "card_failed", reason=str(exc))
            return
        if self.finished:
            return
        self.masked_id = identity.masked_id
        self.card_read(identity.token)

    def card_read(self, token: str) -> None:
        """The identity token of an ID card read at this kiosk (salted HMAC, never the number)."""
        self._identify({"method": "card", "token": token})

    def type_char(self, ch: str) -> None:
        if ch.isdigit() and len(self.typed) < 8:
            self.typed += ch
        self.go(self.state, self.message)

    def backspace(self) -> None:
        self.typed = self.typed[:-1]
        self.go(self.state, self.message)

    def submit(self) -> None:
        self.submit_code(self.typed)

    def submit_code(self, code: str) -> None:
        code = code.strip()
        self.typed = ""
        if not CODE.match(code):
            self.say("identify", "bad_code")
            return
        self._identify({"method": "code", "code": code})

    def by_qr(self) -> None:
        scanner = self.ctx.device("scanner")
        if scanner is None or not hasattr(scanner, "read_code"):
            self.say("identify", "no_scanner")
            return
        self.say("verifying", "verifying")
        try:
            payload = scanner.read_code(15.0)
        except Exception:  # noqa: BLE001 - a camera fault: offer the other ways
            payload = None
        if not payload:
            self.say("identify", "no_qr")
            return
        self.submit_qr(payload)

    def submit_qr(self, qr_text: str) -> None:
        self._identify({"method": "qr", "qr": qr_text.strip()[:512]})

    def _identify(self, data: dict) -> None:
        self.say("verifying", "verifying")
        try:
            out = self._request("pickup.identify", {"kiosk": self.ctx.kiosk_id, **data})
        except Exception as exc:  # noqa: BLE001
            self._failure(exc, lambda: self._identify(data))
            return
        if self.finished:
            return
        self.session = out
        self.items = list(out["items"])
        self.collected = []
        self.say("choose_items", "found", n=len(self.waiting()))

    def waiting(self) -> list[dict]:
        return [i for i in self.items if i["state"] == "deposited"]

    # ------------------------------------------------------------------ open and collect
    def choose(self, item_ids: Any) -> None:
        """Open the chosen items' compartments: a list of item ids, or "all" (they open together)."""
        if self.session is None:
            self.say("identify", "identify")
            return
        ids = [i["item_id"] for i in self.waiting()] if item_ids == "all" else [int(x) for x in item_ids]
        if not ids:
            return
        self.say("opening", "opening")
        try:
            out = self._request("pickup.open", {"kiosk": self.ctx.kiosk_id, "session_id": self.session["session_id"],
                                                "item_ids": ids})
        except Exception as exc:  # noqa: BLE001
            self._failure(exc, lambda: self.choose(ids))
            return
        self.items = list(out["items"])
        self.opened, self.failed = ids, []
        deadline = time.monotonic() + self.open_wait_s  # a real wait, whatever clock drives the timeouts
        while not self.finished:
            mine = [i for i in self.items if i["item_id"] in ids]
            if all(i["phase"] != "opening" for i in mine):
                break
            if time.monotonic() > deadline or self.cancelled:
                break
            if self._cancel.wait(0.2):
                break
            self.refresh(force=True)
        self._after_open()

    def _after_open(self) -> None:
        mine = [i for i in self.items if i["item_id"] in self.opened]
        # not opened: refused by the locker (jammed, board error), or still unconfirmed after open_wait_s
        self.failed = [i["item_id"] for i in mine if (i["state"] == "deposited" and i["error"]) or i["phase"] == "opening"]
        open_now = [i for i in mine if i["item_id"] not in self.failed]
        failed_where = "、".join(i["compartment"]["no"] for i in mine if i["item_id"] in self.failed)
        if not open_now:
            self.say("error", "open_failed", failed=failed_where or "?")
            return
        where = "、".join(f"{i['compartment']['no']}（{i['compartment']['position']}）" if self.ctx.lang != "en"
                         else f"{i['compartment']['no']} ({i['compartment']['position']})" for i in open_now)
        if self.failed:
            self.say("waiting_close", "take_partly", where=where, failed=failed_where)
        else:
            self.say("waiting_close", "take", where=where)
        self._check_closed()

    def refresh(self, force: bool = False) -> None:
        """Ask the controller where this session's items stand (doors open, collected)."""
        if self.session is None:
            return
        now = self.ctx.clock()
        if not force and now - self._last_poll < self.poll_s:
            return
        self._last_poll = now
        try:
            out = self._request("pickup.status", {"session_id": self.session["session_id"]}, timeout=2.0)
        except Exception:  # noqa: BLE001 - a missed poll is retried at the next tick
            return
        with self._lock:
            self.items = list(out["items"])
        if self.state == "waiting_close":
            self._check_closed()

    def _check_closed(self) -> None:
        mine = [i for i in self.items if i["item_id"] in self.opened and i["item_id"] not in self.failed]
        if mine and all(i["state"] == "collected" for i in mine):
            self.collected += [i for i in mine if i["item_id"] not in {c["item_id"] for c in self.collected}]
            self.opened = []
            left = self.waiting()
            if left and not self.failed:
                self.say("choose_items", "more", done=len(self.collected), left=len(left))
            elif self.failed:
                failed_where = "、".join(i["compartment"]["no"] for i in self.items if i["item_id"] in self.failed)
                self.say("error", "open_failed", failed=failed_where)
            else:
                self.say("done", "done")
            return
        if any((i.get("door_open_s") or 0) >= self.reminder_s for i in mine) and self._msg[0] != "reminder":
            self.say("waiting_close", "reminder")
        else:
            self.go(self.state, self.message)  # redraw door timers

    def tick(self, now: float | None = None) -> bool:
        if self.state == "waiting_close" and not self.finished:
            self.refresh()
        return super().tick(now)

    def retry(self) -> None:
        action, self._retry = self._retry, None
        (action or self.start)()

    def print_slip(self) -> None:
        """Print a pickup slip (取件凭条) for each item collected in this visit."""
        printer = self.ctx.device("printer")
        if printer is None:
            self.say(self.state, "print_failed", reason="none")
            return
        from drivers.escpos_docs import PickupSlipDoc

        hall = self.ctx.hall.get("name", "") if self.ctx.lang != "en" else (self.ctx.hall.get("name_en") or self.ctx.hall.get("name", ""))
        try:
            for i in self.collected:
                c = i["compartment"]
                printer.print_pickup_slip(PickupSlipDoc(
                    hall_name=hall, case_no=i.get("case_no") or i["case_no_masked"], item_name=i["item_name"] or i["service_name"],
                    compartment=f"{c['no']} ({c['position']})",
                    collected_at=dt.datetime.fromtimestamp(i.get("collected_at") or 0) if i.get("collected_at") else dt.datetime.now(),
                    id_masked=self.masked_id, lang=self.ctx.lang))
        except Exception as exc:  # noqa: BLE001 - paper out etc.: the items are collected anyway
            self.say(self.state, "print_failed", reason=getattr(exc, "code", "") or str(exc))
            return
        self.say(self.state, "printed")

    def cancel(self) -> None:
        self.close()

    # ------------------------------------------------------------------ view
    def _view(self) -> dict:
        lang = self.ctx.lang
        key, values = self._msg
        items = [{"item_id": i["item_id"], "item_name": i["item_name"], "service_name": i["service_name"],
                  "case_no_masked": i["case_no_masked"], "compartment": i["compartment"]["no"],
                  "position": i["compartment"]["position"], "size": i["compartment"]["size"], "state": i["state"],
                  "phase": i["phase"], "door_open_s": i.get("door_open_s")} for i in self.items]
        opened = [{"item_id": i["item_id"], "compartment": i["compartment"]["no"], "position": i["compartment"]["position"],
                   "door": "open" if i["phase"] == "awaiting_close" else ("closed" if i["state"] == "collected" else i["phase"] or i["state"])}
                  for i in self.items if i["item_id"] in self.opened and i["item_id"] not in self.failed]
        failed = [{"item_id": i["item_id"], "compartment": i["compartment"]["no"], "position": i["compartment"]["position"]}
                  for i in self.items if i["item_id"] in self.failed]
        v: dict[str, Any] = {"title": text("title", lang), "message_zh": text(key, "zh", **values),
                             "message_en": text(key, "en", **values), "items": items, "opened": opened, "failed": failed,
                             "locked_s": self.locked_s, "lines": [], "actions": []}
        a = v["actions"]
        if self.state == "identify":
            v["keypad"], v["typed"] = True, self.typed
            a.append({"id": "by_card", "label": text("a.card", lang), "role": "primary"})
            if self.ctx.device("scanner") is not None:
                a.append({"id": "by_qr", "label": text("a.qr", lang)})
        elif self.state == "choose_items":
            waiting = [i for i in self.items if i["state"] == "deposited"]
            for i in waiting:
                c = i["compartment"]
                v["lines"].append(f"{c['no']}  {c['position']}  {i['item_name'] or i['service_name']}  {i['case_no_masked']}")
            if len(waiting) > 1:
                a.append({"id": "choose", "arg": "all", "label": text("a.all", lang, n=len(waiting)), "role": "primary"})
            for i in waiting:
                c = i["compartment"]
                a.append({"id": "choose", "arg": [i["item_id"]], "label": text("a.one", lang, no=c["no"], position=c["position"])})
        elif self.state == "waiting_close":
            for o in opened:
                v["lines"].append(f"{o['compartment']}  {o['position']}  {'柜门已开' if lang != 'en' else 'door open'}"
                                  if o["door"] == "open" else f"{o['compartment']}  {o['position']}  {o['door']}")
        elif self.state == "done":
            for i in self.collected:
                v["lines"].append(f"{i['compartment']['no']}  {i['item_name'] or i['service_name']}  ✓")
            if self.ctx.device("printer") is not None:
                a.append({"id": "print_slip", "label": text("a.print", lang), "role": "primary"})
            a.append({"id": "cancel", "label": text("a.done", lang)})
            return v
        elif self.state == "error":
            a.append({"id": "retry" if self._retry else "start", "label": text("a.retry" if self._retry else "a.again", lang),
                      "role": "primary"})
        elif self.state == "locked_out":
            a.append({"id": "start", "label": text("a.again", lang)})
        a.append({"id": "cancel", "label": text("a.cancel", lang)})
        return v
