"""``hallkit backup``, ``restore`` and ``metrics`` as a technician runs them (the commands are added
by ``hall_bus.cli.ops.register``, as the ``hallkit.commands`` entry point does)."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from hall_bus import config as hallconfig
from hall_bus.bus.brokers import free_port
from hall_bus.cli.main import CommandLine
from hall_bus.cli.ops import register
from hall_bus.controller.store import Store


def run(capsys, *argv: str) -> tuple[int, str, str]:
    cli = CommandLine()
    register(cli)
    args = cli.parser.parse_args(list(argv))
    try:
        rc = int(args._handler(args) or 0)
    except SystemExit as exc:  # as hallkit's main() turns it into the exit code
        rc = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture
def hall(tmp_hall: Path) -> tuple[list[str], hallconfig.HallConfig]:
    text = tmp_hall.read_text(encoding="utf-8") + f'\n[backup]\ndir = "{tmp_hall.parent / "backups"}"\nkeep = 2\n'
    tmp_hall.write_text(text, encoding="utf-8")
    return ["--config", str(tmp_hall)], hallconfig.load(tmp_hall)


def store_of(cfg: hallconfig.HallConfig) -> Path:
    return Path(cfg.data_dir) / f"{cfg.hall_id}.db"


def test_backup_list_and_restore(hall, capsys) -> None:
    conf, cfg = hall
    rc, _, err = run(capsys, "backup", *conf)
    assert rc == 1 and "does not exist" in err  # no store yet: nothing to back up is an error
    store = Store(store_of(cfg))
    store.db.execute("INSERT INTO audit (hall, at, actor, action, target, detail) VALUES ('h', 1, 'a', 'b', 'c', '{}')")
    (Path(cfg.data_dir) / "pickup.secret").write_text("k" * 64)
    rc, out, _ = run(capsys, "backup", *conf)
    assert rc == 0 and out.startswith("backup ") and "pickup.secret" in out and "not copied: identity.salt" in out
    rc, out, _ = run(capsys, "backup", "--list", "--json", *conf)
    [manifest] = json.loads(out)
    assert manifest["hall"] == cfg.hall_id and manifest["files"][0]["rows"]["audit"] == 1
    rc, out, _ = run(capsys, "backup", "--list", *conf)
    assert rc == 0 and len(out.splitlines()) == 1 and "3 files" in out
    path = Path(out.split()[0])
    assert oct(path.stat().st_mode & 0o777) == "0o700"

    store.db.execute("DELETE FROM audit")
    rc, _, err = run(capsys, "restore", "--latest", *conf)
    assert rc == 1 and "running process" in err and "--force" in err
    rc, out, _ = run(capsys, "restore", "--latest", "--force", *conf)  # under the open store
    assert rc == 0 and f"restored {cfg.hall_id}" in out and "restart" in out
    assert store.db.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == 1  # the running connection sees it
    store.close()
    kept = [p for p in Path(cfg.data_dir).iterdir() if p.name.startswith("before-restore-")]
    assert len(kept) == 1 and sqlite3.connect(kept[0] / store_of(cfg).name).execute(
        "SELECT COUNT(*) FROM audit"
    ).fetchone() == (0,)  # what the data_dir held before the restore

    (Path(cfg.data_dir) / "pickup.secret").write_text("other" * 16)
    rc, out, _ = run(capsys, "restore", str(path), *conf)  # nobody has the store open now
    assert rc == 0 and (Path(cfg.data_dir) / "pickup.secret").read_text() == "k" * 64
    assert oct(os.stat(Path(cfg.data_dir) / "pickup.secret").st_mode & 0o777) == "0o600"


def test_restore_refuses_a_damaged_or_foreign_backup(hall, capsys, tmp_path: Path) -> None:
    conf, cfg = hall
    Store(store_of(cfg)).close()
    run(capsys, "backup", *conf)
    rc, out, _ = run(capsys, "backup", "--list", *conf)
    path = Path(out.split()[0])
    db = path / store_of(cfg).name
    data = bytearray(db.read_bytes())
    data[-1] ^= 0xFF
    db.write_bytes(bytes(data))
    rc, _, err = run(capsys, "restore", str(path), *conf)
    assert rc == 1 and f"{db.name} differs from its recorded SHA-256" in err
    data[-1] ^= 0xFF
    db.write_bytes(bytes(data))  # whole again
    other = Path(conf[1]).read_text(encoding="utf-8").replace(f'id = "{cfg.hall_id}"', 'id = "another-hall"', 1)
    (tmp_path / "other.toml").write_text(other, encoding="utf-8")
    rc, _, err = run(capsys, "restore", str(path), "--config", str(tmp_path / "other.toml"))
    assert rc == 1 and "backup of hall" in err and "another-hall" in err
    rc, _, err = run(capsys, "restore", *conf)
    assert rc == 2 and "--latest" in err


def test_retention_keeps_the_newest(hall, capsys) -> None:
    conf, cfg = hall
    Store(store_of(cfg)).close()
    for _ in range(4):
        assert run(capsys, "backup", *conf)[0] == 0
    rc, out, _ = run(capsys, "backup", "--list", "--json", *conf)
    assert len(json.loads(out)) == 2  # [backup] keep = 2
    assert run(capsys, "backup", "--keep", "1", *conf)[0] == 0
    assert len(json.loads(run(capsys, "backup", "--list", "--json", *conf)[1])) == 1


def test_metrics_command(hall, capsys) -> None:
    conf, _ = hall
    rc, _, err = run(capsys, "metrics", *conf)
    assert rc == 2 and "[monitoring] enabled is false" in err
    rc, _, err = run(capsys, "metrics", "--health", "--url", f"http://127.0.0.1:{free_port()}", *conf)
    assert rc == 1 and "hallkit metrics:" in err
