"""systemd units for a hall installed on Debian (docs/deploy.md, "Install"), rendered from hall.toml.

The production layout: the virtualenv in ``/opt/hallkit/venv``, configuration in ``/etc/hallkit/``
(on the hall server ``hall.toml`` and the bus credentials, hall CA and broker configuration that
``hallkit bus credentials`` writes in ``/etc/hallkit/bus/``; on a station machine one directory per
station in ``/etc/hallkit/stations/<bus client id>/``: its ``station.toml``, the hall CA and its own
password, hall_bus/ops/station.py), state in ``/var/lib/hallkit/`` (``[hall] data_dir``, a station's
``data_dir``), backups in ``/var/backups/hallkit/``, everything run as the system user ``hallkit``
(the broker as ``mosquitto``).

==================================  ===============  ==================================================
unit                                machine          runs
==================================  ===============  ==================================================
``hallkit-broker.service``          hall server      mosquitto with ``/etc/hallkit/bus/mosquitto.conf``
``hallkit-controller.service``      hall server      ``hallkit controller --broker external``
``hallkit-web.service``             hall server      ``hallkit web`` (the staff web console)
``hallkit-backup@.service/.timer``  hall server      ``hallkit backup``, nightly
``hallkit-window-host@.service``    window PC        ``hallkit window-host --station .../window-%i``
``hallkit-locker-host@.service``    beside the bank  ``hallkit locker-host --station .../%i``
``hallkit-kiosk@.service``          kiosk PC         X on tty1 with ``hallkit kiosk --station .../%i``, full screen
``hallkit-display.service``         display PC       X on tty1 with the hall display (station ``display``)
==================================  ===============  ==================================================

The hall server's units read hall.toml (``--config``); the station units read only their station's
directory (``--station``), so a station machine holds no copy of hall.toml and its secrets. A
directory per station, named by its bus client id, because one machine may run two stations (a
kiosk PC that hosts a locker bank: ``kiosk-1`` and ``lockers-a``).

Long-running services restart on failure (a clean stop, SIGTERM, exits 0 and stays stopped); the
two screen sessions restart always, so a kiosk whose app exits comes back. ``machines.txt`` says,
from hall.toml, which instances to enable on which machine. Only what depends on the hall is taken
from hall.toml (the broker port, the kiosks, windows with devices, locker banks); the paths are the
layout's, so the same units serve every hall.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from hall_bus.config import HallConfig
from hall_bus.contracts.roles import SELF_HOSTED_KINDS
from hall_bus.ops.station import STATION_FILE

HARDENING = """NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=strict
ProtectHome=yes
"""


@dataclass(frozen=True)
class Layout:
    """Where the production install puts things (the defaults are docs/deploy.md's)."""

    venv: str = "/opt/hallkit/venv"
    etc: str = "/etc/hallkit"
    state: str = "/var/lib/hallkit"
    backups: str = "/var/backups/hallkit"
    user: str = "hallkit"
    config_name: str = "hall"  # /etc/hallkit/hall.toml
    mosquitto: str = "/usr/sbin/mosquitto"
    xinit: str = "/usr/bin/xinit"
    tty: int = 1  # the console the screen sessions take (its getty is stopped)

    @property
    def config(self) -> str:
        return f"{self.etc}/{self.config_name}.toml"

    @property
    def hallkit(self) -> str:
        return f"{self.venv}/bin/hallkit"

    @property
    def bus_dir(self) -> str:
        return f"{self.etc}/bus"

    @property
    def stations(self) -> str:
        return f"{self.etc}/stations"

    def station(self, client_id: str) -> str:
        """The directory of the station whose bus client id is ``client_id`` (``%i`` in a template)."""
        return f"{self.stations}/{client_id}"

    def station_file(self, client_id: str) -> str:
        return f"{self.station(client_id)}/{STATION_FILE}"


@dataclass(frozen=True)
class Rendered:
    files: dict[str, str]  # file name -> text
    machines: dict[str, list[str]]  # machine -> the units to enable there
    notes: list[str]  # what in hall.toml does not fit the layout


def _service(lay: Layout, description: str, exec_start: str, extra: str = "", after: str = "", needs: str = "") -> str:
    """A long-running service; ``needs`` the file it reads (default hall.toml)."""
    return f"""[Unit]
Description={description}
Wants=network-online.target{after}
After=network-online.target{after}
ConditionPathExists={needs or lay.config}

[Service]
Type=simple
User={lay.user}
Group={lay.user}
UMask=0077
Environment=PYTHONUNBUFFERED=1
ExecStart={exec_start}
Restart=on-failure
RestartSec=3
TimeoutStopSec=30
{HARDENING}ReadWritePaths={lay.state}
{extra}
[Install]
WantedBy=multi-user.target
"""


def broker(config: HallConfig, lay: Layout) -> str:
    low_port = "AmbientCapabilities=CAP_NET_BIND_SERVICE\n" if config.bus.port < 1024 else ""
    return f"""# The hall bus broker: mosquitto with the configuration `hallkit bus credentials --out {lay.bus_dir}` wrote
# (TLS listener on port {config.bus.port}, passwords, the ACL from the roles table). Hall server only.
[Unit]
Description=HallKit bus broker (mosquitto) of {config.hall_id}
Wants=network-online.target
After=network-online.target
ConditionPathExists={lay.bus_dir}/mosquitto.conf

[Service]
Type=simple
User=mosquitto
Group=mosquitto
ExecStart={lay.mosquitto} -c {lay.bus_dir}/mosquitto.conf
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=2
{low_port}{HARDENING}
[Install]
WantedBy=multi-user.target
"""


def controller(config: HallConfig, lay: Layout) -> str:
    head = (
        f"# The hall controller of {config.hall_id}: the queue engine and features over the bus, the store in "
        f"{lay.state},\n# the monitoring endpoint ([monitoring]). SIGTERM stops it cleanly (exit 0, store closed).\n"
    )
    return head + _service(
        lay,
        f"HallKit hall controller of {config.hall_id}",
        f"{lay.hallkit} controller --config {lay.config} --broker external",
        f"ReadOnlyPaths=-{lay.backups}\n",
        " hallkit-broker.service",
    )


def web(config: HallConfig, lay: Layout) -> str:
    head = f"# The staff web console of {config.hall_id} (hallkit web). Hall server, beside the controller.\n"
    return head + _service(
        lay,
        f"HallKit staff web console of {config.hall_id}",
        f"{lay.hallkit} web --config {lay.config}",
        after=" hallkit-controller.service",
    )


def window_host(config: HallConfig, lay: Layout) -> str:
    head = (
        "# A window's devices (caller keypad, LED display, evaluation pad) on the hall bus; the instance is the\n"
        "# window number: `systemctl enable --now hallkit-window-host@3.service` on window 3's PC, whose station\n"
        f"# directory {lay.station('window-3')} has its station.toml (id window-3), the hall CA and its password.\n"
    )
    return head + _service(
        lay,
        f"HallKit window host of window %i ({config.hall_id})",
        f"{lay.hallkit} window-host --station {lay.station('window-%i')}",
        "SupplementaryGroups=dialout plugdev\n",
        needs=lay.station_file("window-%i"),
    )


def locker_host(config: HallConfig, lay: Layout) -> str:
    head = (
        "# A bank of pickup lockers (lock boards on RS485); the instance is its [[devices]] id, e.g.\n"
        "# `systemctl enable --now hallkit-locker-host@lockers-a.service`, with the station directory\n"
        f"# {lay.station('lockers-a')} (id lockers-a, role locker). Its door journal is in the state dir.\n"
    )
    return head + _service(
        lay,
        f"HallKit locker host %i ({config.hall_id})",
        f"{lay.hallkit} locker-host --station {lay.station('%i')}",
        "SupplementaryGroups=dialout plugdev\n",
        needs=lay.station_file("%i"),
    )


def _screen(config: HallConfig, lay: Layout, description: str, app: str, groups: str, needs: str) -> str:
    tty = f"tty{lay.tty}"
    x = f"-- :0 vt{lay.tty} -keeptty -nolisten tcp -nocursor -s 0 -dpms"
    return f"""[Unit]
Description={description}
After=systemd-user-sessions.service plymouth-quit-wait.service network-online.target getty@{tty}.service
Wants=network-online.target
Conflicts=getty@{tty}.service
ConditionPathExists={needs}

[Service]
Type=simple
User={lay.user}
Group={lay.user}
SupplementaryGroups={groups}
PAMName=login
TTYPath=/dev/{tty}
TTYReset=yes
TTYVHangup=yes
StandardInput=tty
StandardOutput=journal
StandardError=journal
UtmpIdentifier={tty}
UtmpMode=user
Environment=PYTHONUNBUFFERED=1
Environment=KIVY_HOME={lay.state}/kivy
ExecStart={lay.xinit} {lay.hallkit} {app} {x}
Restart=always
RestartSec=3

[Install]
WantedBy=graphical.target
"""


def kiosk(config: HallConfig, lay: Layout) -> str:
    head = (
        "# A self-service kiosk's screen session: X on the console with the kiosk app full screen, restarted\n"
        "# whenever it exits. The instance is the [[kiosks]] id: `systemctl enable hallkit-kiosk@kiosk-1.service`,\n"
        f"# with the station directory {lay.station('kiosk-1')} (id kiosk-1, role kiosk, its devices).\n"
    )
    app = f"kiosk --station {lay.station('%i')} --fullscreen"
    groups = "dialout plugdev video input lp audio"
    return head + _screen(config, lay, f"HallKit kiosk %i ({config.hall_id})", app, groups, lay.station_file("%i"))


def display(config: HallConfig, lay: Layout) -> str:
    head = (
        "# The hall display (大厅综合屏): X on the console with the display screen full screen, restarted always;\n"
        f"# the station directory {lay.station('display')} (id display, role display).\n"
    )
    app = f"kiosk --station {lay.station('display')} --screens display --no-devices --fullscreen"
    return head + _screen(
        config, lay, f"HallKit hall display ({config.hall_id})", app, "video input audio", lay.station_file("display")
    )


def backup_service(lay: Layout) -> str:
    return f"""# Nightly backup of one hall: `systemctl enable --now hallkit-backup@hall.timer` backs up the hall of
# {lay.etc}/hall.toml (the instance name is the file name without .toml). See docs/deploy.md.
[Unit]
Description=HallKit backup of the hall of {lay.etc}/%i.toml
After=local-fs.target
ConditionPathExists={lay.etc}/%i.toml

[Service]
Type=oneshot
User={lay.user}
Group={lay.user}
UMask=0077
ExecStart={lay.hallkit} backup --config {lay.etc}/%i.toml
Nice=10
IOSchedulingClass=idle
TimeoutStartSec=1h
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=strict
ProtectHome=yes
ReadWritePaths={lay.state} {lay.backups}
"""


def backup_timer(lay: Layout) -> str:
    return f"""# Runs hallkit-backup@<name>.service every night; a night missed (machine off) runs at the next boot.
[Unit]
Description=Nightly HallKit backup of the hall of {lay.etc}/%i.toml

[Timer]
OnCalendar=*-*-* 02:30:00
RandomizedDelaySec=20min
Persistent=true
Unit=hallkit-backup@%i.service

[Install]
WantedBy=timers.target
"""


def machines(config: HallConfig, lay: Layout) -> dict[str, list[str]]:
    """The units to enable on each machine of the hall (kiosk and window PCs named by their bus client)."""
    plan: dict[str, list[str]] = {
        "hall-server": [
            "hallkit-broker.service",
            "hallkit-controller.service",
            "hallkit-web.service",
            f"hallkit-backup@{lay.config_name}.timer",
        ]
    }
    for k in config.kiosks:
        plan[k.id] = [f"hallkit-kiosk@{k.id}.service"]
    for w in config.windows:
        if any(d.host == f"window-{w.number}" for d in config.devices):
            plan.setdefault(f"window-{w.number}", []).append(f"hallkit-window-host@{w.number}.service")
    for d in config.devices:
        if d.kind in SELF_HOSTED_KINDS:
            plan.setdefault(d.host or "hall-server", []).append(f"hallkit-locker-host@{d.id}.service")
    plan["display"] = ["hallkit-display.service"]
    return plan


def machines_text(config: HallConfig, lay: Layout, plan: dict[str, list[str]]) -> str:
    lines = [
        f"# The machines of {config.hall_id} and the HallKit units to enable on each (from hall.toml;",
        "# docs/deploy.md, 'Install'). On each: copy the units to /etc/systemd/system/, daemon-reload, then",
        "#   systemctl enable --now UNIT ...",
        f"# A station unit reads its station's directory {lay.station('<bus client id>')}/ (station.toml, ca.crt,",
        "# <bus client id>.password): kiosk@<id> and locker-host@<id> its id, window-host@<n> window-<n>, display display.",
    ]
    for machine, units in plan.items():
        lines.append(f"{machine}: {' '.join(units)}")
    return "\n".join(lines) + "\n"


def render(config: HallConfig, lay: Layout = Layout()) -> Rendered:
    files = {
        "hallkit-broker.service": broker(config, lay),
        "hallkit-controller.service": controller(config, lay),
        "hallkit-web.service": web(config, lay),
        "hallkit-window-host@.service": window_host(config, lay),
        "hallkit-locker-host@.service": locker_host(config, lay),
        "hallkit-kiosk@.service": kiosk(config, lay),
        "hallkit-display.service": display(config, lay),
        "hallkit-backup@.service": backup_service(lay),
        "hallkit-backup@.timer": backup_timer(lay),
    }
    plan = machines(config, lay)
    files["machines.txt"] = machines_text(config, lay, plan)
    notes = []
    if PurePosixPath(config.data_dir) != PurePosixPath(lay.state):
        notes.append(f'[hall] data_dir is {config.data_dir}: set data_dir = "{lay.state}" in {lay.config}')
    if not config.bus.tls or not config.bus.credentials_dir:
        notes.append(f'[bus]: set tls = true and credentials_dir = "{lay.bus_dir}" for the installed hall')
    if config.bus.broker != "external":
        notes.append("[bus] broker: the controller unit runs with --broker external (the broker is its own unit)")
    return Rendered(files, plan, notes)


def write(rendered: Rendered, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in rendered.files.items():
        (out / name).write_text(text, encoding="utf-8")
        written.append(out / name)
    return written
