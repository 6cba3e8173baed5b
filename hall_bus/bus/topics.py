"""The hall bus topic layout (see docs/bus.md). Every topic lives below ``hallkit/<hall_id>/``.

=====================================================  ==========  =======================================
topic                                                  retained    what
=====================================================  ==========  =======================================
``hallkit/H/client/<client_id>/availability``          yes (LWT)   ``online`` / ``offline`` of a bus client
``hallkit/H/client/<client_id>/request/<op>``          no          that client's requests to the controller
``hallkit/H/client/<client_id>/response``              no          the controller's responses to that client
``hallkit/H/state/hall``                               yes         hall layout: domains, services, windows
``hallkit/H/state/queue/<domain>``                     yes         queue snapshot of one domain
``hallkit/H/state/window/<number>``                    yes         one window's state and current ticket
``hallkit/H/event/<type>``                             no          hall events (call, ticket, audit ...)
``hallkit/H/device/<device_id>/availability``          yes (LWT)   a device's bus presence
``hallkit/H/device/<device_id>/state``                 yes         device health (ready, degraded ...)
``hallkit/H/device/<device_id>/event/<name>``          no          device events (card read, key press)
``hallkit/H/device/<device_id>/request/<op>``          no          the controller's requests to a device's host
``hallkit/H/device/<device_id>/response``              no          the device host's responses to the controller
=====================================================  ==========  =======================================

Who sent a request is read from its topic, never from its JSON: the broker lets client ``kiosk-1``
write only below ``client/kiosk-1/request/`` (its ACL, generated from the roles table), and only the
controller may write a device's ``request`` topics. :func:`request_route` turns a request topic into
the authenticated requester, the operation and the one topic its answer goes to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ROOT = "hallkit"
_SEGMENT = re.compile(r"^[A-Za-z0-9_.\-]+$")


def _seg(value: object) -> str:
    text = str(value)
    if not _SEGMENT.match(text):
        raise ValueError(f"{text!r} cannot be a topic segment (letters, digits, '.', '_' and '-' only)")
    return text


def hall(hall_id: str) -> str:
    return f"{ROOT}/{_seg(hall_id)}"


def client_availability(hall_id: str, client_id: str) -> str:
    return f"{hall(hall_id)}/client/{_seg(client_id)}/availability"


def client_response(hall_id: str, client_id: str) -> str:
    return f"{hall(hall_id)}/client/{_seg(client_id)}/response"


def client_request(hall_id: str, client_id: str, op: str) -> str:
    return f"{hall(hall_id)}/client/{_seg(client_id)}/request/{_seg(op)}"


def client_requests_of(hall_id: str, client_id: str) -> str:
    """One client's requests (a request lane's subscription)."""
    return f"{hall(hall_id)}/client/{_seg(client_id)}/request/+"


def client_requests(hall_id: str) -> str:
    """Every client's requests to the controller (the controller's subscription)."""
    return f"{hall(hall_id)}/client/+/request/+"


def hall_state(hall_id: str) -> str:
    return f"{hall(hall_id)}/state/hall"


def queue_state(hall_id: str, domain: str) -> str:
    return f"{hall(hall_id)}/state/queue/{_seg(domain)}"


def window_state(hall_id: str, number: int) -> str:
    return f"{hall(hall_id)}/state/window/{int(number)}"


def state(hall_id: str, *parts: object) -> str:
    """Any other retained hall state, e.g. ``state(h, "load")`` -> hallkit/h/state/load."""
    return "/".join([hall(hall_id), "state", *(_seg(p) for p in parts)])


def event(hall_id: str, event_type: str) -> str:
    return f"{hall(hall_id)}/event/{_seg(event_type)}"


def device_root(hall_id: str, device_id: str) -> str:
    return f"{hall(hall_id)}/device/{_seg(device_id)}"


def device_availability(hall_id: str, device_id: str) -> str:
    return f"{device_root(hall_id, device_id)}/availability"


def device_state(hall_id: str, device_id: str) -> str:
    return f"{device_root(hall_id, device_id)}/state"


def device_event(hall_id: str, device_id: str, name: str) -> str:
    return f"{device_root(hall_id, device_id)}/event/{_seg(name)}"


def device_request(hall_id: str, device_id: str, op: str) -> str:
    return f"{device_root(hall_id, device_id)}/request/{_seg(op)}"


def device_response(hall_id: str, device_id: str) -> str:
    return f"{device_root(hall_id, device_id)}/response"


CONTROLLER = "controller"  # the only client that sends requests to device hosts


@dataclass(frozen=True)
class RequestRoute:
    """What a request topic says, as the broker authenticated it."""

    requester: str  # the client id allowed to write that topic
    op: str
    reply_topic: str  # where the answer goes (and nowhere else)


def request_route(hall_id: str, topic: str) -> RequestRoute | None:
    """``client/<id>/request/<op>`` -> (id, op, client/<id>/response); ``device/<d>/request/<op>`` ->
    (controller, op, device/<d>/response); None for anything else."""
    prefix = hall(hall_id) + "/"
    if not topic.startswith(prefix):
        return None
    parts = topic[len(prefix) :].split("/")
    if len(parts) != 4 or parts[2] != "request" or not all(_SEGMENT.match(p) for p in parts):
        return None
    area, owner, _, op = parts
    if area == "client":
        return RequestRoute(owner, op, client_response(hall_id, owner))
    if area == "device":
        return RequestRoute(CONTROLLER, op, device_response(hall_id, owner))
    return None


def last_segment(topic: str) -> str:
    return topic.rsplit("/", 1)[-1]
