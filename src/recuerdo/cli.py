"""The ``recuerdo`` command line: a few lines over ``Memory`` per command.

Every command takes ``--db`` (default: the RECUERDO_DATABASE_URL setting, else a SQLite file
under ./data) and ``--tenant``; reading commands take ``--json``. Every help text ends with an
example (checked by a test).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, is_dataclass
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from recuerdo.errors import RecuerdoError
from recuerdo.memory import Memory
from recuerdo.model import Client, Message, require_aware
from recuerdo.settings import Settings

T = TypeVar("T")

app = typer.Typer(
    name="recuerdo",
    help="Long-term memory for WhatsApp bots.\n\nExample: recuerdo serve",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.\n\nExample: recuerdo db upgrade", no_args_is_help=True)
thread_app = typer.Typer(
    help="The client's current LLM thread id.\n\nExample: recuerdo thread get 573003913251",
    no_args_is_help=True,
)
client_app = typer.Typer(
    help="Show or change one client.\n\nExample: recuerdo client show 573003913251",
    no_args_is_help=True,
)
keys_app = typer.Typer(
    help="API keys (scopes: bot, operator, admin).\n\nExample: recuerdo keys create --scope bot",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(thread_app, name="thread")
app.add_typer(client_app, name="client")

Db = Annotated[
    str | None, typer.Option("--db", help="Database URL (sqlite:///… or postgresql://…).")
]
Tenant = Annotated[str | None, typer.Option("--tenant", help="Tenant slug (default: 'default').")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
Who = Annotated[str, typer.Argument(help="Phone, WhatsApp JID, NNN@lid or BSUID.")]


def run(db: str | None, tenant: str | None, action: Callable[[Memory], Awaitable[T]]) -> T:
    """Open the database, run ``action``, close; print RecuerdoErrors as one clear line."""

    async def main() -> T:
        memory = await Memory.open(db, settings=Settings(), tenant=tenant)
        try:
            return await action(memory)
        finally:
            await memory.close()

    try:
        return asyncio.run(main())
    except RecuerdoError as exc:
        fail(exc)


def fail(exc: RecuerdoError) -> NoReturn:
    """Print a RecuerdoError as one clear line and exit with status 2."""
    typer.secho(f"error ({exc.code}): {exc.message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2) from None


def emit(value: Any, as_json: bool, text: Callable[[], str]) -> None:
    typer.echo(json.dumps(to_jsonable(value), ensure_ascii=False, indent=2) if as_json else text())


def to_jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: to_jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def describe_client(c: Client) -> str:
    lines = [
        f"client {c.id}  {c.name or '(sin nombre)'}",
        f"  identifiers:   {', '.join(str(i) for i in c.identifiers)}",
        f"  thread:        {c.thread_id or '-'} ({c.thread_provider or '-'})",
        f"  conversations: {c.total_conversations}   messages: {c.total_messages}",
        f"  last contact:  {c.last_interaction_at.isoformat() if c.last_interaction_at else '-'}",
        f"  tags:          {', '.join(c.tags) or '-'}",
        f"  attributes:    {json.dumps(c.attributes, ensure_ascii=False)}",
        f"  bot paused:    {'yes, by ' + (c.handoff.by or '?') if c.handoff.paused else 'no'}",
    ]
    if c.profile_summary:
        lines.append(f"  profile:       {c.profile_summary}")
    return "\n".join(lines)


def describe_message(m: Message) -> str:
    return f"{m.at.isoformat(timespec='seconds')}  [{m.role.value}]  {m.content}"


@db_app.command("upgrade")
def db_upgrade(db: Db = None) -> None:
    """Create or migrate the schema to the latest version.

    Example: recuerdo db upgrade --db postgresql://app@localhost/recuerdo
    """

    async def main() -> None:
        memory = await Memory.open(db, settings=Settings(), migrate=True)
        await memory.close()

    try:
        asyncio.run(main())
    except RecuerdoError as exc:
        fail(exc)
    typer.echo("schema up to date")


@app.command()
def record(
    who: Who,
    role: Annotated[str, typer.Argument(help="user, assistant, manual_operator or system.")],
    content: Annotated[str, typer.Argument(help="The message text.")],
    thread: Annotated[str | None, typer.Option(help="LLM thread id of the message.")] = None,
    external_id: Annotated[str | None, typer.Option(help="Provider message id (wamid…).")] = None,
    at: Annotated[str | None, typer.Option(help="ISO 8601 time with offset.")] = None,
    content_type: Annotated[str, typer.Option("--type", help="text, image, audio, …")] = "text",
    db: Db = None,
    tenant: Tenant = None,
    as_json: AsJson = False,
) -> None:
    """Record one message.

    Example: recuerdo record 573003913251 user "Hola, ¿tienen envíos a Cali?"
    """
    when = parse_time(at, "--at")
    recorded = run(
        db,
        tenant,
        lambda m: m.record_message(
            who,
            role,
            content,
            at=when,
            thread_id=thread,
            external_id=external_id,
            content_type=content_type,
        ),
    )
    state = "recorded" if recorded.created else "already stored"
    emit(recorded, as_json, lambda: f"{state}: message {recorded.message.id}")


@app.command()
def history(
    who: Who,
    limit: Annotated[int, typer.Option(help="How many messages.")] = 20,
    before: Annotated[str | None, typer.Option(help="Cursor from a previous page.")] = None,
    conversation: Annotated[int | None, typer.Option(help="Only this conversation.")] = None,
    role: Annotated[list[str] | None, typer.Option(help="Only these roles.")] = None,
    db: Db = None,
    tenant: Tenant = None,
    as_json: AsJson = False,
) -> None:
    """Show a client's messages, oldest of the page first.

    Example: recuerdo history 573003913251 --limit 50
    """
    page = run(
        db,
        tenant,
        lambda m: m.history(
            who, limit=limit, before=before, conversation_id=conversation, roles=role
        ),
    )

    def text() -> str:
        lines = [describe_message(msg) for msg in reversed(page.items)]
        if page.next_cursor:
            lines.append(f"(older: --before {page.next_cursor})")
        return "\n".join(lines) or "(no messages)"

    emit(page, as_json, text)


@client_app.command("show")
def client_show(who: Who, db: Db = None, tenant: Tenant = None, as_json: AsJson = False) -> None:
    """Show one client.

    Example: recuerdo client show "+57 300 391 3251"
    """
    found = run(db, tenant, lambda m: m.client(who))
    emit(found, as_json, lambda: describe_client(found))


@client_app.command("update")
def client_update(
    who: Who,
    name: Annotated[str | None, typer.Option(help="Confirmed customer name.")] = None,
    add_tag: Annotated[list[str] | None, typer.Option(help="Tag to add (repeatable).")] = None,
    remove_tag: Annotated[list[str] | None, typer.Option(help="Tag to remove.")] = None,
    attr: Annotated[
        list[str] | None, typer.Option(help="key=value attribute; key= removes it.")
    ] = None,
    db: Db = None,
    tenant: Tenant = None,
    as_json: AsJson = False,
) -> None:
    """Change a client's name, tags or attributes.

    Example: recuerdo client update 573003913251 --name "María" --add-tag vip --attr ciudad=Cali
    """
    attributes: dict[str, Any] = {}
    for pair in attr or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"--attr takes key=value, got {pair!r}")
        attributes[key] = value or None
    updated = run(
        db,
        tenant,
        lambda m: m.update_client(
            who,
            customer_name=name,
            add_tags=add_tag or (),
            remove_tags=remove_tag or (),
            attributes=attributes or None,
        ),
    )
    emit(updated, as_json, lambda: describe_client(updated))


@client_app.command("link")
def client_link(
    who: Who,
    identifier: Annotated[str, typer.Argument(help="Another phone, lid or BSUID of the client.")],
    db: Db = None,
    tenant: Tenant = None,
) -> None:
    """Make another identifier find the same client.

    Example: recuerdo client link 573003913251 123456789012@lid
    """
    linked = run(db, tenant, lambda m: m.link_identifier(who, identifier))
    typer.echo(describe_client(linked))


@client_app.command("pause")
def client_pause(
    who: Who,
    by: Annotated[str, typer.Option(help="Who takes over (operator name or email).")],
    reason: Annotated[str | None, typer.Option(help="Why.")] = None,
    db: Db = None,
    tenant: Tenant = None,
) -> None:
    """Pause the bot for a client (a human takes over).

    Example: recuerdo client pause 573003913251 --by ana --reason "reclamo"
    """
    run(db, tenant, lambda m: m.pause_bot(who, by=by, reason=reason))
    typer.echo("bot paused")


@client_app.command("resume")
def client_resume(who: Who, db: Db = None, tenant: Tenant = None) -> None:
    """Give the client back to the bot.

    Example: recuerdo client resume 573003913251
    """
    run(db, tenant, lambda m: m.resume_bot(who))
    typer.echo("bot resumed")


@app.command()
def clients(
    tag: Annotated[str | None, typer.Option(help="Only clients with this tag.")] = None,
    name: Annotated[str | None, typer.Option(help="Name contains this text.")] = None,
    limit: Annotated[int, typer.Option(help="How many clients.")] = 20,
    cursor: Annotated[str | None, typer.Option(help="Cursor from a previous page.")] = None,
    db: Db = None,
    tenant: Tenant = None,
    as_json: AsJson = False,
) -> None:
    """List clients, most recently active first.

    Example: recuerdo clients --tag vip --limit 50
    """
    page = run(db, tenant, lambda m: m.clients(tag=tag, name=name, limit=limit, cursor=cursor))

    def text() -> str:
        lines = [
            f"{c.id:>6}  {(c.phone or str(c.identifiers[0]) if c.identifiers else '-'):<16} "
            f"{(c.name or '-'):<24} {c.total_messages:>6} msgs  {_when(c.last_interaction_at)}"
            for c in page.items
        ]
        if page.next_cursor:
            lines.append(f"(more: --cursor {page.next_cursor})")
        return "\n".join(lines) or "(no clients)"

    emit(page, as_json, text)


@app.command()
def conversations(
    who: Who, limit: int = 20, db: Db = None, tenant: Tenant = None, as_json: AsJson = False
) -> None:
    """List a client's conversations, newest first.

    Example: recuerdo conversations 573003913251
    """
    page = run(db, tenant, lambda m: m.conversations(who, limit=limit))

    def text() -> str:
        return (
            "\n".join(
                f"{c.id:>6}  {c.started_at.isoformat(timespec='minutes')}  "
                f"{'open' if c.open else c.end_reason or 'closed':<13} {c.handled_by.value:<8} "
                f"{sum(c.counts.values()):>4} msgs  {c.summary or ''}"
                for c in page.items
            )
            or "(no conversations)"
        )

    emit(page, as_json, text)


@thread_app.command("get")
def thread_get(who: Who, db: Db = None, tenant: Tenant = None) -> None:
    """Print the client's current thread id (empty if none).

    Example: recuerdo thread get 573003913251@s.whatsapp.net
    """
    typer.echo(run(db, tenant, lambda m: m.get_thread_id(who)) or "")


@thread_app.command("set")
def thread_set(
    who: Who,
    thread_id: Annotated[str, typer.Argument(help="The new thread / conversation id.")],
    provider: Annotated[str | None, typer.Option(help="openai, azure, ollama, …")] = None,
    db: Db = None,
    tenant: Tenant = None,
) -> None:
    """Set the client's current thread id (a new thread starts a new conversation).

    Example: recuerdo thread set 573003913251 conv_abc123 --provider openai
    """
    client = run(db, tenant, lambda m: m.save_thread_id(who, thread_id, provider))
    typer.echo(f"thread {client.thread_id} saved ({client.total_conversations} conversations)")


@app.command("close-idle")
def close_idle(db: Db = None, tenant: Tenant = None) -> None:
    """Close conversations idle for longer than the idle timeout.

    Example: recuerdo close-idle
    """
    closed = run(db, tenant, lambda m: m.close_idle_conversations())
    typer.echo(f"{closed} conversations closed")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    db: Db = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning, error.")] = "info",
) -> None:
    """Run the HTTP API on the embedded SQLite database (or --db). Prints an admin key on first
    start.

    Example: recuerdo serve --port 8080
    """
    from recuerdo.server import serve as run_server

    try:
        asyncio.run(run_server(host=host, port=port, db=db, log_level=log_level))
    except RecuerdoError as exc:
        fail(exc)
    except KeyboardInterrupt:
        pass


@keys_app.command("create")
def keys_create(
    scope: Annotated[str, typer.Option(help="bot, operator or admin.")] = "bot",
    name: Annotated[str, typer.Option(help="What the key is for.")] = "bot",
    db: Db = None,
    tenant: Tenant = None,
) -> None:
    """Create an API key and print it once (only its hash is stored).

    Example: recuerdo keys create --scope bot --name "bot de ventas"
    """
    from recuerdo import keys

    created = run(db, tenant, lambda m: keys.create(m, name=name, scope=scope))
    typer.echo(f"{created.record.scope.value} key {created.record.id} ({created.record.name}):")
    typer.echo(created.key)


@keys_app.command("list")
def keys_list(db: Db = None, tenant: Tenant = None, as_json: AsJson = False) -> None:
    """List the tenant's API keys (never the keys themselves).

    Example: recuerdo keys list
    """
    from recuerdo import keys

    found = run(db, tenant, keys.list_keys)
    emit(
        found,
        as_json,
        lambda: (
            "\n".join(
                f"{k.id:>4}  {k.scope.value:<8} {k.prefix}…  {k.name}"
                f"{'  (revoked)' if k.revoked_at else ''}"
                for k in found
            )
            or "(no keys)"
        ),
    )


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[int, typer.Argument(help="The key's id (from keys list).")],
    db: Db = None,
    tenant: Tenant = None,
) -> None:
    """Revoke an API key.

    Example: recuerdo keys revoke 3
    """
    from recuerdo import keys

    run(db, tenant, lambda m: keys.revoke(m, key_id))
    typer.echo(f"key {key_id} revoked")


def _when(value: datetime | None) -> str:
    return value.isoformat(timespec="minutes") if value else "-"


def parse_time(value: str | None, option: str) -> datetime | None:
    """An ISO 8601 option value with its offset; ``None`` stays ``None``."""
    if value is None:
        return None
    try:
        return require_aware(datetime.fromisoformat(value), option)
    except (ValueError, RecuerdoError):
        raise typer.BadParameter(
            f"{option} takes ISO 8601 with a timezone offset (2026-01-31T09:30:00-05:00), "
            f"got {value!r}"
        ) from None


def register_commands() -> None:
    """Import the modules that add commands to ``app`` (kept apart to keep this one small)."""
    import recuerdo.cli_import  # import …, export
    import recuerdo.cli_jobs  # worker, summarize, context
    import recuerdo.cli_search  # noqa: F401  (search)


def main() -> None:
    register_commands()
    app()


if __name__ == "__main__":
    main()
