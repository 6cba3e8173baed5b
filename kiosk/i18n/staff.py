"""The staff and hall screens' strings: hall display, window terminal, manager console, tabs."""

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
    "terminal.transfer_to": ("转移到：", "Transfer to:"),
    "terminal.window_select": ("选择窗口", "Window"),
    # manager console
    "manager.title": ("大厅管理", "Hall manager"),
    "manager.windows": ("窗口与业务", "Windows and areas"),
    "manager.reassign": ("调整", "Reassign"),
    "manager.pending": ("待生效：{domains}", "pending: {domains}"),
    "manager.tidal": ("潮汐窗口建议", "Tidal window proposals"),
    "manager.tidal.none": ("暂无建议", "No proposals"),
    "manager.accept": ("采纳", "Accept"),
    "manager.reject": ("拒绝", "Reject"),
    "manager.load": ("实时负荷", "Live load"),
    "manager.applied": ("已调整 {window} 号窗口", "Window {window} reassigned"),
    "manager.deferred": ("{window} 号窗口将在当前业务办结后调整", "Window {window} changes after its current ticket"),
    # tabs
    "tab.kiosk": ("自助机", "Kiosk"),
    "tab.display": ("综合屏", "Hall display"),
    "tab.terminal": ("窗口终端", "Window terminal"),
    "tab.manager": ("管理台", "Manager"),
}
