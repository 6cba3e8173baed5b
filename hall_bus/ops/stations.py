"""The station directories of a hall, written from hall.toml by ``hallkit deploy stations`` (docs/deploy.md).

Every station (hall_bus/ops/station.py) runs from its own directory ``/etc/hallkit/stations/<bus
client id>/`` on its machine. This module writes one per station of the hall into an output directory:

==============  ==========================  =====================================================
station         id                          its devices
==============  ==========================  =====================================================
a kiosk         its ``[[kiosks]]`` id       the devices whose ``host`` is the kiosk (not a locker bank)
a window PC     ``window-<n>``              the window's devices (only windows that have devices)
the display     ``display``                 devices whose ``host`` is ``display`` (usually none)
a locker bank   its ``[[devices]]`` id      the bank itself (its ``host`` stays the machine it hangs off)
==============  ==========================  =====================================================

Each directory holds ``station.toml`` (``[station]``, the ``[bus]`` a station needs: host, port,
tls, server_name, client_certs, timeouts and ``credentials_dir = "."``; its own ``[[devices]]`` with
their url, profile and options), the hall CA ``ca.crt`` and the station's own ``<id>.password``
(0600), copied from where ``hallkit bus credentials`` wrote them (``[bus] credentials_dir``, the CA
``[bus] ca_file`` if set); with ``[bus] client_certs`` also its ``<id>.crt`` and ``<id>.key``.
Nothing else of the hall: no broker configuration, no other station's password, no CA key.

A station whose role needs a secret of the hall gets exactly that one, as a file in ``data_dir/``
of its directory, to be installed in its ``data_dir`` (0600): a locker bank the pickup key
``pickup.secret`` (it checks the controller's locker commands with it), a kiosk the identity salt
``identity.salt`` (the identity tokens it makes from a card or 居民码 must be the controller's). Both
come from ``$HALLKIT_PICKUP_SECRET``/``$HALLKIT_IDENTITY_SALT`` when set, else from the hall's
``[hall] data_dir``. The controller makes the pickup key when it first starts: before that the command
refuses. The identity salt is made by the first process that needs it; so that every kiosk and the
web console share one, the command makes it in the hall's data_dir when there is none yet, and says so.

With a relative ``data_dir`` (``--data-dir var``) the secret is written where the station reads
it (``<id>/var/``), so the directory runs as it is (the tests do that).
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from devices.identity import SALT_ENV, SALT_FILE
from devices.secret_file import read_or_create
from hall_bus.bus import tls
from hall_bus.bus.credentials import broker_names, web_hosted
from hall_bus.config import ConfigError, DeviceConfig, HallConfig
from hall_bus.contracts.roles import SELF_HOSTED_KINDS
from hall_bus.features.pickup.security import SECRET_ENV, SECRET_FILE
from hall_bus.ops.station import STATION_FILE
from hall_bus.ops.units import Layout, machines

SUMMARY_FILE = "stations.txt"
SECRETS_DIR = "data_dir"  # in a station's directory: what goes into its data_dir (an absolute data_dir)


@dataclass(frozen=True)
class HallSecret:
    """A secret of the hall a station's role needs on its own disk."""

    file: str  # its file name in a data_dir
    env: str  # the environment variable that may hold it instead
    what: str  # what it is and why the station needs it
    made_by_controller: bool  # the controller makes it at its first start (else: the first process to need it)


PICKUP_KEY = HallSecret(
    SECRET_FILE, SECRET_ENV, "the hall's pickup key: the locker host checks the controller's commands with it", True
)
IDENTITY_SALT = HallSecret(
    SALT_FILE, SALT_ENV, "the hall's identity salt: the kiosk's identity tokens must be the controller's", False
)
SECRETS = {"kiosk": (IDENTITY_SALT,), "locker": (PICKUP_KEY,), "window": (), "display": ()}


@dataclass(frozen=True)
class Station:
    """One station of the hall, as hall.toml describes it."""

    id: str
    role: str  # kiosk | window | display | locker
    name: str
    devices: tuple[DeviceConfig, ...]
    unit: str  # the systemd unit (instance) that runs it
    machine: str  # the machine that unit is enabled on (machines.txt of `hallkit deploy units`)

    @property
    def secrets(self) -> tuple[HallSecret, ...]:
        return SECRETS[self.role]


@dataclass
class StationFiles:
    """What is written for one station: file name (relative to its directory) -> (bytes, mode)."""

    station: Station
    files: dict[str, tuple[bytes, int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Options:
    host: str | None = None  # the broker's address as the stations reach it (default [bus] host)
    only: tuple[str, ...] = ()  # station ids to write (default all)
    data_dir: str = Layout().state  # the stations' data_dir
    credentials: bool = True  # False: no ca.crt and passwords (the technician adds them)
    layout: Layout = Layout()


def stations_of(config: HallConfig, lay: Layout = Layout()) -> list[Station]:
    """Every station of the hall: the kiosks, the window PCs with devices, the display, the locker banks."""
    plan = machines(config, lay)

    def on(unit: str) -> str:
        return next((m for m, units in plan.items() if unit in units), "hall-server")

    def hosted(client: str) -> tuple[DeviceConfig, ...]:
        return tuple(
            d for d in config.devices if d.host == client and d.kind not in SELF_HOSTED_KINDS and not web_hosted(d)
        )

    found = []
    for k in config.kiosks:
        unit = f"hallkit-kiosk@{k.id}.service"
        found.append(Station(k.id, "kiosk", k.name, hosted(k.id), unit, on(unit)))
    for w in config.windows:
        client = f"window-{w.number}"
        if hosted(client):
            unit = f"hallkit-window-host@{w.number}.service"
            found.append(Station(client, "window", w.name, hosted(client), unit, on(unit)))
    found.append(Station("display", "display", "", hosted("display"), "hallkit-display.service", "display"))
    for d in config.devices:
        if d.kind in SELF_HOSTED_KINDS:
            unit = f"hallkit-locker-host@{d.id}.service"
            found.append(Station(d.id, "locker", "", (d,), unit, on(unit)))
    return found


def toml_value(value: object) -> str:
    """A TOML value: strings, integers, floats, booleans, arrays and inline tables (JSON spells them alike)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        raise ValueError(f"{value!r} has no TOML spelling")
    return json.dumps(value, ensure_ascii=False)


def _key(key: object) -> str:
    return str(key) if re.fullmatch(r"[A-Za-z0-9_-]+", str(key)) else json.dumps(str(key), ensure_ascii=False)


def _table(name: str, fields: dict[str, object]) -> str:
    return f"{name}\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in fields.items())


def station_toml(config: HallConfig, station: Station, opts: Options) -> str:
    """The station's station.toml: [station], the [bus] it needs (nothing secret), its own [[devices]]."""
    bus = config.bus
    lay = opts.layout
    head = (
        f"# Station {station.id} of {config.hall_id} (role {station.role}), written by `hallkit deploy stations`\n"
        f"# from {config.source}. Machine {station.machine}: {lay.station(station.id)}/, run by {station.unit}.\n"
    )
    fields: dict[str, object] = {"hall": config.hall_id, "id": station.id, "role": station.role}
    fields |= {"name": station.name} if station.name else {}
    text = head + _table("[station]", fields | {"data_dir": opts.data_dir})
    link: dict[str, object] = {"host": opts.host or bus.host, "port": bus.port, "tls": bus.tls}
    link |= {"server_name": bus.server_name} if bus.server_name else {}
    link |= {"client_certs": True} if bus.client_certs else {}
    link |= {
        "credentials_dir": ".",
        "request_timeout_s": bus.request_timeout_s,
        "keepalive_s": bus.keepalive_s,
        "max_clock_skew_s": bus.max_clock_skew_s,
    }
    text += "\n" + _table("[bus]", link)
    for d in station.devices:
        dev: dict[str, object] = {"id": d.id, "kind": d.kind, "url": d.url}
        dev |= {"profile": d.profile} if d.profile else {}
        dev |= {"host": d.host} if d.host else {}
        dev |= {"window": d.window} if d.window is not None else {}
        dev |= {"options": d.options} if d.options else {}
        text += "\n" + _table("[[devices]]", dev)
    return text


def secrets_dir(opts: Options) -> str:
    """Where a station directory holds the secrets for its data_dir: the data_dir itself when relative."""
    return opts.data_dir if not PurePosixPath(opts.data_dir).is_absolute() else SECRETS_DIR


def build(config: HallConfig, opts: Options = Options()) -> list[StationFiles]:
    """Every file of every station asked for, read and checked before anything is written: a
    ConfigError naming the hall.toml key when something the stations need is not there."""
    src = config.source
    every = stations_of(config, opts.layout)
    unknown = [i for i in opts.only if i not in {s.id for s in every}]
    if unknown:
        known = ", ".join(s.id for s in every)
        raise ConfigError(src, "--only", f"no station {', '.join(unknown)} in this hall (its stations: {known})")
    chosen = [s for s in every if not opts.only or s.id in opts.only]
    creds = _credentials(config, opts) if opts.credentials else None
    out = []
    to_make: list[tuple[StationFiles, str, Path]] = []  # a secret no process has made yet
    for station in chosen:
        files = StationFiles(station)
        files.files[STATION_FILE] = (station_toml(config, station, opts).encode("utf-8"), 0o640)
        if creds is not None:
            files.files |= _logins(config, station, *creds)
        for secret in station.secrets:
            name = f"{secrets_dir(opts)}/{secret.file}"
            value, source = _hall_secret(config, secret)
            if isinstance(value, Path):
                to_make.append((files, name, value))
            else:
                files.files[name] = (value, 0o600)
            files.notes.append(f"{secret.file}: {secret.what} ({source})")
        out.append(files)
    for files, name, path in to_make:  # only now that everything else was found
        files.files[name] = (_make_secret(path), 0o600)
    return out


def _logins(config: HallConfig, station: Station, ca: Path | None, folder: Path) -> dict[str, tuple[bytes, int]]:
    """The hall CA and the station's own password (and certificate and key with [bus] client_certs)."""
    files = {tls.CA_CERT: (ca.read_bytes(), 0o640)} if ca is not None else {}
    names = [f"{station.id}.password"]
    names += [f"{station.id}.crt", f"{station.id}.key"] if config.bus.client_certs else []
    for name in names:
        path = folder / name
        if not path.is_file():
            raise ConfigError(
                config.source,
                "bus.credentials_dir",
                f"{path} is missing: run `hallkit bus credentials --config {config.source} --out {folder}` "
                f"first (again if {station.id} was added to hall.toml since)",
            )
        files[name] = (path.read_bytes(), 0o644 if name.endswith(".crt") else 0o600)
    return files


def _credentials(config: HallConfig, opts: Options) -> tuple[Path | None, Path]:
    """The hall CA (None when the bus has no TLS and no CA was written) and the credentials directory."""
    bus, src = config.bus, config.source
    if not bus.credentials_dir:
        raise ConfigError(
            src,
            "bus.credentials_dir",
            "is not set, so the stations have no logins: run `hallkit bus credentials --config "
            f"{src} --out {opts.layout.bus_dir}` and set [bus] credentials_dir to that directory, or give "
            "--without-credentials to write the stations without their CA and passwords",
        )
    folder = Path(bus.credentials_dir)
    ca = Path(bus.ca_file) if bus.ca_file else folder / tls.CA_CERT
    if not ca.is_file():
        if bus.tls:
            key = "bus.ca_file" if bus.ca_file else "bus.credentials_dir"
            raise ConfigError(src, key, f"the hall CA {ca} is missing: run `hallkit bus credentials` first")
        return None, folder
    if bus.tls:
        reached = bus.server_name or opts.host or bus.host
        cert = folder / tls.BROKER_CERT
        names = tls.certificate_names(cert.read_bytes()) if cert.is_file() else broker_names(config)
        if reached not in names:
            raise ConfigError(
                src,
                "bus.broker_names",
                f"the stations would check the broker's certificate for {reached!r}, but it is made for "
                f"{', '.join(names)}: add {reached!r} to [bus] broker_names and run `hallkit bus credentials` "
                "again, or set [bus] server_name to one of those names",
            )
    return ca, folder


def _hall_secret(config: HallConfig, secret: HallSecret) -> tuple[bytes | Path, str]:
    """The secret's bytes, or the path where it is to be made, and a few words on where it comes from."""
    env = os.environ.get(secret.env)
    if env:
        return env.encode("utf-8"), f"from ${secret.env}"
    path = Path(config.data_dir) / secret.file
    if path.is_file():
        return path.read_bytes().strip(), f"from {path}"
    if secret.made_by_controller:
        raise ConfigError(
            config.source,
            "hall.data_dir",
            f"{path}, {secret.what.split(':')[0]}, is not there yet: start the controller once (it makes it), "
            "then run this on the hall server again",
        )
    if not Path(config.data_dir).is_dir():
        raise ConfigError(
            config.source,
            "hall.data_dir",
            f"{config.data_dir} does not exist, so the hall has no {secret.file} yet: run this on the hall server",
        )
    return path, f"made now in {path}: the hall's from now on, for every kiosk and the web console; keep it"


def _make_secret(path: Path) -> bytes:
    """Make the hall's secret file (0600) and, run as root, give it the data_dir's owner (the hall's user)."""
    value = read_or_create(path, 16, path.name)
    if os.geteuid() == 0:
        st = path.parent.stat()
        os.chown(path, st.st_uid, st.st_gid)
    return value


def write(built: list[StationFiles], out: Path, summary: str) -> list[Path]:
    """Write each station's directory ``out/<id>/`` and ``out/stations.txt``; the station directories' paths."""
    out.mkdir(mode=0o700, parents=True, exist_ok=True)  # it holds passwords: only its maker reads it
    written = []
    for files in built:
        home = out / files.station.id
        home.mkdir(exist_ok=True)
        os.chmod(home, 0o750)
        for name, (data, mode) in files.files.items():
            path = home / name
            path.parent.mkdir(mode=0o700, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(path, mode)
        written.append(home)
    (out / SUMMARY_FILE).write_text(summary, encoding="utf-8")
    return written


def summary(config: HallConfig, built: list[StationFiles], opts: Options, out: Path) -> str:
    """Which directory goes to which machine and unit, and the commands that install its files there."""
    lay, bus = opts.layout, config.bus
    where = f"{opts.host or bus.host}:{bus.port}{' over TLS' if bus.tls else ''}"
    lines = [
        f"# The station directories of {config.hall_id} (broker {where}), written by `hallkit deploy stations`.",
        f"# On each machine, from a copy of {out}/ (cd into it), install the directories of its stations:",
    ]
    relative = not PurePosixPath(opts.data_dir).is_absolute()
    for files in built:
        s = files.station
        home = lay.station(s.id)
        lines.append(f"{s.id}: {s.role} on machine {s.machine}, {s.unit}, reads {home}/")
        if relative:
            lines.append(f"  copy {s.id}/ as it is to {home}/ (data_dir {opts.data_dir!r} is inside it)")
        else:
            public = " ".join(f"{s.id}/{n}" for n in files.files if n in (STATION_FILE, tls.CA_CERT))
            own = " ".join(f"{s.id}/{n}" for n in files.files if n.startswith(f"{s.id}."))
            lines.append(f"  sudo install -d -m 0750 -g {lay.user} {home}")
            lines.append(f"  sudo install -m 0640 -g {lay.user} {public} {home}/")
            if own:
                lines.append(f"  sudo install -m 0600 -o {lay.user} {own} {home}/")
            for name in files.files:
                if name.startswith(f"{SECRETS_DIR}/"):
                    lines.append(f"  sudo install -m 0600 -o {lay.user} {s.id}/{name} {opts.data_dir}/")
        if not opts.credentials:
            lines.append(f"  not written: ca.crt and {s.id}.password: copy them from [bus] credentials_dir")
        lines += [f"  hall secret {note}" for note in files.notes]
    return "\n".join(lines) + "\n"
