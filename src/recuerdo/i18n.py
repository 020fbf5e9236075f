"""What recuerdo says to people, in Spanish (default) and English."""

from __future__ import annotations

_TEXTS: dict[str, dict[str, str]] = {
    "invalid-input": {"es": "Entrada inválida", "en": "Invalid input"},
    "invalid-identifier": {
        "es": "Identificador de cliente inválido",
        "en": "Invalid client identifier",
    },
    "invalid-role": {"es": "Rol desconocido", "en": "Unknown role"},
    "invalid-content": {"es": "Contenido inválido", "en": "Invalid content"},
    "naive-datetime": {"es": "Fecha sin zona horaria", "en": "Datetime without a timezone"},
    "invalid-cursor": {"es": "Cursor inválido", "en": "Invalid cursor"},
    "not-found": {"es": "No encontrado", "en": "Not found"},
    "client-not-found": {"es": "Cliente no encontrado", "en": "Client not found"},
    "conflict": {"es": "Conflicto con lo guardado", "en": "Conflict with stored data"},
    "configuration-error": {"es": "Error de configuración", "en": "Configuration error"},
    "storage-error": {"es": "La base de datos no respondió", "en": "The database failed"},
    "unauthorized": {"es": "Clave de API ausente o inválida", "en": "Missing or invalid API key"},
    "forbidden": {"es": "La clave no tiene permiso para esto", "en": "The key lacks this scope"},
    "llm-error": {"es": "El modelo de lenguaje falló", "en": "The language model failed"},
    "recuerdo-error": {"es": "Error", "en": "Error"},
    "validation-error": {
        "es": "La petición no tiene la forma esperada",
        "en": "Request validation failed",
    },
    "invalid-json": {"es": "El cuerpo no es JSON válido", "en": "The body is not valid JSON"},
    "payload-too-large": {"es": "El cuerpo es demasiado grande", "en": "The body is too large"},
    "method-not-allowed": {"es": "Método no permitido", "en": "Method not allowed"},
    "internal-error": {"es": "Error interno", "en": "Internal error"},
    "admin-key-created": {
        "es": "Clave de API de administrador (se muestra una sola vez, guárdela)",
        "en": "Admin API key (shown once, keep it safe)",
    },
    "how-bot-key": {
        "es": "Para crear una clave para su bot: recuerdo keys create --scope bot --name mi-bot",
        "en": "To create a key for your bot: recuerdo keys create --scope bot --name my-bot",
    },
    "serving": {"es": "recuerdo escuchando en", "en": "recuerdo listening on"},
    "console-at": {"es": "Documentación de la API en", "en": "API documentation at"},
}


def t(key: str, lang: str = "es") -> str:
    """The text for ``key`` in ``lang`` (Spanish when the language or key is unknown)."""
    entry = _TEXTS.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry["es"]
