"""recuerdo: long-term memory for WhatsApp customer-service bots.

>>> from recuerdo import Memory, Role   # doctest: +SKIP
"""

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
from recuerdo.memory import Memory
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
from recuerdo.remote import RemoteMemory
from recuerdo.settings import Settings

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
