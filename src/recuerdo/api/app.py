"""The versioned JSON API over ``Memory``. Routes are thin: parse, call ``Memory``, shape JSON.

>>> app = create_app(memory)          # doctest: +SKIP
>>> uvicorn.run(app, port=8080)       # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Path, Query, Request, Response
from fastapi.openapi.utils import get_openapi
from fastapi.responses import RedirectResponse

from recuerdo import keys as api_keys
from recuerdo.api import problems
from recuerdo.api.middleware import AccessLog, BodyLimit
from recuerdo.api.schemas import (
    BatchIn,
    BatchOut,
    BatchResult,
    ClientOut,
    ClientPage,
    ClientPatch,
    ContextOut,
    ConversationOut,
    ConversationPage,
    CreatedKeyOut,
    HandoffIn,
    HandoffOut,
    KeyIn,
    KeyList,
    KeyOut,
    MessageIn,
    MessageOut,
    MessagePage,
    Problem,
    Status,
    ThreadIn,
    ThreadOut,
)
from recuerdo.errors import Conflict
from recuerdo.keys import ApiKey, Scope
from recuerdo.memory import Memory
from recuerdo.model import NewMessage

ERRORS = {
    code: {"model": Problem, "content": {problems.MEDIA_TYPE: {}}}
    for code in (400, 401, 403, 404, 409, 413, 422, 503)
}


async def authorize(request: Request, *allowed: Scope) -> tuple[Memory, ApiKey]:
    """Authenticate the request's key, check its scope, and scope ``Memory`` to its tenant."""
    # Headers are read directly: declared Header parameters cost FastAPI a type analysis on
    # every request, more than the rest of a get-thread call.
    memory: Memory = request.app.state.memory
    headers = request.headers
    token = headers.get("x-api-key")
    authorization = headers.get("authorization")
    if authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    key = await api_keys.authenticate(memory, token)
    api_keys.require(key, *allowed)
    return memory.for_tenant(key.tenant), key


def scoped(*allowed: Scope) -> Callable[..., Awaitable[tuple[Memory, ApiKey]]]:
    """:func:`authorize` as a FastAPI dependency."""

    async def dependency(request: Request) -> tuple[Memory, ApiKey]:
        return await authorize(request, *allowed)

    return dependency


Bot = Annotated[tuple[Memory, ApiKey], Depends(scoped(Scope.BOT))]
BotOrOperator = Annotated[tuple[Memory, ApiKey], Depends(scoped(Scope.BOT, Scope.OPERATOR))]
Operator = Annotated[tuple[Memory, ApiKey], Depends(scoped(Scope.OPERATOR))]
Admin = Annotated[tuple[Memory, ApiKey], Depends(scoped(Scope.ADMIN))]
Limit = Annotated[int, Query(ge=1, le=500)]
# Bounded so that a request line always fits the HTTP parser's limits (an over-long URL would be
# refused by the server with a plain-text 400 before it reaches the API).
WhoPath = Annotated[
    str,
    Path(max_length=256, description="Phone, WhatsApp JID, NNN@lid or BSUID (URL-encoded)."),
]


def create_app(
    memory: Memory,
    *,
    max_body_bytes: int = 4 * 1024 * 1024,
    on_shutdown: Callable[[], Awaitable[None]] | None = None,
) -> FastAPI:
    """The FastAPI application serving ``memory`` (tenants come from the API keys)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if on_shutdown is not None:
            await on_shutdown()

    app = FastAPI(
        title="recuerdo",
        version="1",
        description="Long-term memory for WhatsApp customer-service bots.",
        lifespan=lifespan,
        responses=ERRORS,  # type: ignore[arg-type]
    )
    lang = memory.settings.language
    problems.install(app, lang)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes, lang=lang)
    app.add_middleware(AccessLog)

    app.state.memory = memory

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/docs")

    @app.get("/healthz", response_model=Status, tags=["health"])
    async def healthz() -> Status:
        return Status(status="ok")

    @app.get("/readyz", response_model=Status, tags=["health"])
    async def readyz() -> Status:
        await memory.tenant_id()  # a round trip to the database
        return Status(status="ready")

    @app.put("/v1/clients/{who}/thread", response_model=ThreadOut, tags=["bot"])
    async def save_thread(who: WhoPath, body: ThreadIn, auth: Bot) -> ThreadOut:
        """The seed's `saveThreadId`: a new thread id starts a new conversation."""
        client = await auth[0].save_thread_id(who, body.thread_id, body.provider)
        return ThreadOut(
            client_id=client.id, thread_id=client.thread_id, provider=client.thread_provider
        )

    @app.get("/v1/clients/{who}/thread", response_model=ThreadOut, tags=["bot"])
    async def get_thread(who: WhoPath, request: Request) -> Response:
        """The seed's `getThreadId`: `thread_id` is null for a client never seen."""
        memory, _ = await authorize(request, Scope.BOT, Scope.OPERATOR)
        info = await memory.thread_info(who)
        body = ThreadOut(
            client_id=info.client_id if info else None,
            thread_id=info.thread_id if info else None,
            provider=info.provider if info else None,
        )
        return Response(body.model_dump_json(), media_type="application/json")

    @app.post(
        "/v1/clients/{who}/messages",
        response_model=MessageOut,
        status_code=201,
        responses={200: {"model": MessageOut, "description": "Already stored (same id)"}},
        tags=["bot"],
        openapi_extra={
            "parameters": [
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "maxLength": 255},
                    "description": "Used as external_id when the body has none.",
                }
            ]
        },
    )
    async def record_message(who: WhoPath, body: MessageIn, request: Request) -> Response:
        """Record one message; a repeated `external_id` (or `Idempotency-Key` header) answers
        200 with the stored message and stores nothing."""
        # The two hottest routes authorise and answer directly: as FastAPI dependencies and
        # response models, that work costs about as much as the route's own.
        memory, _ = await authorize(request, Scope.BOT)
        idempotency_key = request.headers.get("idempotency-key")
        recorded = await memory.record_message(
            who,
            body.role,
            body.content,
            at=body.at,
            thread_id=body.thread_id,
            external_id=body.external_id or idempotency_key,
            content_type=body.content_type,
            metadata=body.metadata,
            profile_name=body.profile_name,
        )
        return Response(
            MessageOut.of(recorded.message).model_dump_json(),
            status_code=201 if recorded.created else 200,
            media_type="application/json",
        )

    @app.post("/v1/messages/batch", response_model=BatchOut, tags=["bot"])
    async def record_batch(body: BatchIn, auth: Bot) -> BatchOut:
        """Record up to 500 messages; one invalid item rejects the batch and stores nothing."""
        items = [
            NewMessage(
                m.who,
                m.role,
                m.content,
                m.at,
                m.thread_id,
                m.external_id,
                m.content_type,
                m.metadata,
                m.profile_name,
            )
            for m in body.messages
        ]
        recorded = await auth[0].record_many(items)
        return BatchOut(
            results=[
                BatchResult(created=r.created, message=MessageOut.of(r.message)) for r in recorded
            ]
        )

    @app.get("/v1/clients/{who}/messages", response_model=MessagePage, tags=["operator"])
    async def history(
        who: WhoPath,
        auth: Operator,
        limit: Limit = 50,
        before: Annotated[str | None, Query(max_length=200)] = None,
        conversation_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
        role: Annotated[list[str] | None, Query()] = None,
    ) -> MessagePage:
        """A client's messages, newest first, with cursor paging."""
        page = await auth[0].history(
            who, limit=limit, before=before, conversation_id=conversation_id, roles=role
        )
        return MessagePage(
            items=[MessageOut.of(m) for m in page.items], next_cursor=page.next_cursor
        )

    @app.get("/v1/clients/{who}", response_model=ClientOut, tags=["operator"])
    async def get_client(who: WhoPath, auth: Operator) -> ClientOut:
        return ClientOut.of(await auth[0].client(who))

    @app.patch("/v1/clients/{who}", response_model=ClientOut, tags=["operator"])
    async def update_client(who: WhoPath, body: ClientPatch, auth: Operator) -> ClientOut:
        """Change name, tags and attributes (merged; a null value removes the key)."""
        client = await auth[0].update_client(
            who,
            customer_name=body.customer_name,
            add_tags=body.add_tags,
            remove_tags=body.remove_tags,
            attributes=body.attributes,
        )
        return ClientOut.of(client)

    @app.get("/v1/clients", response_model=ClientPage, tags=["operator"])
    async def list_clients(
        auth: Operator,
        tag: Annotated[str | None, Query(max_length=64)] = None,
        name: Annotated[str | None, Query(max_length=120)] = None,
        active_since: datetime | None = None,
        paused: bool | None = None,
        limit: Limit = 50,
        cursor: Annotated[str | None, Query(max_length=200)] = None,
    ) -> ClientPage:
        page = await auth[0].clients(
            tag=tag, name=name, active_since=active_since, paused=paused, limit=limit, cursor=cursor
        )
        return ClientPage(items=[ClientOut.of(c) for c in page.items], next_cursor=page.next_cursor)

    @app.get("/v1/clients/{who}/conversations", response_model=ConversationPage, tags=["operator"])
    async def list_conversations(
        who: WhoPath,
        auth: Operator,
        limit: Limit = 50,
        cursor: Annotated[str | None, Query(max_length=200)] = None,
    ) -> ConversationPage:
        page = await auth[0].conversations(who, limit=limit, cursor=cursor)
        return ConversationPage(
            items=[ConversationOut.of(c) for c in page.items], next_cursor=page.next_cursor
        )

    @app.post("/v1/clients/{who}/handoff", response_model=HandoffOut, tags=["bot"])
    async def pause_bot(who: WhoPath, body: HandoffIn, auth: BotOrOperator) -> HandoffOut:
        """A human takes over: the bot must not answer this client until resumed."""
        return HandoffOut.of(await auth[0].pause_bot(who, by=body.by, reason=body.reason))

    @app.delete("/v1/clients/{who}/handoff", response_model=HandoffOut, tags=["bot"])
    async def resume_bot(who: WhoPath, auth: BotOrOperator) -> HandoffOut:
        return HandoffOut.of(await auth[0].resume_bot(who))

    @app.get("/v1/clients/{who}/handoff", response_model=HandoffOut, tags=["bot"])
    async def get_handoff(who: WhoPath, auth: BotOrOperator) -> HandoffOut:
        """What the bot checks before answering."""
        return HandoffOut.of(await auth[0].handoff(who))

    @app.get("/v1/clients/{who}/context", response_model=ContextOut, tags=["bot"])
    async def context(
        who: WhoPath,
        auth: BotOrOperator,
        text: Annotated[str | None, Query(max_length=1000)] = None,
        lang: Annotated[Literal["es", "en"] | None, Query()] = None,
    ) -> ContextOut:
        """The returning-customer context (the seed's `enrichContextWithHistory`): whether the
        client is returning, days since the last contact, name, a ready `note` for the LLM,
        profile, last summary and outcome, open commitments, past messages relevant to `text`,
        and `rehydration_messages` to start a fresh LLM conversation."""
        note = await auth[0].context_for(who, text, language=lang)
        return ContextOut.model_validate(note.to_dict())

    @app.post("/v1/keys", response_model=CreatedKeyOut, status_code=201, tags=["admin"])
    async def create_key(body: KeyIn, auth: Admin) -> CreatedKeyOut:
        """Create an API key for this tenant. The key is in this answer only."""
        created = await api_keys.create(auth[0], name=body.name, scope=body.scope)
        return CreatedKeyOut(key=created.key, **_key_out(created.record).model_dump())

    @app.get("/v1/keys", response_model=KeyList, tags=["admin"])
    async def list_keys(auth: Admin) -> KeyList:
        return KeyList(items=[_key_out(k) for k in await api_keys.list_keys(auth[0])])

    @app.delete("/v1/keys/{key_id}", status_code=204, tags=["admin"])
    async def revoke_key(key_id: Annotated[int, Path(ge=1, le=2**62)], auth: Admin) -> Response:
        """Revoke a key of this tenant (not the one making the request)."""
        if key_id == auth[1].id:
            raise Conflict("a key cannot revoke itself; use another admin key")
        await api_keys.revoke(auth[0], key_id)
        return Response(status_code=204)

    from recuerdo.api import search_routes  # imports this module's auth dependencies

    app.include_router(search_routes.router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer", "description": "An API key."},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            }
            for path, operations in schema["paths"].items():
                if path.startswith("/v1/"):
                    for operation in operations.values():
                        operation["security"] = [{"bearer": []}, {"apiKey": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _key_out(key: ApiKey) -> KeyOut:
    return KeyOut(
        id=key.id,
        name=key.name,
        scope=key.scope.value,
        prefix=key.prefix,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )
