"""好差评: one evaluation per finished service, bad-review follow-up (差评整改) and hall reports."""
