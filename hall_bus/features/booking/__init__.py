"""Appointments (预约): slot rules from hall.toml, race-free booking, cancelling, bookings per slot."""
