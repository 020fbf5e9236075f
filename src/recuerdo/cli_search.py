"""``recuerdo search``: search from the command line, and keep the search index.

``recuerdo search TEXT`` searches (it is ``recuerdo search query TEXT``: a first word that is no
subcommand is the query); ``reindex`` rebuilds the index, ``index`` drains its queue, ``embed``
backfills embeddings. To search for the word "reindex" itself: ``recuerdo search query reindex``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from typer.core import TyperGroup

from recuerdo.cli import AsJson, Db, Tenant, app, emit, run
from recuerdo.errors import NaiveDatetime
from recuerdo.memory import Memory
from recuerdo.model import require_aware
from recuerdo.search.service import SearchHit, SearchService


class _QueryByDefault(TyperGroup):
    """A group whose first argument, when it names no subcommand, is the query of ``query``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # ctx: typer's own click
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["query", *args]
        return super().parse_args(ctx, args)


search_app = typer.Typer(
    cls=_QueryByDefault,
    help="Search messages and conversation summaries; keep the search index.\n\n"
    'Example: recuerdo search "pedido de marzo" --who 573003913251',
    no_args_is_help=True,
)
app.add_typer(search_app, name="search")


@search_app.command("query")
def query(
    text: Annotated[str, typer.Argument(help="What to look for.")],
    who: Annotated[
        str | None, typer.Option(help="Only this client's history (phone, JID, lid, BSUID).")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many hits.")] = 10,
    since: Annotated[str | None, typer.Option(help="Messages at or after (ISO 8601).")] = None,
    until: Annotated[str | None, typer.Option(help="Messages before (ISO 8601).")] = None,
    role: Annotated[list[str] | None, typer.Option(help="Only these roles (repeatable).")] = None,
    db: Db = None,
    tenant: Tenant = None,
    as_json: AsJson = False,
) -> None:
    """Search one client (--who) or every client of the tenant; best hits first.

    Example: recuerdo search "no me llegó el pedido" --limit 5
    """
    start = _time(since, "--since") if since else None
    end = _time(until, "--until") if until else None
    hits = run(
        db,
        tenant,
        lambda m: m.search(text, who=who, limit=limit, since=start, until=end, roles=role),
    )
    emit(hits, as_json, lambda: "\n".join(_describe(h) for h in hits) or "(no hits)")


@search_app.command("reindex")
def reindex(
    db: Db = None, quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False
) -> None:
    """Rebuild the search index of the whole database (every tenant), with a progress bar.

    Example: recuerdo search reindex --db postgresql://app@localhost/recuerdo
    """
    done = _with_progress("reindexing", quiet, db, lambda s, p: s.reindex(p))
    typer.echo(f"{done} messages indexed")


@search_app.command("index")
def index(db: Db = None) -> None:
    """Index the messages waiting in the queue (what `recuerdo serve` does in the background).

    Example: recuerdo search index
    """
    done = run(db, None, lambda m: _drain(SearchService.of(m)))
    typer.echo(f"{done} messages indexed")


@search_app.command("embed")
def embed(
    db: Db = None, quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False
) -> None:
    """Embed every message that has no vector yet (after turning embeddings on).

    Example: RECUERDO_SEARCH_EMBEDDINGS=local recuerdo search embed
    """
    done = _with_progress("embedding", quiet, db, lambda s, p: s.backfill_embeddings(p))
    typer.echo(f"{done} messages embedded")


async def _drain(service: SearchService) -> int:
    total = 0
    while (n := await service.index_pending()) > 0:
        total += n
    return total


def _with_progress(
    label: str,
    quiet: bool,
    db: str | None,
    action: Callable[[SearchService, Callable[[int, int], None] | None], Awaitable[int]],
) -> int:
    if quiet:
        return run(db, None, lambda m: action(SearchService.of(m), None))
    columns = (
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task(label, total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        async def go(memory: Memory) -> int:
            return await action(SearchService.of(memory), progress)

        return run(db, None, go)


def _time(value: str, option: str) -> datetime:
    try:
        return require_aware(datetime.fromisoformat(value), option)
    except (ValueError, NaiveDatetime):
        raise typer.BadParameter(f"{option} takes ISO 8601 with offset, got {value!r}") from None


def _describe(hit: SearchHit) -> str:
    at: datetime = hit.message.at if hit.message else hit.conversation.started_at
    what: Any = hit.message.role.value if hit.message else "summary"
    ref = hit.message.external_id if hit.message and hit.message.external_id else ""
    return (
        f"{hit.score:8.3f}  {at.isoformat(timespec='minutes')}  client {hit.client_id}  "
        f"conv {hit.conversation.id}  [{what}] {hit.snippet}" + (f"  ({ref})" if ref else "")
    )
