"""The card text of a second-generation ID card reader's ``30 01`` reply: the 256-byte UCS-2LE block
and its three layouts (resident card, 'J' 港澳台居民居住证, 'I' 外国人永久居留身份证), and the GB 11643
check character of the ID number (docs/protocols/idcard-sam.md, "Text block").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from drivers.errors import FrameError
from drivers.personal import mask_id, mask_name

NATIONS = (
    "汉",
    "蒙古",
    "回",
    "藏",
    "维吾尔",
    "苗",
    "彝",
    "壮",
    "布依",
    "朝鲜",
    "满",
    "侗",
    "瑶",
    "白",
    "土家",
    "哈尼",
    "哈萨克",
    "傣",
    "黎",
    "傈僳",
    "佤",
    "畲",
    "高山",
    "拉祜",
    "水",
    "东乡",
    "纳西",
    "景颇",
    "柯尔克孜",
    "土",
    "达斡尔",
    "仫佬",
    "羌",
    "布朗",
    "撒拉",
    "毛南",
    "仡佬",
    "锡伯",
    "阿昌",
    "普米",
    "塔吉克",
    "怒",
    "乌孜别克",
    "俄罗斯",
    "鄂温克",
    "德昂",
    "保安",
    "裕固",
    "京",
    "塔塔尔",
    "独龙",
    "鄂伦春",
    "赫哲",
    "门巴",
    "珞巴",
    "基诺",
)
NATION_CODES = {f"{i + 1:02d}": n + "族" for i, n in enumerate(NATIONS)} | {"97": "其他", "98": "外国血统中国籍人士"}
SEX_CODES = {"1": "male", "2": "female", "0": "unknown", "9": "unspecified"}
SEX_ZH = {"male": "男", "female": "女", "unknown": "未知", "unspecified": "未说明"}
CARD_TYPES = ("resident", "J", "I")
LONG_TERM = "长期"
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"

# (name, byte offset, byte length) per layout
RESIDENT_FIELDS = (
    ("name", 0, 30),
    ("sex", 30, 2),
    ("nation", 32, 4),
    ("birth", 36, 16),
    ("address", 52, 70),
    ("id_number", 122, 36),
    ("issuer", 158, 30),
    ("valid_from", 188, 16),
    ("valid_to", 204, 16),
)
J_FIELDS = RESIDENT_FIELDS + (("pass_number", 220, 18), ("issue_count", 238, 4))
I_FIELDS = (
    ("name_en", 0, 120),
    ("sex", 120, 2),
    ("id_number", 122, 30),
    ("nation", 152, 6),
    ("name", 158, 30),
    ("valid_from", 188, 16),
    ("valid_to", 204, 16),
    ("birth", 220, 16),
    ("version", 236, 4),
    ("issuer", 240, 8),
)
TYPE_FLAG_OFFSET = 248


def id_check_digit(first17: str) -> str:
    """The GB 11643 (ISO 7064 MOD 11-2) check character of the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("need the first 17 digits of an ID number")
    return ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def id_checksum_ok(number: str) -> bool:
    number = number.strip().upper()
    return len(number) == 18 and number[:17].isdigit() and id_check_digit(number[:17]) == number[17]


@dataclasses.dataclass(frozen=True)
class Card:
    """One card's text. ``valid_to`` is None for 长期 (no expiry). ``checksum_ok`` tells whether the
    number's MOD 11-2 check character is right; it is None for the 15-character permanent residence
    number of 'I' cards issued before December 2023, whose check rule is not public."""

    card_type: str  # resident | J | I
    name: str
    sex: str  # male | female | unknown | unspecified
    nation: str  # 汉族 ...; nationality code (e.g. USA) on an 'I' card; "" on a 'J' card
    birth: dt.date
    address: str
    id_number: str
    issuer: str
    valid_from: dt.date
    valid_to: dt.date | None
    checksum_ok: bool | None
    name_en: str = ""  # 'I' cards
    pass_number: str = ""  # 'J' cards: 港澳台居民 pass number
    issue_count: int | None = None  # 'J' cards

    @property
    def masked_id(self) -> str:
        return mask_id(self.id_number)

    def __repr__(self) -> str:  # never a full number or name in a log line or traceback
        return f"Card({self.card_type}, {self.masked_id}, valid_to={self.valid_to})"

    __str__ = __repr__

    def public(self, reveal: bool = False) -> dict[str, Any]:
        return {
            "card_type": self.card_type,
            "id_masked": self.masked_id,
            "name": self.name if reveal else mask_name(self.name),
            "sex": self.sex,
            "nation": self.nation,
            "birth": self.birth.isoformat(),
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "checksum_ok": self.checksum_ok,
            **({"id_number": self.id_number, "address": self.address, "issuer": self.issuer} if reveal else {}),
        }


def _field(text: bytes, off: int, size: int) -> str:
    try:
        return text[off : off + size].decode("utf-16-le").rstrip(" \x00")
    except UnicodeDecodeError:
        raise FrameError(f"card text at byte {off} is not UCS-2") from None


def _date(value: str, what: str) -> dt.date:
    try:
        return dt.datetime.strptime(value.strip(), "%Y%m%d").date()
    except ValueError:
        raise FrameError(f"card {what} is not a YYYYMMDD date") from None


def _expiry(value: str) -> dt.date | None:
    """The valid-to date; None for 长期 (no expiry)."""
    return None if value.strip() in (LONG_TERM, "") else _date(value, "valid-to date")


def card_type_of(text: bytes) -> str:
    flag = _field(text, TYPE_FLAG_OFFSET, 2)
    return flag if flag in ("J", "I") else "resident"


def parse_text(text: bytes) -> Card:
    """The 256-byte UCS-2LE text block -> Card (resident, 'J' or 'I' layout)."""
    if len(text) != 256:
        raise FrameError(f"card text block is {len(text)} bytes, expected 256")
    kind = card_type_of(text)
    layout = {"resident": RESIDENT_FIELDS, "J": J_FIELDS, "I": I_FIELDS}[kind]
    f = {name: _field(text, off, size) for name, off, size in layout}
    number = f["id_number"].upper()
    if kind == "I":
        nation = f["nation"]
        checksum_ok = id_checksum_ok(number) if len(number) == 18 else None
    else:
        nation = NATION_CODES.get(f["nation"], f["nation"]) if f["nation"] else ""
        checksum_ok = id_checksum_ok(number)
    count = f.get("issue_count", "")
    return Card(
        card_type=kind,
        name=f["name"],
        sex=SEX_CODES.get(f["sex"], "unknown"),
        nation=nation,
        birth=_date(f["birth"], "birth date"),
        address=f.get("address", ""),
        id_number=number,
        issuer=f["issuer"],
        valid_from=_date(f["valid_from"], "valid-from date"),
        valid_to=_expiry(f["valid_to"]),
        checksum_ok=checksum_ok,
        name_en=f.get("name_en", ""),
        pass_number=f.get("pass_number", ""),
        issue_count=int(count) if count.isdigit() else None,
    )


def encode_text(card: Card) -> bytes:
    """The inverse of parse_text (for simulators and fixtures)."""
    text = bytearray(" ".encode("utf-16-le") * 128)
    sex = {v: k for k, v in SEX_CODES.items()}.get(card.sex, "0")
    if card.card_type == "I":
        layout: tuple[tuple[str, int, int], ...] = I_FIELDS
        values = {"nation": card.nation, "name_en": card.name_en, "version": "01"}
    else:
        layout = J_FIELDS if card.card_type == "J" else RESIDENT_FIELDS
        codes = {v: k for k, v in NATION_CODES.items()}
        values = {
            "nation": codes.get(card.nation, card.nation),
            "address": card.address,
            "pass_number": card.pass_number,
            "issue_count": f"{card.issue_count or 0:02d}",
        }
    values |= {
        "name": card.name,
        "sex": sex,
        "birth": card.birth.strftime("%Y%m%d"),
        "id_number": card.id_number,
        "issuer": card.issuer,
        "valid_from": card.valid_from.strftime("%Y%m%d"),
        "valid_to": card.valid_to.strftime("%Y%m%d") if card.valid_to else LONG_TERM,
    }
    for name, off, size in layout:
        raw = values.get(name, "").encode("utf-16-le")
        if len(raw) > size:
            raise ValueError(f"card field {name} is longer than {size // 2} characters")
        text[off : off + len(raw)] = raw
    if card.card_type in ("J", "I"):
        text[TYPE_FLAG_OFFSET : TYPE_FLAG_OFFSET + 2] = card.card_type.encode("utf-16-le")
    return bytes(text)
