"""Bus credentials, access control and TLS for mosquitto, generated from hall.toml.

Every bus client logs in with its client id as user name and a random password of its own; its role
comes from that id (:func:`hall_bus.contracts.roles.principal_of`). The ACL follows the topic layout
(docs/bus.md) and the roles table (docs/security.md):

* ``controller`` may read and write the whole hall subtree; it alone writes ``state/#``,
  ``event/#``, every client's ``response`` topic and the devices' ``request`` topics.
* Every other client writes only ``client/<its id>/request/<op>`` for the ops its role may call,
  reads its own ``response`` topic and (except locker hosts) the hall state, events and device health.
* A kiosk or window terminal (``kiosk-1``, ``window-3``) also publishes the health and events of each
  device attached to it (``host`` in hall.toml), reads the requests to those devices and answers them
  on ``device/<id>/response``.
* A locker bank's host runs as a client of its own (client id = the device id, e.g. ``lockers-a``)
  with those rights for that one device only: a kiosk cannot command the lockers beside it.
* The staff web console (client ``web``) is the host of the devices it serves to browsers (a window
  tablet: ``host = "web"`` or a ``web://`` URL, :func:`web_hosted`) and has a host's rights for them.

Passwords are stored as mosquitto's PBKDF2-SHA512 ``$7$`` hashes in the password file; the clear
password of each client is written to ``<dir>/<client>.password`` (mode 0600), which is what
``[bus] credentials_dir`` points a component at. The hall CA, the broker's certificate (and with
``[bus] client_certs`` one certificate per client) are written beside them (:mod:`hall_bus.bus.tls`).
"""

from __future__ import annotations

import base64
import grp
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from hall_bus.bus import tls, topics
from hall_bus.config import DeviceConfig, HallConfig
from hall_bus.contracts.roles import SELF_HOSTED_KINDS, Role, ops_of, principal_of

PBKDF2_ITERATIONS = 101  # mosquitto_passwd's own default for $7$
PASSWORD_FILE = "passwd"
ACL_FILE = "acl"
CONF_FILE = "mosquitto.conf"  # the broker's whole configuration (mosquitto -c <dir>/mosquitto.conf)


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


EXTRA_CLIENTS = ("web", "integrator")  # clients every hall has beside hall.toml's: the web console, a platform
WEB_HOST = "web"  # the client that hosts the devices served to browsers (window tablets)


def web_hosted(device: DeviceConfig) -> bool:
    """Whether the staff web console hosts ``device`` (its ``host`` is "web", or its URL is ``web://``)."""
    return device.host == WEB_HOST or device.url.startswith("web://")


def clients_of(config: HallConfig, extra: tuple[str, ...] = EXTRA_CLIENTS) -> list[ClientRule]:
    """The bus clients of a hall and what each may read and write, from the roles table: a client may
    publish the request topics of the operations its role may call, and nothing else of the controller's."""
    h = topics.hall(config.hall_id)

    def own(cid: str) -> tuple[str, ...]:
        return (f"{h}/client/{cid}/availability",)

    def asks(cid: str, role: Role) -> tuple[str, ...]:
        return tuple(topics.client_request(config.hall_id, cid, op) for op in ops_of(role))

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
    hosts: list[tuple[str, Role]] = [(k.id, "kiosk") for k in config.kiosks]
    hosts += [(f"window-{w.number}", "window") for w in config.windows]
    for host, role in hosts:
        devices = [d.id for d in config.devices if d.host == host and d.id not in own_client and not web_hosted(d)]
        rules.append(
            ClientRule(
                host,
                read=reader + (f"{h}/client/{host}/response",) + _device_read(h, devices),
                write=own(host) + asks(host, role) + _device_write(h, devices),
            )
        )
    for dev in sorted(own_client):
        rules.append(
            ClientRule(
                dev,
                # the hall layout too: a locker station (hallkit locker-host --station) learns its bank from it
                read=(topics.hall_state(config.hall_id), f"{h}/client/{dev}/response") + _device_read(h, [dev]),
                write=own(dev) + _device_write(h, [dev]),
            )
        )
    for cid in ("manager", "display", *extra):
        fixed = principal_of(config, cid).role
        assert fixed is not None, cid
        devices = [d.id for d in config.devices if cid == WEB_HOST and web_hosted(d) and d.id not in own_client]
        rules.append(
            ClientRule(
                cid,
                reader + (f"{h}/client/{cid}/response",) + _device_read(h, devices),
                own(cid) + asks(cid, fixed) + _device_write(h, devices),
            )
        )
    return rules


def _device_read(h: str, devices: list[str]) -> tuple[str, ...]:
    """A host reads the requests to its devices (only the controller may send them)."""
    return tuple(f"{h}/device/{d}/request/#" for d in devices)


def _device_write(h: str, devices: list[str]) -> tuple[str, ...]:
    """A host publishes its devices' health, events and answers to the controller, never requests to them."""
    return tuple(
        t
        for d in devices
        for t in (
            f"{h}/device/{d}/state",
            f"{h}/device/{d}/availability",
            f"{h}/device/{d}/event/#",
            f"{h}/device/{d}/response",
        )
    )


def acl_text(config: HallConfig) -> str:
    lines = [
        f"# mosquitto ACL for hall {config.hall_id}, generated by `hallkit bus credentials` from {config.source}",
        "# from the roles table (hall_bus/contracts/roles.py, docs/security.md); do not edit by hand",
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


def broker_names(config: HallConfig) -> list[str]:
    """The names and addresses the broker certificate carries."""
    names = list(config.bus.broker_names) or [config.bus.host, "localhost", "127.0.0.1"]
    return list(dict.fromkeys(n for n in names if n))


def write_credentials(config: HallConfig, out_dir: str | Path, rotate: bool = False) -> Path:
    """Write passwd, acl, the hall CA and the broker's certificate (and, with ``[bus] client_certs``,
    one per client), and the mosquitto configuration to ``out_dir``. Existing passwords and the CA are
    kept unless ``rotate`` (which makes new passwords; the CA is kept: delete ca.* to replace it)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o750)
    entries = []
    rules = clients_of(config)
    for rule in rules:
        pw_file = out / f"{rule.client_id}.password"
        if rotate or not pw_file.exists():
            password = secrets.token_urlsafe(24)
            _write_private(pw_file, (password + "\n").encode())
        else:
            password = read_password(out, rule.client_id)
        entries.append(f"{rule.client_id}:{hash_password(password)}")
    _write_private(out / PASSWORD_FILE, ("\n".join(entries) + "\n").encode(), broker=True)
    _write_private(out / ACL_FILE, acl_text(config).encode(), broker=True)
    ca = _hall_ca(config, out)
    names = broker_names(config)
    server = tls.issue(ca, f"hallkit-broker-{config.hall_id}", tuple(names))
    (out / tls.BROKER_CERT).write_bytes(server.cert_pem)
    _write_private(out / tls.BROKER_KEY, server.key_pem, broker=True)
    if config.bus.client_certs:
        for rule in rules:
            client = tls.issue(ca, rule.client_id, server=False)
            (out / f"{rule.client_id}.crt").write_bytes(client.cert_pem)
            _write_private(out / f"{rule.client_id}.key", client.key_pem)
    (out / CONF_FILE).write_text(mosquitto_conf(out, config))
    _give_broker(out)
    return out


def _hall_ca(config: HallConfig, out: Path) -> tls.Issued:
    cert, key = out / tls.CA_CERT, out / tls.CA_KEY
    if cert.exists() and key.exists():
        return tls.Issued(cert.read_bytes(), key.read_bytes())
    ca = tls.make_ca(config.hall_id)
    cert.write_bytes(ca.cert_pem)
    _write_private(key, ca.key_pem)
    return ca


def _write_private(path: Path, data: bytes, broker: bool = False) -> None:
    """Write a secret: 0600, or 0640 for what the broker's own user must read (see _give_broker)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640 if broker else 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, 0o640 if broker else 0o600)


BROKER_FILES = (PASSWORD_FILE, ACL_FILE, tls.BROKER_KEY)


def _give_broker(out: Path) -> None:
    """mosquitto started as root drops to user ``mosquitto``: let that group read the directory and the
    broker's files (password hashes, ACL, its key), and nothing else (client passwords stay 0600)."""
    if os.geteuid() != 0:
        return
    try:
        gid = grp.getgrnam("mosquitto").gr_gid
    except KeyError:
        return
    os.chown(out, -1, gid)
    for name in (*BROKER_FILES, tls.BROKER_CERT, tls.CA_CERT, CONF_FILE):
        if (out / name).exists():
            os.chown(out / name, -1, gid)


# Each client's queue in the broker is bounded: a client that floods more than its reader takes loses
# its own excess at the broker (cheaply) instead of making the broker hold and encrypt it for later,
# which would slow every other client (docs/security.md, benchmarks/bus_attack.py).
BROKER_LIMITS = "max_queued_messages 1000\nmax_queued_bytes 4194304\n"


def mosquitto_conf(credentials_dir: str | Path, config: HallConfig | None = None) -> str:
    """The broker's authentication and ACL lines; with a hall config, the whole configuration: also
    the TLS listener on ``[bus] port`` and, only if ``[bus] plain_loopback_port`` asks, a plain
    listener on 127.0.0.1 (for tools on the broker's own machine)."""
    d = Path(credentials_dir).resolve()
    lines = [f"password_file {d / PASSWORD_FILE}", f"acl_file {d / ACL_FILE}"]
    if config is not None:
        lines = ["allow_anonymous false", *lines, "persistence false", *BROKER_LIMITS.split("\n")[:-1]]
        lines.append(f"listener {config.bus.port}")
        lines += tls_listener_lines(d, config.bus.client_certs)
        if config.bus.plain_loopback_port:
            lines.append(f"listener {config.bus.plain_loopback_port} 127.0.0.1")
    return "\n".join(lines) + "\n"


def tls_listener_lines(credentials_dir: str | Path, client_certs: bool = False) -> list[str]:
    """The lines that make the listener above them a TLS listener with the hall CA's broker certificate."""
    d = Path(credentials_dir).resolve()
    return [
        f"cafile {d / tls.CA_CERT}",
        f"certfile {d / tls.BROKER_CERT}",
        f"keyfile {d / tls.BROKER_KEY}",
        "tls_version tlsv1.2",
        f"require_certificate {'true' if client_certs else 'false'}",
    ]


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
