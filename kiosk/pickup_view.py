"""What the pickup screen shows: the citizen's items, the doors opened for them, the lines and buttons.

No state here: :class:`kiosk.pickup_flow.PickupFlow` holds the journey and builds its :meth:`view`
from these functions. Every sentence is ``pickup.<key>`` in ``kiosk.i18n`` (see :func:`text`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hall_bus.contracts.pickup import Compartment, Item
from kiosk.i18n import tr
from kiosk.i18n.errors import error_key

Row = dict[str, Any]  # a row the screen draws
Action = dict[str, Any]  # a button: {id, label, arg?, role?}

GRID_POSITION = re.compile(r"^([A-Z]+)列第(\d+)格$")  # hall.toml's usual way to say where a compartment is


def text(key: str, lang: str, **values: Any) -> str:
    """A pickup sentence (``pickup.<key>`` in ``kiosk.i18n``) in ``lang`` (:class:`Places` and
    :class:`Sentence` values written in it too)."""
    return tr(
        f"pickup.{key}", lang, **{k: v.text(lang) if isinstance(v, Places | Sentence) else v for k, v in values.items()}
    )


@dataclass(frozen=True)
class Sentence:
    """A value of a pickup sentence that is itself a sentence (``kiosk.i18n`` key), in the view's language:
    why something failed is told by its error code's sentence, never by a device's or the controller's detail."""

    key: str

    @classmethod
    def of_error(cls, code: str) -> Sentence:
        return cls(error_key(code))

    def text(self, lang: str) -> str:
        return tr(self.key, lang)


def position(compartment: Compartment, lang: str) -> str:
    """Where a compartment is, in ``lang``: hall.toml's "A列第3格" reads "column A, slot 3" in English
    (any other wording is shown as the hall wrote it)."""
    pos = compartment.position
    m = GRID_POSITION.match(pos)
    return tr("pickup.position", lang, column=m.group(1), slot=int(m.group(2))) if m else pos


def separator(lang: str) -> str:
    return ", " if lang == "en" else "、"


@dataclass(frozen=True)
class Places:
    """Compartments named in a sentence, written out in the sentence's language when it is shown
    (so a message keeps both its Chinese and its English): numbers, with where they are unless ``bare``."""

    compartments: tuple[Compartment, ...]
    bare: bool = False

    def text(self, lang: str) -> str:
        if self.bare:
            return separator(lang).join(c.no for c in self.compartments)
        return separator(lang).join(text("where", lang, no=c.no, position=position(c, lang)) for c in self.compartments)

    @classmethod
    def of(cls, items: list[Item], bare: bool = False) -> Places:
        return cls(tuple(i.compartment for i in items), bare)


def door(item: Item) -> str:
    """What the screen says of an opened item's door: open, closed (collected), or its phase."""
    if item.phase == "awaiting_close":
        return "open"
    return "closed" if item.state == "collected" else item.phase or item.state


def item_rows(items: list[Item], lang: str) -> list[Row]:
    return [
        {
            "item_id": i.item_id,
            "item_name": i.item_name,
            "service_name": i.service_name,
            "case_no_masked": i.case_no_masked,
            "compartment": i.compartment.no,
            "position": position(i.compartment, lang),
            "size": i.compartment.size,
            "state": i.state,
            "phase": i.phase,
            "door_open_s": i.door_open_s,
        }
        for i in items
    ]


def opened_rows(items: list[Item], opened: list[int], failed: list[int], lang: str) -> list[Row]:
    """The compartments opened in this round (those that did open), with their door."""
    return [
        {
            "item_id": i.item_id,
            "compartment": i.compartment.no,
            "position": position(i.compartment, lang),
            "door": door(i),
        }
        for i in items
        if i.item_id in opened and i.item_id not in failed
    ]


def failed_rows(items: list[Item], failed: list[int], lang: str) -> list[Row]:
    return [
        {"item_id": i.item_id, "compartment": i.compartment.no, "position": position(i.compartment, lang)}
        for i in items
        if i.item_id in failed
    ]


def choose_screen(items: list[Item], lang: str) -> tuple[list[str], list[Action]]:
    """The items waiting in the locker, one line each, and a button per item (plus "all" for several)."""
    waiting = [i for i in items if i.state == "deposited"]
    lines = [
        f"{i.compartment.no}  {position(i.compartment, lang)}  {i.item_name or i.service_name}  {i.case_no_masked}"
        for i in waiting
    ]
    actions: list[Action] = []
    if len(waiting) > 1:
        actions.append(
            {"id": "choose", "arg": "all", "label": text("action.all", lang, n=len(waiting)), "role": "primary"}
        )
    for i in waiting:
        c = i.compartment
        actions.append(
            {
                "id": "choose",
                "arg": [i.item_id],
                "label": text("action.one", lang, no=c.no, position=position(c, lang)),
            }
        )
    return lines, actions


def door_lines(opened: list[Row], lang: str) -> list[str]:
    """While the citizen takes the items: each opened compartment and its door."""
    return [
        f"{o['compartment']}  {o['position']}  {text('door_open', lang) if o['door'] == 'open' else o['door']}"
        for o in opened
    ]


def done_screen(collected: list[Item], lang: str, can_print: bool) -> tuple[list[str], list[Action]]:
    """What was collected, a slip to print when there is a printer, and done."""
    lines = [f"{i.compartment.no}  {i.item_name or i.service_name}  ✓" for i in collected]
    actions: list[Action] = []
    if can_print:
        actions.append({"id": "print_slip", "label": text("action.print", lang), "role": "primary"})
    actions.append({"id": "cancel", "label": text("action.done", lang)})
    return lines, actions
