"""docs/security.md prints the roles table as the code has it."""

from __future__ import annotations

from hall_bus.contracts.roles import roles_table
from tests.helpers import ROOT


def test_the_roles_table_in_docs_is_current() -> None:
    doc = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    printed = doc.split("<!-- roles-table: generated from hall_bus/contracts/roles.py; a test keeps it current -->\n")[
        1
    ]
    assert printed.split("<!-- /roles-table -->")[0] == roles_table()
