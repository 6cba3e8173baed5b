"""Tidal windows (潮汐窗口): live load model, pluggable reassignment policies and proposals.

``load`` measures, ``policies`` decide, ``proposals`` records and applies through the queue
engine; ``hall_bus.feature_tidal`` serves all of it on the hall bus, and
``simulators.hall_traffic`` runs it against a simulated hall day.
"""
