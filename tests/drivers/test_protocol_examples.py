"""Every worked example of every page in docs/protocols/ checked against the drivers' codecs.

A page writes its examples as fenced blocks tagged ``example``, one example a block, ``key: value``
lines (a line indented by two spaces continues the value above it)::

    ```example
    what: find card
    codec: idcard.request
    cmd: 20
    para: 01
    bytes: AA AA AA 96 69 00 03 20 01 22
    ```

``codec`` names the check below: encoding gives ``bytes`` and decoding ``bytes`` gives the other
fields. docs/protocols/evaluation-pad.md keeps its examples in a table (``| what | `FF 68 ...` |``,
also checked field by field in tests/drivers/test_hallframe_codec.py); its rows are loaded here too.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from drivers import caller as caller_drv
from drivers import camera, escpos_docs
from drivers import escpos_printer as ep
from drivers import hallframe as hf
from drivers import idcard as sam
from drivers import locker as lb
from drivers import pad as pad_drv
from drivers.errors import FrameError
from drivers.escpos_parse import EscPosParser
from simulators import scanner_stream
from simulators.schemes import camera_sim
from tests.helpers import ROOT

PAGES = sorted((ROOT / "docs/protocols").glob("*.md"))
BLOCK = re.compile(r"^```example[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
TABLE_ROW = re.compile(r"^\| *([^|`]+?) *\| *`((?:[0-9A-F]{2} ?)+)` *\|$", re.M)


@dataclass(frozen=True)
class Example:
    page: str
    line: int
    fields: dict[str, str]

    def __getitem__(self, key: str) -> str:
        return self.fields[key]

    def get(self, key: str, default: str = "") -> str:
        return self.fields.get(key, default)

    def hex(self, key: str = "bytes") -> bytes:
        return bytes.fromhex(self.get(key).replace(" ", ""))

    def num(self, key: str, default: str = "0") -> int:
        """A number as written: ``0x..`` or two hex digits for bytes, decimal otherwise."""
        text = self.get(key, default)
        return int(text, 16) if text.lower().startswith("0x") else int(text)

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}:{self.get('what')}"


def parse_block(page: str, line: int, text: str) -> Example:
    fields: dict[str, str] = {}
    last = ""
    for raw in text.splitlines():
        if not raw.strip():
            continue
        if raw.startswith("  ") and last:
            fields[last] += " " + raw.strip()
            continue
        key, sep, value = raw.partition(":")
        assert sep, f"{page}:{line}: example line {raw!r} is not 'key: value'"
        last = key.strip()
        assert last not in fields, f"{page}:{line}: {last} given twice"
        fields[last] = value.strip()
    return Example(page, line, fields)


def load(path: Path) -> list[Example]:
    doc = path.read_text(encoding="utf-8")
    out = [parse_block(path.name, doc.count("\n", 0, m.start()) + 1, m.group(1)) for m in BLOCK.finditer(doc)]
    if "## Worked examples" in doc:  # the table form of evaluation-pad.md
        section = doc.split("## Worked examples", 1)[1].split("\n## ", 1)[0]
        start = doc.index(section)
        for m in TABLE_ROW.finditer(section):
            out.append(
                Example(
                    path.name,
                    doc.count("\n", 0, start + m.start()) + 1,
                    {"what": m.group(1), "codec": "hallframe", "bytes": m.group(2)},
                )
            )
    return out


EXAMPLES = [ex for page in PAGES for ex in load(page)]


# ---------------------------------------------------------------------------------- ID card (SAM)
def check_idcard_request(ex: Example) -> None:
    cmd, para, data = ex.num("cmd"), ex.num("para"), ex.hex("data")
    assert sam.request(cmd, para, data) == ex.hex()
    (frame,) = sam.IdCardCodec().feed(ex.hex())
    assert (frame.cmd, frame.para, frame.request_data) == (cmd, para, data)
    if "command" in ex.fields:
        assert getattr(sam, ex["command"]) == (cmd, para)


def check_idcard_reply(ex: Example) -> None:
    sw1, sw2, sw3, data = ex.num("sw1"), ex.num("sw2"), ex.num("sw3"), ex.hex("data")
    assert sam.reply(sw3, data, sw1, sw2) == ex.hex()
    (frame,) = sam.IdCardCodec().feed(ex.hex())
    assert (frame.body[:2], frame.sw3, frame.data) == (bytes([sw1, sw2]), sw3, data)
    if "status" in ex.fields:
        assert sam.STATUS_TEXT[sw3] == ex["status"]


def check_idcard_error(ex: Example) -> None:
    codec = sam.IdCardCodec()
    with pytest.raises(FrameError, match=ex["error"]):
        codec.feed(ex.hex())


def _date(text: str) -> dt.date | None:
    return None if text == "None" else dt.date.fromisoformat(text)


def check_idcard_text(ex: Example) -> None:
    card = sam.parse_text(ex.hex())
    for name in ("card_type", "name", "sex", "nation", "address", "id_number", "issuer"):
        if name in ex.fields:
            assert getattr(card, name) == ex[name], name
    for name in ("birth", "valid_from", "valid_to"):
        if name in ex.fields:
            assert getattr(card, name) == _date(ex[name]), name
    if "checksum_ok" in ex.fields:
        assert str(card.checksum_ok) == ex["checksum_ok"]
    assert sam.encode_text(card) == ex.hex()


def check_idcard_id_check(ex: Example) -> None:
    assert sam.id_check_digit(ex["first17"]) == ex["check"]
    assert sam.id_checksum_ok(ex["first17"] + ex["check"])


# ---------------------------------------------------------------------------------- lock boards
def check_locker_request(ex: Example) -> None:
    board, lock = ex.num("board"), ex.num("lock")
    build = {"open": lb.open_request, "query": lb.query_request}[ex["command"]]
    assert build(board, lock) == ex.hex()
    (req,) = lb.RequestCodec().feed(ex.hex())
    assert (req.board, req.lock) == (board, lock)
    assert (req.is_open, req.is_query) == (ex["command"] == "open", ex["command"] == "query")


class _Port:
    """The board's end of the line: hands the example's reply to whatever the driver sent."""

    def __init__(self, reply: bytes) -> None:
        self.reply, self.sent, self.timeout = reply, b"", 0.1

    def reset_input_buffer(self) -> None:
        pass

    def write(self, data: bytes) -> int:
        self.sent += data
        return len(data)

    def read(self, n: int) -> bytes:
        out, self.reply = self.reply[:n], self.reply[n:]
        return out

    def close(self) -> None:
        pass


def check_locker_reply(ex: Example) -> None:
    port = _Port(ex.hex())
    bus = lb.LockBoardBus(
        port,
        door_open_value=ex.num("door_open_value", "0x11"),
        locks_per_board=32,
        reply_timeout_s=0.2,
        open_timeout_s=0.2,
    )
    board, lock, to = ex.num("board"), ex.num("lock"), ex["reply_to"]
    if to == "open":
        assert bus.open_lock(board, lock) == (ex["door"] == "open")
    elif to == "query":
        assert bus.query(board, lock) == (ex["door"] == "open")
    elif to == "open_all":
        bus.open_all(board)
    else:
        assert to == "query_all", to
        doors = bus.query_all(board)
        assert sorted(n for n, is_open in doors.items() if is_open) == [int(n) for n in ex["open"].split(",") if n]
    assert port.reply == b"", "the driver read the whole reply"


# ---------------------------------------------------------------------------------- ESC/POS
def check_escpos_parse(ex: Example) -> None:
    parser = EscPosParser()
    pages, queries = parser.feed(ex.hex())
    page = pages[0] if pages else parser.pending_page()
    if "text" in ex.fields:
        assert page.text == ex["text"]
    if "size" in ex.fields:
        run = page.elements[0].runs[0]  # type: ignore[union-attr]
        want = ex["size"] if "x" in ex["size"] else f"{ex['size']}x{ex['size']}"  # "2" is "2x2"
        assert f"{run.width}x{run.height}" == want
    if "cut" in ex.fields:
        assert page.cut == ex["cut"] and len(pages) == 1
    if "qr" in ex.fields:
        (qr,) = page.qr_codes
        assert (qr.data, str(qr.module), qr.ec) == (ex["qr"], ex["qr_module"], ex["qr_ec"])
    if "query" in ex.fields:
        assert [f"{q.command} {q.n}" for q in queries] == [ex["query"]]
    assert parser.unknown == 0


def check_escpos_layout(ex: Example) -> None:
    """A piece of a HallKit document (drivers.escpos_docs.Layout) gives the bytes, which parse back."""
    lay = escpos_docs.Layout()
    start = len(lay.p.data)
    call = ex["call"]
    if call == "init":
        start = 0
    elif call == "line":
        lay.line(ex["text"], ex.get("align", "left"), ex.get("bold") == "True", int(ex.get("size", "1")))
    elif call == "qr":
        lay.qr(ex["qr"], int(ex["qr_module"]))
    else:
        assert call == "finish", call
        lay.finish()
    assert bytes(lay.p.data[start:]) == ex.hex()
    check_escpos_parse(ex)


class _Collector:
    def __init__(self) -> None:
        self.data = b""

    def _raw(self, msg: bytes) -> None:
        self.data += msg


def check_escpos_text(ex: Example) -> None:
    out = _Collector()
    ep.EscposPrinter.text(out, ex["text"])  # the printer's own text(), on a collector instead of a port
    assert out.data == ex.hex()
    if not ex["text"].isascii():
        assert ex.hex() == escpos_docs.FS_CHINESE_ON + escpos_docs.encode_text(ex["text"])
    assert _parsed_text(ex.hex()) == ex["text"]


def _parsed_text(data: bytes) -> str:
    parser = EscPosParser()
    parser.feed(data)
    return parser.pending_page().text


def check_escpos_status(ex: Example) -> None:
    s1, s2, s4 = ex.hex()
    status = ep.decode_status(s1, s2, s4)
    for name in ("online", "paper_out", "paper_near_end", "cover_open", "can_print"):
        if name in ex.fields:
            assert str(getattr(status, name)) == ex[name], name
    if "problem" in ex.fields:
        assert status.problem == ex["problem"].strip("'\"")


def check_escpos_status_error(ex: Example) -> None:
    with pytest.raises(FrameError, match=ex["error"]):
        ep.decode_status(*(ex.hex() * 3)[:3])


# ---------------------------------------------------------------------------------- camera stream
def check_camera_part(ex: Example) -> None:
    assert scanner_stream.part_header(ex.num("length")) == ex.hex()
    assert ex.hex().decode("ascii").split("\r\n")[:3] == [
        f"--{scanner_stream.BOUNDARY.decode()}",
        "Content-Type: image/jpeg",
        f"Content-Length: {ex['length']}",
    ]


def check_camera_content_type(ex: Example) -> None:
    assert ex["header"] == scanner_stream.CONTENT_TYPE


def check_camera_url(ex: Example) -> None:
    url = ex["url"]
    scheme = urllib.parse.urlsplit(url).scheme
    assert f"{camera.CAMERA_HANDLER_PACKAGES[0]}.camera_{scheme}" == ex["handler"]
    source = camera_sim.open(url, 2592, 1944, 15.0, realtime=True)
    scene = source.scene
    got = {
        "width": str(scene.width),
        "height": str(scene.height),
        "fps": f"{scene.fps:g}",
        "seed": str(scene.seed),
        "realtime": str(source.realtime),
    }
    for name, value in got.items():
        if name in ex.fields:
            assert value == ex[name], name


# ---------------------------------------------------------------------------------- hall frames
def check_hallframe(ex: Example) -> None:
    codec = hf.HallFrameCodec()
    (frame,) = codec.feed(ex.hex())
    assert codec.error_count == 0 and frame.encode() == ex.hex()
    if "addr" in ex.fields:
        assert (frame.addr, frame.cmd, frame.data) == (ex.num("addr"), ex.num("cmd"), ex.hex("data"))
    if frame.cmd in (hf.EV_EVAL_RESULT, hf.EV_EVAL_TIMEOUT):
        pad_drv.parse_event(frame)
    elif frame.cmd == hf.EV_KEY:
        caller_drv.parse_event(frame)


CHECKS: dict[str, Callable[[Example], Any]] = {
    "idcard.request": check_idcard_request,
    "idcard.reply": check_idcard_reply,
    "idcard.error": check_idcard_error,
    "idcard.text": check_idcard_text,
    "idcard.id_check": check_idcard_id_check,
    "locker.request": check_locker_request,
    "locker.reply": check_locker_reply,
    "escpos.parse": check_escpos_parse,
    "escpos.layout": check_escpos_layout,
    "escpos.text": check_escpos_text,
    "escpos.status": check_escpos_status,
    "escpos.status_error": check_escpos_status_error,
    "camera.part": check_camera_part,
    "camera.content_type": check_camera_content_type,
    "camera.url": check_camera_url,
    "hallframe": check_hallframe,
}


def test_every_protocol_page_has_worked_examples() -> None:
    names = {p.name for p in PAGES}
    assert {"idcard-sam.md", "locker-boards.md", "escpos.md", "camera-stream.md", "evaluation-pad.md"} <= names
    for page in PAGES:
        assert load(page), f"{page.name} has no worked examples"


def test_every_example_names_a_known_check() -> None:
    for ex in EXAMPLES:
        assert ex.get("codec") in CHECKS, f"{ex.page}:{ex.line}: unknown codec {ex.get('codec')!r}"
        assert ex.get("what"), f"{ex.page}:{ex.line}: example without 'what'"


@pytest.mark.parametrize("ex", EXAMPLES, ids=lambda ex: ex.id)
def test_worked_example(ex: Example) -> None:
    CHECKS[ex["codec"]](ex)
