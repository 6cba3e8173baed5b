"""The contracts spell some value sets out as Literal types (so mypy checks them); they must stay equal
to the tuples the features, devices and drivers work with."""

from __future__ import annotations

from typing import get_args

from devices import identity
from drivers import idcard
from hall_bus.contracts import cases, devices, evaluation, pickup
from hall_bus.features.cases.store import STATUSES
from hall_bus.features.evaluation.followup import STATES as FOLLOWUP_STATES
from hall_bus.features.pickup.store import STATES as PICKUP_STATES


def test_contract_literals_match_their_sources() -> None:
    assert get_args(cases.Status) == STATUSES
    assert get_args(evaluation.FollowupState) == FOLLOWUP_STATES
    assert get_args(pickup.State) == PICKUP_STATES
    assert get_args(devices.AgeBand) == identity.AGE_BANDS
    assert get_args(devices.Sex) == tuple(idcard.SEX_CODES.values())
    assert get_args(devices.CardType) == idcard.CARD_TYPES
