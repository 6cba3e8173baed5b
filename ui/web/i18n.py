"""What the web console says, in Simplified Chinese first and English (``t(key, lang)``).

Error sentences: the web console's own codes are here (``error.<code>``); every other code (the
controller's, the bus's) is explained by :func:`kiosk.i18n.errors.error_sentence`, so a member of
staff never reads an exception's text. Pages add their strings to :data:`STRINGS` (one table; a key
defined twice is refused at import).
"""

from __future__ import annotations

from kiosk.i18n.errors import error_sentence as bus_error_sentence

LANGS = ("zh", "en")

_TABLES: list[dict[str, tuple[str, str]]] = []


def strings(table: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """Add a page module's strings (key: (中文, English)); returns the table."""
    for key in table:
        if any(key in other for other in _TABLES):
            raise ValueError(f"web string {key!r} is defined twice")
    _TABLES.append(table)
    return table


strings(
    {
        "app.title": ("政务服务大厅 · 工作台", "Service hall · staff console"),
        "app.lang": ("English", "中文"),
        "nav.hall": ("大厅实况", "Live hall"),
        "nav.tidal": ("潮汐窗口", "Tidal windows"),
        "nav.devices": ("设备与告警", "Devices & alerts"),
        "nav.reports": ("好差评", "Evaluations"),
        "nav.followups": ("差评整改", "Bad-review follow-up"),
        "nav.pickup": ("24小时自助取件", "24-hour pickup"),
        "nav.audit": ("操作日志", "Audit log"),
        "nav.clerk": ("窗口工作台", "Window desk"),
        "nav.tablets": ("评价平板", "Window tablets"),
        "nav.mandates": ("帮办代办", "Assisted service"),
        "nav.logout": ("退出登录", "Log out"),
        "nav.skip": ("跳到正文", "Skip to content"),
        "login.title": ("工作人员登录", "Staff login"),
        "login.staff_no": ("工号", "Staff number"),
        "login.password": ("密码", "Password"),
        "login.submit": ("登录", "Log in"),
        "login.logged_out": ("您已退出登录。", "You have logged out."),
        "login.expired": ("登录已超时，请重新登录。", "Your session timed out; please log in again."),
        "live.connected": ("实时更新中", "Live"),
        "live.reconnecting": ("正在重新连接…", "Reconnecting…"),
        "role.clerk": ("窗口工作人员", "Clerk"),
        "role.manager": ("大厅管理员", "Hall manager"),
        "role.admin": ("系统管理员", "Administrator"),
        "forbidden.title": ("无权访问", "Not allowed"),
        "forbidden.body": ("您的账号没有访问此页面的权限。", "Your account may not open this page."),
        "common.minutes": ("{n} 分钟", "{n} min"),
        "common.none": ("无", "none"),
        "common.save": ("保存", "Save"),
        "common.cancel": ("取消", "Cancel"),
        "common.done": ("操作成功。", "Done."),
        # the web console's own error codes
        "error.login_failed": ("工号或密码不正确。", "Wrong staff number or password."),
        "error.account_locked": (
            "密码错误次数过多，账号已暂时锁定，请稍后再试或联系管理员。",
            "Too many wrong passwords: the account is locked for a while; try later or call the administrator.",
        ),
        "error.weak_password": ("密码至少需要 8 个字符。", "A password needs at least 8 characters."),
        "error.unknown_staff": ("大厅配置中没有这个工号。", "hall.toml has no staff member with that number."),
        "error.not_logged_in": ("请先登录。", "Please log in first."),
        "error.role_forbidden": ("您的账号无权进行此操作。", "Your account may not do this."),
        "error.csrf": (
            "页面已过期，请刷新页面后重试。",
            "The page has expired; reload it and try again.",
        ),
        "error.window_not_yours": ("您不能操作这个窗口。", "You may not work at that window."),
        "error.no_window": ("请先选择您所在的窗口。", "Choose your window first."),
        "error.bad_form": ("填写的内容不完整或不正确。", "Some of the form is missing or wrong."),
        "error.pairing_invalid": (
            "配对码不正确或已过期，请在管理页面重新生成。",
            "The pairing code is wrong or has expired; make a new one on the devices page.",
        ),
        "error.tablet_unpaired": ("此平板未配对，请输入配对码。", "This tablet is not paired; enter a pairing code."),
    }
)


def t(key: str, lang: str = "zh", **values: object) -> str:
    for table in _TABLES:
        if key in table:
            zh, en = table[key]
            text = en if lang == "en" else zh
            return text.format(**values) if values else text
    return key


def error_sentence(code: str, lang: str = "zh") -> str:
    """The sentence for an error code, the web console's own or the bus's."""
    key = f"error.{code}"
    if any(key in table for table in _TABLES):
        return t(key, lang)
    return bus_error_sentence(code, lang)  # (error.failed for a code without a sentence)


def all_strings(lang: str) -> dict[str, str]:
    """Every string of the console in ``lang`` (the pages' scripts get them as JSON)."""
    out: dict[str, str] = {}
    for table in _TABLES:
        for key, (zh, en) in table.items():
            out[key] = en if lang == "en" else zh
    return out
