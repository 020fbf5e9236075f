"""The one exception tree of recuerdo.

Every error recuerdo raises on purpose is a :class:`RecuerdoError`; driver errors are translated
at the ``store/`` boundary, so callers never see ``sqlite3`` or ``asyncpg`` exceptions::

    RecuerdoError
    ├── InvalidInput                  bad input from a caller; nothing was stored
    │   ├── InvalidIdentifier         not a phone, JID, lid or BSUID
    │   ├── InvalidRole               not user / assistant / manual_operator / system
    │   ├── InvalidContent            empty, or over the configured size limit
    │   ├── NaiveDatetime             a datetime without a timezone
    │   ├── InvalidCursor             a paging cursor that was not issued by recuerdo
    │   └── ImportFormatError         an import file recuerdo cannot read at all (binary, unknown
    │                                 format, unreadable zip); single bad lines are reported instead
    ├── NotFound                      the client / conversation / key does not exist
    │   └── ClientNotFound
    ├── Conflict                      the request contradicts what is stored
    ├── ConfigurationError            a setting or database URL that cannot work
    ├── StorageError                  the database failed; the operation did not happen
    ├── AuthError                     missing / wrong API key (401)
    │   └── PermissionDenied          right key, wrong scope (403)
    └── LLMError                      the language model timed out or answered garbage

Each error has a stable ``code`` (used as the problem+json ``type`` by the HTTP API) and a
message that says what was received and what is accepted.
"""

from __future__ import annotations


class RecuerdoError(Exception):
    """Base of every error recuerdo raises on purpose."""

    code = "recuerdo-error"
    status = 500

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(RecuerdoError):
    code = "invalid-input"
    status = 422


class InvalidIdentifier(InvalidInput):
    code = "invalid-identifier"


class InvalidRole(InvalidInput):
    code = "invalid-role"


class InvalidContent(InvalidInput):
    code = "invalid-content"


class NaiveDatetime(InvalidInput):
    code = "naive-datetime"


class InvalidCursor(InvalidInput):
    code = "invalid-cursor"


class ImportFormatError(InvalidInput):
    code = "import-format"


class NotFound(RecuerdoError):
    code = "not-found"
    status = 404


class ClientNotFound(NotFound):
    code = "client-not-found"


class Conflict(RecuerdoError):
    code = "conflict"
    status = 409


class ConfigurationError(RecuerdoError):
    code = "configuration-error"
    status = 500


class StorageError(RecuerdoError):
    code = "storage-error"
    status = 503


class AuthError(RecuerdoError):
    code = "unauthorized"
    status = 401


class PermissionDenied(AuthError):
    code = "forbidden"
    status = 403


class LLMError(RecuerdoError):
    code = "llm-error"
    status = 502


ALL_ERRORS: tuple[type[RecuerdoError], ...] = (
    RecuerdoError,
    InvalidInput,
    InvalidIdentifier,
    InvalidRole,
    InvalidContent,
    NaiveDatetime,
    InvalidCursor,
    ImportFormatError,
    NotFound,
    ClientNotFound,
    Conflict,
    ConfigurationError,
    StorageError,
    AuthError,
    PermissionDenied,
    LLMError,
)
"""Every error class, so that remote clients can map a problem ``type`` back to its class."""
