"""Cases (办件): what the hall is processing for a citizen, and how far it got.

A small store the controller exposes: the pickup feature binds locker items to a case number and
marks the case collected; the kiosk's progress check (办件进度) asks ``case.lookup`` by case number
or by the identity token read from an ID card. Answers never carry personal data: a case holds only
the salted identity token, and lookups return the service, the status and the step times.

Every status change also publishes a ``case`` event and queues a message to the citizen in an outbox
sent by the ``[cases.notify]`` adapter (``notify*.py``, 办件进度实时推送); the phone page ``/case``
shows a case to whoever has its number and the verification code of its receipt (``codes.py``).
"""

from hall_bus.features.cases.store import STATUSES, CaseError, CaseStore

__all__ = ["STATUSES", "CaseError", "CaseStore"]
