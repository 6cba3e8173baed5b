"""Secret files of the hall: read a 0600 file, or create it with 64 random hex characters on first use.

Used for the identity salt (``devices/identity.py``) and the pickup key
(``hall_bus/features/pickup/security.py``). The file is created with ``O_EXCL`` at mode 0600, so two
processes starting together agree on one secret and nobody else on the machine can read it. Each
secret is read once per process and cached by its resolved path.
"""

from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path

_lock = threading.Lock()
_cache: dict[str, bytes] = {}


def read_or_create(path: str | os.PathLike[str], min_len: int, what: str = "secret") -> bytes:
    """The secret in ``path`` (stripped), creating the folder and the file (0600, 32 random bytes as
    hex) if it does not exist. A file holding fewer than ``min_len`` bytes is a ValueError that names
    ``what`` (delete the file to create a new one)."""
    path = Path(path)
    key = str(path.resolve())
    with _lock:
        if key in _cache:
            return _cache[key]
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            secret = path.read_bytes().strip()
            if len(secret) < min_len:
                raise ValueError(f"{path}: {what} is too short (delete it to create a new one)") from None
        else:
            secret = secrets.token_hex(32).encode("ascii")
            with os.fdopen(fd, "wb") as f:
                f.write(secret)
        _cache[key] = secret
        return secret


def hall_key(data_dir: str | os.PathLike[str], file_name: str, env_name: str, what: str) -> bytes:
    """A key of the hall: the environment variable ``env_name`` when set (at least 16 characters; a
    machine without the store's folder, e.g. a second web console), else the file ``file_name`` in
    ``data_dir`` made once (:func:`read_or_create`)."""
    env = os.environ.get(env_name)
    if env:
        if len(env) < 16:
            raise ValueError(f"{env_name} is too short (at least 16 characters)")
        return env.encode("utf-8")
    return read_or_create(Path(data_dir) / file_name, 32, what)
