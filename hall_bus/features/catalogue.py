"""The controller's features, one folder each (glue in ``feature.py``, the body beside it), declared
in one explicit list. ``hall.toml`` switches them with ``[features] enabled = [...]`` (all by
default); ``requires`` names what a feature needs attached before it.
"""

from __future__ import annotations

from hall_bus.controller.features import FeatureSpec
from hall_bus.features.booking import feature as booking
from hall_bus.features.cases import feature as cases
from hall_bus.features.evaluation import feature as evaluation
from hall_bus.features.mandates import feature as mandates
from hall_bus.features.pickup import feature as pickup
from hall_bus.features.tidal import feature as tidal

FEATURES: tuple[FeatureSpec, ...] = (cases.SPEC, pickup.SPEC, tidal.SPEC, evaluation.SPEC, booking.SPEC, mandates.SPEC)
