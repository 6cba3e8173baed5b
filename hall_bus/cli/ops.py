"""``hallkit backup``, ``hallkit restore``, ``hallkit metrics``, ``hallkit deploy units``, ``hallkit deploy
stations`` and ``hallkit station check``: running a hall in production (docs/deploy.md)."""

from __future__ import annotations

import argparse
import datetime as dt
import time
import urllib.error
import urllib.request
from pathlib import Path

from hall_bus.cli.common import config_of, fail, print_json, reporting
from hall_bus.cli.main import CommandLine
from hall_bus.config import ConfigError
from hall_bus.ops import backup as backups
from hall_bus.ops import stations, units
from hall_bus.ops.restore import RestoreError, restore
from hall_bus.ops.settings import backup_settings, monitoring_settings
from hall_bus.ops.station import StationError, load_station


def register(cli: CommandLine) -> None:
    p = cli.command(
        ("backup",),
        help="take an online backup of the hall's stores and secrets (keeps the newest [backup] keep)",
        handler=backup_command,
        description="Copy the controller's store, the locker host journals on this machine, the identity salt and "
        "the pickup key into a new directory below [backup] dir, with a manifest (sizes, SHA-256, schema versions, "
        "row counts), while the hall keeps running; then delete all but the newest [backup] keep backups.",
    )
    p.add_argument("--config", default=None, help="hall.toml (default: ./hall.toml or $HALLKIT_CONFIG)")
    p.add_argument("--dir", default=None, help="backup directory (default: [backup] dir of hall.toml)")
    p.add_argument("--keep", type=int, default=None, help="backups to keep (default: [backup] keep)")
    p.add_argument("--list", action="store_true", help="list the backups instead of taking one")
    p.add_argument("--json", action="store_true", help="print the manifest(s) as JSON")

    p = cli.command(
        ("restore",),
        help="bring the hall's stores and secrets back from a backup",
        handler=restore_command,
        description="Verify a backup (sizes and SHA-256), keep what data_dir holds now in before-restore-<time>/, "
        "and write the backup's stores and secrets into data_dir. Refuses while a process has a store open "
        "unless --force; restart the hall's processes afterwards.",
    )
    p.add_argument("backup", nargs="?", default=None, help="the backup directory (or --latest)")
    p.add_argument("--config", default=None, help="hall.toml (default: ./hall.toml or $HALLKIT_CONFIG)")
    p.add_argument("--latest", action="store_true", help="the newest backup in [backup] dir")
    p.add_argument("--force", action="store_true", help="restore even while the controller has its store open")

    p = cli.command(
        ("metrics",),
        help="read the controller's monitoring endpoint ([monitoring] of hall.toml)",
        handler=metrics_command,
    )
    p.add_argument("--config", default=None, help="hall.toml (default: ./hall.toml or $HALLKIT_CONFIG)")
    p.add_argument("--url", default=None, help="endpoint base URL (default: http://[monitoring] host:port)")
    p.add_argument("--health", action="store_true", help="ask /healthz; exit code 1 when the hall is unhealthy")
    p.add_argument("--timeout", type=float, default=5.0)

    cli.describe(("deploy",), "install a hall on Debian as systemd services (docs/deploy.md)")
    p = cli.command(
        ("deploy", "units"),
        help="write the systemd units of a hall (broker, controller, web, hosts, kiosk and display sessions)",
        handler=units_command,
        description="Render the systemd units of the production install from hall.toml into --out, with "
        "machines.txt: which units to enable on which machine. Paths default to the layout of docs/deploy.md.",
    )
    p.add_argument("--config", default=None, help="hall.toml (default: ./hall.toml or $HALLKIT_CONFIG)")
    p.add_argument("--out", required=True, help="directory for the unit files")
    lay = units.Layout()
    p.add_argument("--venv", default=lay.venv, help=f"the installed virtualenv (default {lay.venv})")
    p.add_argument("--etc", default=lay.etc, help=f"configuration directory (default {lay.etc})")
    p.add_argument("--state", default=lay.state, help=f"state directory, [hall] data_dir (default {lay.state})")
    p.add_argument("--user", default=lay.user, help=f"the system user (default {lay.user})")

    p = cli.command(
        ("deploy", "stations"),
        help="write every station's directory (station.toml, the hall CA, its own password) from hall.toml",
        handler=stations_command,
        description="Write --out/<bus client id>/ for each kiosk, window PC with devices, the display and each "
        "locker bank of hall.toml: station.toml (its [bus] and its own [[devices]], nothing secret of the hall), "
        "the hall CA and its own password from [bus] credentials_dir (run `hallkit bus credentials` first), and "
        "the one hall secret its role needs (a locker bank the pickup key, a kiosk the identity salt). Prints, "
        "and writes to --out/stations.txt, which directory goes to which machine and how to install it.",
    )
    p.add_argument("--config", default=None, help="hall.toml (default: ./hall.toml or $HALLKIT_CONFIG)")
    p.add_argument("--out", required=True, help="directory for the station directories")
    p.add_argument("--host", default=None, help="the broker's address as the stations reach it (default [bus] host)")
    p.add_argument("--only", nargs="+", default=[], metavar="ID", help="only these stations (bus client ids)")
    p.add_argument(
        "--data-dir",
        default=lay.state,
        help=f"the stations' data_dir (default {lay.state}; relative: in the directory)",
    )
    p.add_argument("--etc", default=lay.etc, help=f"configuration directory on the stations (default {lay.etc})")
    p.add_argument("--user", default=lay.user, help=f"the system user (default {lay.user})")
    p.add_argument(
        "--without-credentials",
        action="store_true",
        help="write no ca.crt and passwords (the hall has none yet; copy them from [bus] credentials_dir later)",
    )

    cli.describe(("station",), "a station configured by its own small file (docs/deploy.md)")
    p = cli.command(
        ("station", "check"),
        help="read a station's own file, log in to the hall bus and show the hall layout it learns",
        handler=station_command,
        description="Read station.toml (with the hall CA and the station's password beside it), connect to the "
        "broker with the station's own login over TLS, and print the layout learned from the controller's "
        "retained state/hall: domains, services, windows, and the station's own devices.",
    )
    p.add_argument("station", help="the station's directory (with station.toml) or its station file")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the layout (default 10)")


def _when(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def backup_command(args: argparse.Namespace) -> int:
    config = config_of(args)
    with reporting("backup", (ConfigError,), rc=2):
        settings = backup_settings(config)
    dest = Path(args.dir) if args.dir else settings.dir
    if args.list:
        found = backups.backups(dest, config.hall_id)
        if args.json:
            print_json([m.model_dump(mode="json") for _, m in found])
            return 0
        if not found:
            print(f"no backups of {config.hall_id} in {dest}")
        for path, m in found:
            age_h = (time.time() - m.created_at) / 3600
            print(f"{path}  {_when(m.created_at)}  ({age_h:.1f} h ago)  {len(m.files)} files  {m.size:,} bytes")
        return 0
    keep = args.keep if args.keep is not None else settings.keep
    if keep < 1:
        return fail("--keep must be at least 1", command="backup")
    with reporting("backup", (backups.BackupError, OSError)):
        path = backups.take_backup(config, dest, keep)
    m = backups.read_manifest(path)
    if args.json:
        print_json(m.model_dump(mode="json"))
        return 0
    print(f"backup {path}: {len(m.files)} files, {m.size:,} bytes in {m.finished_at - m.created_at:.2f} s")
    for f in m.files:
        counted = f"{f.rows['tickets']:,} tickets" if "tickets" in f.rows else f"{sum(f.rows.values()):,} rows"
        rows = f" ({counted}, schema {f.schema_version})" if f.kind == "sqlite" else ""
        print(f"  {f.name:<28} {f.size:>12,}  sha256 {f.sha256[:16]}{rows}")
    for miss in m.missing:
        print(f"  not copied: {miss.name} ({miss.reason}): {miss.why}")
    return 0


def restore_command(args: argparse.Namespace) -> int:
    config = config_of(args)
    if args.latest == (args.backup is not None):
        return fail("name a backup directory, or --latest", command="restore")
    if args.latest:
        with reporting("restore", (ConfigError,), rc=2):
            dest = backup_settings(config).dir
        found = backups.latest(dest, config.hall_id)
        if found is None:
            return fail(f"no backups of {config.hall_id} in {dest}", rc=1, command="restore")
        source = found[0]
    else:
        source = Path(args.backup)
    with reporting("restore", (RestoreError, backups.BackupError, OSError)):
        out = restore(source, config, force=args.force)
    print(f"restored {config.hall_id} from {source} (taken {_when(out.manifest.created_at)}): {', '.join(out.files)}")
    if out.kept is not None:
        print(f"what {config.data_dir} held before is in {out.kept}")
    for miss in out.manifest.missing:
        print(f"not in the backup: {miss.name} ({miss.reason})")
    print("restart the hall's HallKit processes on this machine (they read the stores and secrets at start)")
    return 0


def metrics_command(args: argparse.Namespace) -> int:
    config = config_of(args)
    with reporting("metrics", (ConfigError,), rc=2):
        settings = monitoring_settings(config)
    if args.url is None and not settings.enabled:
        return fail(f"[monitoring] enabled is false in {config.source}", command="metrics")
    base = (args.url or f"http://{settings.host}:{settings.port}").rstrip("/")
    url = f"{base}/healthz" if args.health else f"{base}/metrics"
    try:
        with urllib.request.urlopen(url, timeout=args.timeout) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        return fail(f"{url}: {getattr(exc, 'reason', exc)}", rc=1, command="metrics")
    print(body.decode("utf-8", "replace"), end="")
    return 0 if status == 200 else 1


def units_command(args: argparse.Namespace) -> int:
    config = config_of(args)
    lay = units.Layout(venv=args.venv.rstrip("/"), etc=args.etc.rstrip("/"), state=args.state, user=args.user)
    rendered = units.render(config, lay)
    with reporting("deploy units", (OSError,)):
        written = units.write(rendered, Path(args.out))
    print(f"wrote {len(written)} files to {args.out}: {', '.join(p.name for p in written)}")
    for machine, names in rendered.machines.items():
        print(f"  {machine}: {' '.join(names)}")
    for note in rendered.notes:
        print(f"note: {note}")
    return 0


def stations_command(args: argparse.Namespace) -> int:
    config = config_of(args)
    opts = stations.Options(
        host=args.host,
        only=tuple(args.only),
        data_dir=args.data_dir.rstrip("/") or "/",
        credentials=not args.without_credentials,
        layout=units.Layout(etc=args.etc.rstrip("/"), state=args.data_dir, user=args.user),
    )
    with reporting("deploy stations", (ConfigError,), rc=2):
        built = stations.build(config, opts)
    out = Path(args.out)
    text = stations.summary(config, built, opts, out)
    with reporting("deploy stations", (OSError,)):
        stations.write(built, out, text)
    print(f"wrote {len(built)} station directories to {out}/ and {stations.SUMMARY_FILE}:")
    print(text, end="")
    return 0


def station_command(args: argparse.Namespace) -> int:
    with reporting("station check", (ConfigError,), rc=2), reporting("station check", (StationError, OSError)):
        config = load_station(args.station, args.timeout)
    print(
        f"{config.hall_id} ({config.name}) at {config.bus.host}:{config.bus.port}{' over TLS' if config.bus.tls else ''}"
    )
    print(f"  domains:  {' '.join(d.id for d in config.domains)}")
    print(f"  services: {' '.join(s.id for s in config.services)}")
    print(f"  windows:  {' '.join(str(w.number) for w in config.windows)}")
    print(f"  devices:  {' '.join(f'{d.id} ({d.kind} {d.url})' for d in config.devices) or 'none'}")
    return 0
