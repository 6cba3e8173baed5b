"""The staff and hall screens' strings: hall display, window terminal, tabs; the scan slip."""

from __future__ import annotations

# key: (中文, English)
STRINGS: dict[str, tuple[str, str]] = {
    # hall display
    "display.title": ("叫号信息", "Now calling"),
    "display.ticket": ("号码", "Ticket"),
    "display.window": ("窗口", "Window"),
    "display.recent": ("最近叫号", "Recent calls"),
    "display.waiting": ("各业务等候人数", "Waiting per area"),
    "display.idle": ("空闲", "idle"),
    "display.paused": ("暂停服务", "paused"),
    "display.serving": ("办理中", "serving"),
    "display.calling": ("请到窗口", "called"),
    "display.wait_min": ("约 {m} 分钟", "about {m} min"),
    # window terminal
    "terminal.title": ("{window} 窗口叫号", "{window} soft caller"),
    "terminal.current": ("当前号码", "Current ticket"),
    "terminal.none": ("无", "none"),
    "terminal.call": ("叫下一位", "Call next"),
    "terminal.recall": ("重呼", "Recall"),
    "terminal.start": ("开始办理", "Start"),
    "terminal.no_show": ("过号", "No-show"),
    "terminal.transfer": ("转移", "Transfer"),
    "terminal.finish": ("办结", "Finish"),
    "terminal.pause": ("暂停", "Pause"),
    "terminal.resume": ("恢复", "Resume"),
    "terminal.waiting": ("本窗口等候 {n} 人", "{n} waiting for this window"),
    "terminal.no_one": ("当前无人等候", "Nobody is waiting"),
    "terminal.to_domain": ("转到业务：", "To an area:"),
    "terminal.to_window": ("转到窗口：", "To a window:"),
    "terminal.window_no": ("{n} 号窗口", "Window {n}"),
    "terminal.paused_state": ("本窗口暂停服务", "This window is paused"),
    "terminal.green": ("绿色通道：{kind}", "Green channel: {kind}"),
    "terminal.priority.elderly": ("60岁以上老年人", "aged 60+"),
    "terminal.priority.disabled": ("残障人士", "disability"),
    "terminal.priority.pregnant": ("孕妇", "pregnant"),
    "terminal.priority.military": ("军人 / 退役军人", "service member / veteran"),
    "terminal.appointment": ("预约 {code}  {slot}", "Appointment {code}  {slot}"),
    "terminal.transfers": ("已转移 {n} 次", "transferred {n}x"),
    "terminal.started": ("{ticket} 开始办理", "{ticket}: service started"),
    "terminal.finished": ("{ticket} 已办结", "{ticket}: finished"),
    "terminal.no_showed": ("{ticket} 已按过号处理", "{ticket}: marked as a no-show"),
    "terminal.transferred": ("{ticket} 已转到 {to}", "{ticket} transferred to {to}"),
    "terminal.paused_now": ("本窗口已暂停服务", "This window is now paused"),
    "terminal.resumed": ("本窗口已恢复服务", "This window serves again"),
    # the scan done slip (citizen strings, here because citizen.py belongs to the ticket-path work)
    "scan.slip.code": ("材料编号", "Material code"),
    "scan.slip.pages": ("页数", "Pages"),
    "scan.slip.pages_n": ("{n} 页", "{n}"),
    "scan.slip.saved": ("扫描时间", "Scanned"),
    "scan.slip.kept": ("保存至", "Kept until"),
    "scan.next_step": (
        "下一步：请取号，到窗口办理时告知工作人员材料编号 {ref}，工作人员可直接调取扫描件",
        "Next: take a ticket and give the material code {ref} at the window; staff open your scans from it",
    ),
    "scan.take_ticket": ("去取号", "Take a ticket"),
    # tabs
    "tab.kiosk": ("自助机", "Kiosk"),
    "tab.display": ("综合屏", "Hall display"),
    "tab.terminal": ("窗口终端", "Window terminal"),
}
