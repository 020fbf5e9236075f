"""recuerdo: long-term memory for WhatsApp customer-service bots.

>>> from recuerdo import Memory, Role   # doctest: +SKIP

``Memory`` and ``RemoteMemory`` are imported when first asked for: a process that only needs
part of the package (an import worker, ``recuerdo --help``) does not load the LLM client, the
HTTP client and the storage engines.
"""

from typing import TYPE_CHECKING

from recuerdo.errors import (
    AuthError,
    ClientNotFound,
    ConfigurationError,
    Conflict,
    InvalidContent,
    InvalidCursor,
    InvalidIdentifier,
    InvalidInput,
    InvalidRole,
    LLMError,
    NaiveDatetime,
    NotFound,
    PermissionDenied,
    RecuerdoError,
    StorageError,
)
from recuerdo.model import (
    Client,
    ContentType,
    Conversation,
    Handoff,
    Message,
    NewMessage,
    Page,
    Recorded,
    Role,
)
from recuerdo.settings import Settings

if TYPE_CHECKING:
    from recuerdo.memory import Memory
    from recuerdo.remote import RemoteMemory

__version__ = "0.1.0"

__all__ = [
    "AuthError",
    "Client",
    "ClientNotFound",
    "ConfigurationError",
    "Conflict",
    "ContentType",
    "Conversation",
    "Handoff",
    "InvalidContent",
    "InvalidCursor",
    "InvalidIdentifier",
    "InvalidInput",
    "InvalidRole",
    "LLMError",
    "Memory",
    "Message",
    "NaiveDatetime",
    "NewMessage",
    "NotFound",
    "Page",
    "PermissionDenied",
    "Recorded",
    "RecuerdoError",
    "RemoteMemory",
    "Role",
    "Settings",
    "StorageError",
]


def __getattr__(name: str) -> object:
    if name == "Memory":
        from recuerdo.memory import Memory

        return Memory
    if name == "RemoteMemory":
        from recuerdo.remote import RemoteMemory

        return RemoteMemory
    raise AttributeError(f"module 'recuerdo' has no attribute {name!r}")
