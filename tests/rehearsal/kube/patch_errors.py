"""The error every patch engine raises: a metav1.Status as kube-apiserver answers a failed patch.

``PatchError.bad_request(message)`` is the 400 ``BadRequest`` the server sends for a patch it
cannot decode or whose directives are malformed; ``PatchError.invalid(detail)`` is the 422
``Invalid`` built by ``NewGenericServerResponse`` (generic message, the cause only in
``.detail``); ``PatchError.internal(message)`` is what the server's error-to-status conversion
makes of a plain Go error: code 500, empty reason, the error text as message.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ApiError

GENERIC_INVALID = "the server rejected our request due to an error in our request"


@dataclass
class PatchError(ApiError):
    """A patch the server refuses; ``detail`` keeps the underlying library message."""

    detail: str = ""

    def __str__(self) -> str:
        return f"{self.code} {self.reason}: {self.detail or self.message}"

    @classmethod
    def bad_request(cls, message: str) -> PatchError:
        return cls(400, "BadRequest", message, detail=message)

    @classmethod
    def invalid(cls, detail: str) -> PatchError:
        return cls(422, "Invalid", GENERIC_INVALID, detail=detail)

    @classmethod
    def internal(cls, message: str) -> PatchError:
        return cls(500, "", message, detail=message)
