"""Errors as ``application/problem+json`` (RFC 9457) with a stable ``type`` per error."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from recuerdo.errors import RecuerdoError
from recuerdo.i18n import t

log = logging.getLogger("recuerdo.api")
PROBLEM_BASE = "https://recuerdo.dev/problems/"
MEDIA_TYPE = "application/problem+json"


def problem(status: int, code: str, detail: str, lang: str = "es") -> JSONResponse:
    body = {
        "type": PROBLEM_BASE + code,
        "title": t(code, lang),
        "status": status,
        "detail": detail,
        "code": code,
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


def install(app: FastAPI, lang: str) -> None:
    @app.exception_handler(RecuerdoError)
    async def recuerdo_error(request: Request, exc: RecuerdoError) -> JSONResponse:
        if exc.status >= 500:
            log.error("%s %s failed: %s", request.method, request.url.path, exc.code)
        return problem(exc.status, exc.code, exc.message, lang)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return problem(400, "invalid-json", "the request body is not valid JSON", lang)
        # The same codes as the library for the same mistakes.
        for e in errors:
            field = e.get("loc", ("",))[-1]
            if field == "role" and e.get("type") == "literal_error":
                return problem(
                    422,
                    "invalid-role",
                    f"unknown role {e.get('input')!r}; accepted roles: user, assistant, "
                    "manual_operator, system",
                    lang,
                )
            if e.get("type") == "timezone_aware":
                return problem(
                    422, "naive-datetime", f"{field}: the datetime needs a timezone offset", lang
                )
        parts = []
        for e in errors[:5]:
            where = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
            parts.append(f"{where or 'body'}: {e.get('msg')}")
        return problem(422, "validation-error", "; ".join(parts), lang)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed", 413: "payload-too-large"}.get(
            exc.status_code, "invalid-input"
        )
        return problem(exc.status_code, code, str(exc.detail), lang)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The process edge: log the class (never the body: it may hold customer data).
        log.exception(
            "unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path
        )
        return problem(500, "internal-error", "unexpected error; see the server log", lang)
