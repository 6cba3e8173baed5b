"""Bus credentials and access control for mosquitto, generated from hall.toml.

Every bus client logs in with its client id as user name and a random password of its own.
The ACL follows the topic layout (docs/bus.md):

* ``controller`` may read and write the whole hall subtree; it alone writes ``state/#`` and
  ``event/#`` (retained hall state and hall events).
* A kiosk or window terminal (``kiosk-1``, ``window-3``) sends requests to the controller, reads its
  own responses, the hall state and events, publishes the health and events of each device attached
  to it (``host`` in hall.toml), reads the requests to those devices and answers them on the
  controller's response topic. Only the controller sends device requests.
* A locker bank's host runs as a client of its own (client id = the device id, e.g. ``lockers-a``)
  with the same rights for that one device: a kiosk cannot command the lockers beside it.
* ``manager`` (console and CLI) sends requests and reads state, events and device health.
* ``display`` (综合屏) only reads.

Passwords are stored as mosquitto's PBKDF2-SHA512 ``$7$`` hashes in the password file; the clear
password of each client is written to ``<dir>/<client>.password`` (mode 0600), which is what
``[bus] credentials_dir`` points a component at.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from hall_bus.bus import topics
from hall_bus.config import HallConfig

PBKDF2_ITERATIONS = 101  # mosquitto_passwd's own default for $7$
PASSWORD_FILE = "passwd"
ACL_FILE = "acl"
CONF_FILE = "mosquitto-auth.conf"


class CredentialsError(RuntimeError):
    pass


def hash_password(password: str, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    """A mosquitto ``$7$`` password hash (PBKDF2-HMAC-SHA512, 12-byte salt, 64-byte key)."""
    salt = salt if salt is not None else secrets.token_bytes(12)
    key = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations, 64)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


def verify_password(password: str, hashed: str) -> bool:
    try:
        _, seven, iterations, salt, key = hashed.split("$")
    except ValueError:
        return False
    if seven != "7":
        return False
    got = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), base64.b64decode(salt), int(iterations), 64)
    return secrets.compare_digest(got, base64.b64decode(key))


@dataclass(frozen=True)
class ClientRule:
    client_id: str
    read: tuple[str, ...]
    write: tuple[str, ...]


def clients_of(config: HallConfig) -> list[ClientRule]:
    """The bus clients of a hall and what each may read and write."""
    h = topics.hall(config.hall_id)

    def own(cid: str) -> tuple[str, ...]:
        return (f"{h}/client/{cid}/availability",)

    reader = (
        f"{h}/state/#",
        f"{h}/event/#",
        f"{h}/device/+/state",
        f"{h}/device/+/availability",
        f"{h}/device/+/event/#",
        f"{h}/client/+/availability",
    )
    rules = [ClientRule("controller", (f"{h}/#",), (f"{h}/#",))]
    own_client = {d.id for d in config.devices if d.kind in SELF_HOSTED_KINDS}  # run by a host process of their own
    hosts = [k.id for k in config.kiosks] + [f"window-{w.number}" for w in config.windows]
    for host in hosts:
        devices = [d.id for d in config.devices if d.host == host and d.id not in own_client]
        rules.append(
            ClientRule(
                host,
                read=reader + (f"{h}/client/{host}/response",) + _device_read(h, devices),
                write=own(host)
                + (f"{h}/controller/request/#", f"{h}/client/controller/response")
                + _device_write(h, devices),
            )
        )
    for dev in sorted(own_client):
        rules.append(
            ClientRule(
                dev,
                read=(f"{h}/client/{dev}/response",) + _device_read(h, [dev]),
                write=own(dev) + (f"{h}/client/controller/response",) + _device_write(h, [dev]),
            )
        )
    rules.append(
        ClientRule(
            "manager", reader + (f"{h}/client/manager/response",), own("manager") + (f"{h}/controller/request/#",)
        )
    )
    rules.append(ClientRule("display", reader, own("display")))
    return rules


# Device kinds whose host runs as a bus client of its own (client id = device id): a locker bank is
# driven only by the controller, so even the kiosk it stands beside may not command it.
SELF_HOSTED_KINDS = ("locker",)


def _device_read(h: str, devices: list[str]) -> tuple[str, ...]:
    """A host reads the requests to its devices (only the controller may send them)."""
    return tuple(f"{h}/device/{d}/request/#" for d in devices)


def _device_write(h: str, devices: list[str]) -> tuple[str, ...]:
    """A host publishes its devices' health and events, never requests to them."""
    return tuple(
        t for d in devices for t in (f"{h}/device/{d}/state", f"{h}/device/{d}/availability", f"{h}/device/{d}/event/#")
    )


def acl_text(config: HallConfig) -> str:
    lines = [
        f"# mosquitto ACL for hall {config.hall_id}, generated by `hallkit bus credentials` from {config.source}",
        "",
    ]
    for rule in clients_of(config):
        lines.append(f"user {rule.client_id}")
        both = [t for t in rule.read if t in rule.write]
        lines += [f"topic readwrite {t}" for t in both]
        lines += [f"topic read {t}" for t in rule.read if t not in both]
        lines += [f"topic write {t}" for t in rule.write if t not in both]
        lines.append("")
    return "\n".join(lines)


def write_credentials(config: HallConfig, out_dir: str | Path, rotate: bool = False) -> Path:
    """Write passwd, acl and a mosquitto.conf snippet to ``out_dir``; keep existing passwords unless ``rotate``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)
    entries = []
    for rule in clients_of(config):
        pw_file = out / f"{rule.client_id}.password"
        if rotate or not pw_file.exists():
            password = secrets.token_urlsafe(24)
            fd = os.open(pw_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(password + "\n")
        else:
            password = read_password(out, rule.client_id)
        entries.append(f"{rule.client_id}:{hash_password(password)}")
    passwd = out / PASSWORD_FILE
    fd = os.open(passwd, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(entries) + "\n")
    (out / ACL_FILE).write_text(acl_text(config))
    (out / CONF_FILE).write_text(mosquitto_conf(out))
    return out


def mosquitto_conf(credentials_dir: str | Path) -> str:
    d = Path(credentials_dir).resolve()
    return f"password_file {d / PASSWORD_FILE}\nacl_file {d / ACL_FILE}\n"


def read_password(credentials_dir: str | Path, client_id: str) -> str:
    path = Path(credentials_dir) / f"{client_id}.password"
    try:
        password = path.read_text().strip()
    except FileNotFoundError:
        raise CredentialsError(
            f"{path}: no password for bus client {client_id!r}; run `hallkit bus credentials`"
        ) from None
    if not password:
        raise CredentialsError(f"{path}: empty password file")
    return password
