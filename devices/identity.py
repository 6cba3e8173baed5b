"""Personal data rules of the hall: the salted identity token for the bus, and age bands (the masking
rules for screens and logs are ``drivers.personal``).

* ``identity_token``: HMAC-SHA256 hex of the normalised number under the hall's secret salt; the
  salt comes from ``HALLKIT_IDENTITY_SALT`` or a 0600 file ``identity.salt`` in the hall's data_dir,
  created with 32 random bytes on first use.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import threading
from pathlib import Path

from devices.secret_file import read_or_create

SALT_ENV = "HALLKIT_IDENTITY_SALT"
SALT_FILE = "identity.salt"
AGE_BANDS = ("<18", "18-59", "60-69", "70+")

_lock = threading.Lock()
_data_dir: Path | None = None


def configure(data_dir: str | os.PathLike[str]) -> None:
    """Tell this process where the hall keeps its data (the salt file lives there)."""
    global _data_dir
    with _lock:
        _data_dir = Path(data_dir)


def hall_salt(data_dir: str | os.PathLike[str] | None = None) -> bytes:
    """The hall's identity salt: the environment's, else the data_dir file (created 0600 on first use)."""
    env = os.environ.get(SALT_ENV)
    if env:
        return env.encode("utf-8")
    folder = Path(data_dir) if data_dir is not None else (_data_dir or Path(os.environ.get("HALLKIT_DATA_DIR", "var")))
    return read_or_create(folder / SALT_FILE, 16, "identity salt")


def identity_token(id_number: str, salt: bytes | str | None = None) -> str:
    """The salted HMAC-SHA256 hex token that stands for a person on the bus."""
    if salt is None:
        salt = hall_salt()
    elif isinstance(salt, str):
        salt = salt.encode("utf-8")
    return hmac.new(salt, (id_number or "").strip().upper().encode("utf-8"), hashlib.sha256).hexdigest()


def age_years(birth: dt.date, today: dt.date | None = None) -> int:
    today = today or dt.date.today()
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def age_band(age: int) -> str:
    if age < 18:
        return "<18"
    if age < 60:
        return "18-59"
    if age < 70:
        return "60-69"
    return "70+"
