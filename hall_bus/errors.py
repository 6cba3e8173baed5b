"""The one coded error of the hall's operations.

An operation that cannot be done raises a :class:`CodedError` (or a subclass naming its area:
``QueueError``, ``CaseError``, ``PickupError``, ``EvaluationError``) with the bus error code that
says why (``not_found``, ``forbidden``, ``sold_out`` ...) and a sentence for a person. The
controller answers every one of them as an error response with that code, in one place; clients
match errors by ``code``, never by class name or message text.
"""

from __future__ import annotations


class CodedError(Exception):
    """An operation refused; ``code`` is the bus error code."""

    code = "error"

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)
