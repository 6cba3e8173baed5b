"""The generated bus reference (``hallkit bus docs``) is committed current and is valid AsyncAPI 3.0.0."""

from __future__ import annotations

import json

import jsonschema
import yaml

from hall_bus.cli import bus_docs
from hall_bus.contracts import registry
from hall_bus.hosts.device_bridge import LOCAL_EVENTS
from tests.helpers import ROOT

SCHEMA = ROOT / "tests" / "fixtures" / "asyncapi-3.0.0.schema.json"


def test_committed_bus_docs_are_current() -> None:
    for path, text in bus_docs.outputs(ROOT).items():
        assert path.exists(), f"{path.relative_to(ROOT)} is missing: run `hallkit bus docs`"
        assert path.read_text(encoding="utf-8") == text, f"{path.relative_to(ROOT)} is stale: run `hallkit bus docs`"


def test_asyncapi_document_is_valid_asyncapi_3() -> None:
    doc = yaml.safe_load((ROOT / bus_docs.ASYNCAPI).read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(doc)]
    assert not errors, "\n".join(errors[:10])
    assert doc["asyncapi"] == "3.0.0"


def test_every_request_op_has_an_operation_with_its_reply() -> None:
    doc = bus_docs.asyncapi()
    reg = registry()
    for op in reg.requests:
        operation = doc["operations"][f"send.{op}"]
        assert operation["action"] == "send"
        reply = "device.response" if op.startswith(("locker.", "pad.")) else "response"
        assert operation["reply"]["messages"] == [{"$ref": f"#/channels/{reply}/messages/{op}.response"}]
        assert doc["channels"][f"request.{op}"]["address"].endswith(f"/request/{op}")
    for type_ in reg.states:
        assert f"state.{type_}" in doc["channels"]
    for type_ in reg.events:
        assert (f"event.{type_}" in doc["channels"]) is (type_ not in LOCAL_EVENTS)  # a card read is not on the bus


def test_fields_carry_types_allowed_values_and_limits() -> None:
    doc = bus_docs.asyncapi()
    issue = doc["components"]["schemas"]["TicketIssue"]["properties"]
    assert issue["idempotency_key"]["minLength"] == 8 and issue["idempotency_key"]["maxLength"] == 64
    assert issue["priority"]["enum"] == ["normal", "elderly", "disabled", "pregnant", "military"]
    assert issue["priority"]["default"] == "normal"
    assert doc["components"]["schemas"]["TicketIssue"]["additionalProperties"] is False
    assert "`priority` | string | no | one of `normal`" in (ROOT / bus_docs.MARKDOWN).read_text(encoding="utf-8")
