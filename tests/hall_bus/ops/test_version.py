"""``hallkit --version`` (from the package metadata) and the changelog that goes with it (issue 17, item 5)."""

from __future__ import annotations

import re
from importlib.metadata import version

import pytest

from hall_bus.cli.main import main
from tests.helpers import ROOT


def test_hallkit_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"hallkit {version('hallkit')}"


def test_the_changelog_begins_with_this_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    releases = re.findall(r"^## (\d+\.\d+\.\d+)", text, flags=re.MULTILINE)
    assert releases[0] == version("hallkit"), "CHANGELOG.md: add this version's entry at the top"
    assert "0.1.0" in releases  # the release whose store tests/fixtures/release-0.1.0 holds
