"""``GET /v1/search``: search one client's history or the whole tenant (operator scope).

>>> app.include_router(router)   # doctest: +SKIP
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, Field

from recuerdo.api.app import Operator
from recuerdo.api.schemas import ConversationOut, MessageOut
from recuerdo.search.service import MAX_LIMIT, SearchHit

router = APIRouter(tags=["operator"])


class SearchHitOut(BaseModel):
    kind: Literal["message", "summary"] = Field(
        description="message: a message matched; summary: a conversation's summary matched "
        "(then `message` is null)."
    )
    score: float = Field(description="Higher is better; comparable within one answer only.")
    snippet: str = Field(description="The matching text, matched words marked « ».")
    client_id: int
    conversation: ConversationOut
    message: MessageOut | None

    @classmethod
    def of(cls, hit: SearchHit) -> SearchHitOut:
        return cls(
            kind=hit.kind,
            score=hit.score,
            snippet=hit.snippet,
            client_id=hit.client_id,
            conversation=ConversationOut.of(hit.conversation),
            message=MessageOut.of(hit.message) if hit.message else None,
        )


class SearchResults(BaseModel):
    items: list[SearchHitOut]


@router.get("/v1/search", response_model=SearchResults)
async def search(
    auth: Operator,
    # 5,000 characters: even as 4-byte UTF-8, percent-encoded, the request line stays under the
    # HTTP server's 64 KiB, so a long query gets this API's answer, not the server's plain 400.
    q: Annotated[str, Query(max_length=5000, description="What to look for.")] = "",
    who: Annotated[
        str | None,
        Query(max_length=256, description="Only this client's history (phone, JID, lid, BSUID)."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
    since: Annotated[AwareDatetime | None, Query(description="Messages at or after.")] = None,
    until: Annotated[AwareDatetime | None, Query(description="Messages before.")] = None,
    role: Annotated[list[str] | None, Query(description="Only messages of these roles.")] = None,
) -> SearchResults:
    """Best hits first: messages (with their `external_id`) and conversation summaries, each with
    its conversation and a highlighted snippet. An empty query, or one of only stop words,
    answers no items."""
    hits = await auth[0].search(q, who=who, limit=limit, since=since, until=until, roles=role)
    return SearchResults(items=[SearchHitOut.of(h) for h in hits])
