"""Sentences shown for errors, keyed ``error.<code>`` by the error code they explain.

Every code the controller, a host or the bus can answer with (``hall_bus/errors.py``, the queue, the
features, the bus envelope; ``tests/kiosk/test_error_sentences.py`` finds them in the source) has a
sentence here in both languages, so a person never sees the controller's English detail. The two
codes of the kiosk itself are ``bus`` (no answer) and ``failed`` (anything else that went wrong).

:func:`error_sentence` picks the sentence of a code; an unknown code falls back to ``error.failed``
(the detail goes to the log, never to the screen).
"""

from __future__ import annotations

# key: (中文, English)
STRINGS: dict[str, tuple[str, str]] = {
    # generic errors
    "error.title": ("温馨提示", "Notice"),
    "error.bus": (
        "暂时无法连接大厅系统，请稍后重试或咨询工作人员",
        "The hall system cannot be reached right now; please retry or ask staff",
    ),
    "error.failed": ("操作未成功，请重试或咨询工作人员", "That did not work; please try again or ask staff"),
    "error.error": ("操作未成功，请重试或咨询工作人员", "That did not work; please try again or ask staff"),
    "error.internal": (
        "大厅系统内部出错，请稍后重试或联系管理员",
        "The hall system failed; please retry or call the administrator",
    ),
    "error.printer.paper_out": ("打印机缺纸", "printer out of paper"),
    "error.printer.cover_open": ("打印机盖未关好", "printer cover open"),
    "error.printer.unavailable": ("打印机不可用", "printer unavailable"),
    # the bus and its messages
    "error.unknown_op": ("该功能在本大厅未开通", "This function is not available in this hall"),
    "error.invalid_json": ("收到的数据无法识别，请重试", "The message could not be read; please try again"),
    "error.invalid_envelope": ("收到的数据格式不正确，请重试", "The message was malformed; please try again"),
    "error.invalid_data": ("填写的内容不符合要求，请检查后重试", "Some of the data is not valid; please check it"),
    "error.invalid_request": (
        "请求内容不完整或不正确，请检查后重试",
        "The request is incomplete or wrong; please check it",
    ),
    "error.too_large": ("数据过大，无法处理", "The message is too large to handle"),
    "error.unsupported_version": (
        "终端软件版本与大厅系统不匹配，请联系管理员",
        "This terminal's software does not match the hall system; call the administrator",
    ),
    "error.expired": (
        "请求已超时未执行，请重新操作",
        "The request expired and was not carried out; please do it again",
    ),
    "error.replayed": ("该操作已执行过，不会重复执行", "This was already done and is not repeated"),
    "error.forbidden": ("当前身份无权进行此操作", "Your role may not do this"),
    "error.clock_skew": (
        "本终端的时间不准确，请联系管理员校准时间",
        "This terminal's clock is wrong; ask the administrator to set it",
    ),
    "error.sender_mismatch": (
        "终端身份核验未通过，请联系管理员",
        "This terminal's identity could not be confirmed; call the administrator",
    ),
    "error.retained_request": ("收到无效的重复请求，已忽略", "A stale stored request was refused"),
    "error.rate_limited": ("操作过于频繁，请稍后再试", "Too many requests; please wait a moment and try again"),
    "error.outcome_unknown": (
        "系统重启前的操作结果无法确认，请核对后再操作",
        "The outcome of a request from before a restart is unknown; please check before repeating it",
    ),
    "error.bad_auth": ("指令签名无效，未执行", "The command was not signed by the hall system; not carried out"),
    # queue (排队叫号)
    "error.not_found": ("没有找到相关记录", "Nothing was found"),
    "error.conflict": ("当前状态下无法进行此操作", "This cannot be done right now"),
    "error.closed": ("现在是非工作时间，该事项暂停办理", "This service is closed at this time"),
    "error.paper_out": ("打印机缺纸，请装纸后重新打印", "The printer is out of paper; load paper and print again"),
    "error.cover_open": ("打印机盖未关好，请关好后重新打印", "The printer cover is open; close it and print again"),
    "error.printer_offline": (
        "打印机未连接，请检查电源和连线",
        "The printer is not connected; check its power and cable",
    ),
    "error.printer_timeout": ("打印机没有响应，请检查后重试", "The printer did not answer; check it and try again"),
    "error.printer_error": ("打印机出错，未能打印", "The printer failed; nothing was printed"),
    "error.printer_busy": ("打印机正忙，未打印，请稍后重试", "The printer is busy; nothing was printed, try again"),
    "error.print_unknown": (
        "打印结果未知，请先查看是否已出纸再决定是否重打",
        "The print result is not known; check whether it came out before printing again",
    ),
    "error.no_printer": ("该窗口没有配置回执打印机", "That window has no receipt printer"),
    "error.appointments_only": (
        "该事项现在只为预约市民办理，请凭预约码签到或预约其他时段",
        "This service takes appointments only at this time: check in with your booking code or book a slot",
    ),
    "error.sold_out": (
        "今日号源已取完，请改日再来或在线预约",
        "Today's tickets for this service are all taken; please come another day or book an appointment",
    ),
    "error.priority_not_eligible": (
        "老年人绿色通道需刷身份证核验年龄，或请到窗口由工作人员核验",
        "The 60+ green channel needs an ID card read, or staff can verify it at the window",
    ),
    "error.appointment_used": ("该预约已使用过", "This appointment has already been used"),
    "error.appointment_expired": (
        "预约时段已过，请改取普通号",
        "This appointment's time slot has passed; please take a normal ticket",
    ),
    "error.appointment_not_today": ("该预约不是今天的，请按预约日期前来", "This appointment is for another day"),
    "error.window_paused": ("本窗口已暂停服务，请先恢复", "This window is paused; resume it first"),
    "error.no_current_ticket": ("本窗口当前没有可操作的号码", "There is no ticket at this window to do that with"),
    "error.recall_limit": ("已达重呼次数上限，请按过号处理", "Recalled too often; mark it as a no-show"),
    "error.skill_mismatch": (
        "该窗口人员不具备此业务的办理资质",
        "The clerk at this window is not trained for that area",
    ),
    "error.proposal_closed": ("该建议已处理", "This proposal was already decided"),
    "error.proposal_stale": ("该建议已过时，窗口情况已变化", "This proposal is out of date; the windows have changed"),
    "error.wrong_window": ("评价器属于其他窗口", "This pad belongs to another window"),
    "error.pad_offline": ("窗口评价器离线", "The window's evaluation pad is offline"),
    # evaluation (好差评)
    "error.not_finished": ("该业务尚未办结，办结后再评价", "This service is not finished yet; rate it afterwards"),
    "error.reason_required": ("不满意评价请选择原因", "Please choose a reason for a dissatisfied rating"),
    "error.invalid_transition": ("整改单不能转到该状态", "The follow-up cannot move to that state"),
    "error.visit_required": ("请先完成回访，再进行整改或办结", "Record the return visit first"),
    "error.rectification_required": ("请先完成整改，再办结整改单", "Record the rectification before closing"),
    "error.already_visited": ("该差评已回访", "The return visit is already recorded"),
    "error.already_rectified": ("该差评已整改", "The rectification is already recorded"),
    "error.followup_closed": ("该整改单已办结，只能添加备注", "This follow-up is closed; it takes notes only"),
    "error.followup_appealed": (
        "该整改单正在申诉中，请先办结或重新打开",
        "This follow-up is under appeal; close or reopen it first",
    ),
    "error.unknown_staff": ("没有该工作人员", "No such staff member in this hall"),
    "error.invalid_range": ("日期范围不正确，结束日期不能早于开始日期", "The date range is not valid"),
    "error.range_too_long": ("报表日期范围最长一年", "A report covers at most one year"),
    "error.not_accepted": ("评价器未接受评价请求", "The pad did not accept the rating request"),
    # cases and pickup (办件, 出件)
    "error.unknown_case": ("没有找到该办件", "No such case"),
    "error.case_closed": ("该办件已办结或已关闭", "This case is already closed"),
    "error.no_identity": ("该办件未登记身份信息", "This case has no identity on record"),
    "error.no_compartment": ("智能柜没有合适的空闲柜格", "No free locker compartment of that size"),
    "error.locked_out": (
        "错误次数过多，请稍后再试或刷身份证",
        "Too many wrong attempts; try later or use your ID card",
    ),
    "error.wrong_code": ("取件码不正确", "Wrong pickup code"),
    "error.invalid_qr": ("二维码无效，请使用取件通知中的二维码", "This QR code is not valid"),
    "error.qr_expired": ("二维码已过期，请刷身份证或输入取件码", "This QR code has expired"),
    "error.no_session": ("操作已失效，请重新核验身份", "This session is no longer valid; please identify again"),
    "error.session_expired": ("操作超时，请重新核验身份", "This took too long; please identify again"),
    "error.not_available": ("该物品当前不在柜中", "This item is not waiting in a locker"),
    "error.unavailable": ("该服务暂不可用，请咨询工作人员", "This service is unavailable; please ask staff"),
    "error.board_timeout": ("智能柜控制板无响应，请联系工作人员", "The locker board did not answer; please ask staff"),
    "error.device_offline": ("设备离线，请联系工作人员", "The device is offline; please ask staff"),
    "error.device_error": ("设备故障，请联系工作人员", "The device failed; please ask staff"),
    "error.case_code": (
        "办件编号或查询码不正确，请核对回执后重试",
        "The case number or the verification code is wrong; please check your receipt",
    ),
    "error.case_code_locked": (
        "查询码错误次数过多，请15分钟后再试或咨询大厅",
        "Too many wrong codes for this case; try again in 15 minutes or ask the hall",
    ),
    # appointments (预约)
    "error.slot_full": ("该时段已约满，请选择其他时段", "This time slot is fully booked; please choose another"),
    "error.slot_closed": (
        "该时段已停止预约（已过截止时间或不在可预约日期内），请选择其他时段",
        "This slot can no longer be booked (past the cut-off or outside the booking days); choose another",
    ),
    "error.not_bookable": (
        "该事项暂不提供预约，请到大厅取号办理",
        "This service takes no appointments; take a ticket in the hall",
    ),
    "error.invalid_phone": ("请输入11位手机号码", "Please enter an 11-digit mobile number"),
    "error.booking_limit": (
        "该手机号的预约已达上限或已预约此时段，请先取消已有预约",
        "This phone number already holds the most bookings allowed, or this slot; cancel one first",
    ),
    "error.booking_cancelled": ("该预约已取消", "This booking is already cancelled"),
    "error.cancel_denied": (
        "手机号后四位或取消凭证不正确",
        "The phone's last 4 digits or the cancel token do not match",
    ),
    "error.cancel_locked": (
        "错误次数过多，该预约已不能在线取消，请联系大厅",
        "Too many wrong attempts: this booking can no longer be cancelled online; please call the hall",
    ),
    # 帮办代办 mandates (委托单)
    "error.mandate_order": (
        "委托单不能按此顺序变更，请先完成前一个环节",
        "The mandate cannot move to that state now; finish the step before it first",
    ),
    "error.mandate_closed": (
        "该委托单已办结或已退回，不能再变更",
        "This mandate is done or returned; it moves no more",
    ),
    "error.escalation_note": (
        "上报时请填写备注，说明上报给谁、为什么",
        "An escalation needs a note saying to whom and why",
    ),
    "error.unknown_agent": ("代办员不是本大厅的工作人员", "The agent is not a staff member of this hall"),
    "error.promised_past": ("承诺办结日期不能早于今天", "The promised date cannot be before today"),
}


def error_key(code: str) -> str:
    """The i18n key of error ``code`` (``error.failed`` for a code without its own sentence)."""
    key = f"error.{code}"
    return key if key in STRINGS and "." not in code else "error.failed"


def error_sentence(code: str, lang: str = "zh") -> str:
    """The sentence for error ``code`` in ``lang`` (zh or en); never the controller's detail text."""
    zh, en = STRINGS[error_key(code)]
    return en if lang == "en" else zh
