"""Kiosk flows: the citizen's journeys as plain state machines (no Kivy imports)."""
