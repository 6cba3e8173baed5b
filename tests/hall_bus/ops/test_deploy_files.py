"""The files of docs/deploy/: the nightly backup's systemd units (checked by systemd-analyze verify
where it is installed, and always as INI with the keys they need) and the Prometheus alert rules
(YAML that names only metrics the controller serves). docs/deploy.md lists every metric."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from hall_bus.ops.metrics import METRICS
from tests.helpers import ROOT

DEPLOY = ROOT / "docs" / "deploy"
UNITS = ("hallkit-backup@.service", "hallkit-backup@.timer")
INSTALLED_VENV = "/opt/hallkit/venv"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=True, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read_string((DEPLOY / name).read_text(encoding="utf-8"), source=name)
    return parser


def test_backup_units_have_what_a_nightly_backup_needs() -> None:
    service, timer = unit(UNITS[0]), unit(UNITS[1])
    assert service["Service"]["Type"] == "oneshot"
    assert service["Service"]["ExecStart"].split()[:2] == [f"{INSTALLED_VENV}/bin/hallkit", "backup"]
    assert "--config /etc/hallkit/%i.toml" in service["Service"]["ExecStart"]
    assert service["Service"]["User"] == "hallkit" and service["Service"]["UMask"] == "0077"
    assert "/var/backups/hallkit" in service["Service"]["ReadWritePaths"].split()
    assert timer["Timer"]["Unit"] == "hallkit-backup@%i.service"
    assert timer["Timer"]["Persistent"] == "true" and timer["Timer"]["OnCalendar"].endswith("02:30:00")
    assert timer["Install"]["WantedBy"] == "timers.target"


def test_backup_units_verify(tmp_path: Path) -> None:
    """systemd-analyze verify, when the machine has it, on the units as installed here (the venv of this
    checkout stands in for /opt/hallkit/venv, since verify checks that ExecStart is executable)."""
    tool = shutil.which("systemd-analyze")
    if tool is None:  # no systemd here: the INI checks above are what can be checked
        assert all(unit(name).sections() for name in UNITS)
        return
    for name in UNITS:
        text = (DEPLOY / name).read_text(encoding="utf-8").replace(INSTALLED_VENV, sys.prefix)
        (tmp_path / name).write_text(text, encoding="utf-8")
    instances = [str(tmp_path / name.replace("@.", "@demo-hall.")) for name in UNITS]
    out = subprocess.run([tool, "verify", *instances], capture_output=True, text=True, timeout=60)
    problems = [line for line in out.stderr.splitlines() if "hallkit-backup" in line]
    assert out.returncode == 0 and problems == [], out.stderr


def hallkit_names(text: str) -> set[str]:
    names = set(re.findall(r"\bhallkit_[a-z0-9_]+", text))
    return {re.sub(r"_(bucket|sum|count)$", "", n) for n in names}


def test_alert_rules_parse_and_name_only_served_metrics() -> None:
    doc = yaml.safe_load((DEPLOY / "hallkit-alerts.yml").read_text(encoding="utf-8"))
    rules = [r for g in doc["groups"] for r in g["rules"]]
    names = {r["alert"] for r in rules}
    assert {"HallKitDeviceOffline", "HallKitNoBackup", "HallKitWaitOverTarget"} <= names
    for r in rules:
        assert r["expr"] and r["for"] and r["labels"]["severity"] in ("warning", "critical")
        assert r["annotations"]["summary"]
        assert hallkit_names(r["expr"]) <= set(METRICS), r["alert"]
    used = set().union(*(hallkit_names(r["expr"]) for r in rules))
    assert {"hallkit_device_state", "hallkit_backup_age_seconds", "hallkit_wait_target_seconds"} <= used
    no_backup = next(r for r in rules if r["alert"] == "HallKitNoBackup")
    assert no_backup["expr"].replace(" ", "") == "hallkit_backup_age_seconds>26*3600"


def test_deploy_md_lists_every_metric_and_shows_the_rules() -> None:
    text = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert {n for n in METRICS if f"`{n}" not in text} == set()
    assert set(re.findall(r"`(hallkit_[a-z0-9_]+)", text)) <= set(METRICS)  # and none that does not exist
    assert (DEPLOY / "hallkit-alerts.yml").read_text(encoding="utf-8").split("groups:", 1)[1] in text
