"""The controller's half of the roles table: may this authenticated client call this op with this data?

The broker already refused what the ACL forbids (a client may publish only its own role's request
topics); this is the second check, and the only one that can look inside a request: a window
terminal acts on its own window only, a kiosk speaks for itself only.
"""

from __future__ import annotations

from typing import Any

from hall_bus.bus.client import ServiceError
from hall_bus.contracts.roles import OpRule, Principal


def authorize(who: Principal, op: str, rule: OpRule, data: Any) -> None:
    """Raise ``forbidden`` unless ``who`` may call ``op`` with ``data`` (the checked request data)."""
    if who.role is None:
        raise ServiceError("forbidden", f"{who.client_id!r} is not a client of this hall")
    if who.role not in rule.roles:
        raise ServiceError("forbidden", f"{op} is not allowed for the {who.role} role ({who.client_id})")
    fields = data if isinstance(data, dict) else {}
    if who.role == "window" and rule.own_window and "window" in fields and fields["window"] != who.window:
        raise ServiceError(
            "forbidden", f"{who.client_id} may act on window {who.window} only, not {fields.get('window')!r}"
        )
    if who.role == "kiosk" and "kiosk" in fields and fields["kiosk"] != who.client_id:
        raise ServiceError("forbidden", f"a kiosk speaks for itself: data.kiosk must be {who.client_id!r}")
