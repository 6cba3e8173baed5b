"""Cases (办件): what the hall is processing for a citizen, and how far it got.

A small store the controller exposes: the pickup feature binds locker items to a case number and
marks the case collected; the kiosk's progress check (办件进度) asks ``case.lookup`` by case number
or by the identity token read from an ID card. Answers never carry personal data: a case holds only
the salted identity token, and lookups return the service, the status and the step times.
"""

from hall_bus.features.cases.store import STATUSES, CaseError, CaseStore

__all__ = ["STATUSES", "CaseError", "CaseStore"]
