"""CLI commands that bring history in and take it out: ``import …`` and ``export``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from recuerdo.cli import Db, Tenant, app, parse_time, run
from recuerdo.exporting import export_messages
from recuerdo.importers import (
    ImportProgress,
    ImportReport,
    import_whatsapp,
    read_builderbot_contacts,
    read_builderbot_json,
    read_builderbot_mongo_export,
    read_builderbot_postgres,
    read_jsonl,
    record_in_batches,
)
from recuerdo.importers.jsonl import to_line
from recuerdo.importers.recording import Sourced
from recuerdo.importers.report import ParseProblem
from recuerdo.memory import Memory

import_app = typer.Typer(
    help="Import existing history (idempotent: importing twice stores nothing twice).\n\n"
    "Example: recuerdo import whatsapp chat.txt --business 'Tienda Ana'",
    no_args_is_help=True,
)
app.add_typer(import_app, name="import")

Files = Annotated[list[Path], typer.Argument(help="Files to import.", exists=True, dir_okay=False)]


def _finish(report: ImportReport) -> None:
    typer.echo(
        f"{report.imported} imported, {report.duplicates} already stored, "
        f"{report.system_lines} system lines, {report.skipped} skipped, "
        f"{report.problem_count} unreadable lines"
    )
    for warning in report.warnings:
        typer.secho(f"warning: {warning}", fg=typer.colors.YELLOW, err=True)
    for problem in report.problems[:50]:
        typer.echo(f"  {problem}", err=True)
    if report.problem_count > 50:
        typer.echo(f"  … and {report.problem_count - 50} more", err=True)
    if report.problem_count:
        raise typer.Exit(1)


@import_app.command("whatsapp")
def import_whatsapp_cmd(
    files: Files,
    business: Annotated[
        list[str], typer.Option("--business", help="Author name(s) that are the business's bot.")
    ],
    operator: Annotated[
        list[str] | None, typer.Option("--operator", help="Author name(s) of human agents.")
    ] = None,
    phone: Annotated[
        str | None, typer.Option(help="The client's number when the export shows only a name.")
    ] = None,
    tz: Annotated[str, typer.Option(help="Time zone of the export's times.")] = "America/Bogota",
    skip_system: Annotated[bool, typer.Option(help="Do not store system lines.")] = False,
    allow_groups: Annotated[bool, typer.Option(help="Import group chats too.")] = False,
    date_order: Annotated[
        str | None, typer.Option(help="dmy or mdy, when the file cannot tell.")
    ] = None,
    db: Db = None,
    tenant: Tenant = None,
) -> None:
    """Import WhatsApp "Export chat" files (.txt or .zip, Android or iOS, any language).

    Importing a file twice stores nothing twice. A file of 8 MiB or more is read by worker
    processes (two on a multi-core machine) while this one stores.

    Example: recuerdo import whatsapp chat.zip --business "Tienda Ana" --phone 573001234567
    """

    async def action(memory: Memory) -> ImportReport:
        with typer.progressbar(length=100, label="importing", file=sys.stderr) as bar:
            shown = 0

            def progress(p: ImportProgress) -> None:
                nonlocal shown
                done = int(100 * p.lines_read / p.lines_total) if p.lines_total else 0
                bar.update(max(0, done - shown))
                shown = max(shown, done)

            return await import_whatsapp(
                memory,
                files,
                business=business,
                operators=operator or (),
                phone=phone,
                tz=tz,
                keep_system=not skip_system,
                allow_groups=allow_groups,
                date_order=date_order,
                progress=progress,
            )

    _finish(run(db, tenant, action))


Stream = Iterator[Sourced | ParseProblem]


def _import_stream(
    db: str | None, tenant: str | None, file: str, stream: Callable[[ImportReport], Stream]
) -> None:
    async def action(memory: Memory) -> ImportReport:
        report = ImportReport(files=[file])
        await record_in_batches(memory, stream(report), report, file=file)
        return report

    _finish(run(db, tenant, action))


def _jsonl(path: Path, report: ImportReport) -> Stream:
    return read_jsonl(path)


def _builderbot_json(path: Path, report: ImportReport) -> Stream:
    return read_builderbot_json(path, report=report)


def _builderbot_mongo(path: Path, report: ImportReport) -> Stream:
    return read_builderbot_mongo_export(path, report=report)


@import_app.command("jsonl")
def import_jsonl(files: Files, db: Db = None, tenant: Tenant = None) -> None:
    """Import recuerdo JSONL files (docs/jsonl-format.md), e.g. from `recuerdo export`.

    Example: recuerdo import jsonl export.jsonl
    """
    for path in files:
        _import_stream(db, tenant, path.name, partial(_jsonl, path))


@import_app.command("builderbot-json")
def import_builderbot_json(files: Files, db: Db = None, tenant: Tenant = None) -> None:
    """Import BuilderBot's JSON database file (@builderbot/database-json, db.json).

    Example: recuerdo import builderbot-json db.json
    """
    for path in files:
        _import_stream(db, tenant, path.name, partial(_builderbot_json, path))


@import_app.command("builderbot-mongo")
def import_builderbot_mongo(files: Files, db: Db = None, tenant: Tenant = None) -> None:
    """Import BuilderBot's MongoDB `history` collection exported with mongoexport (JSON lines).

    Example: recuerdo import builderbot-mongo history.json
    """
    for path in files:
        _import_stream(db, tenant, path.name, partial(_builderbot_mongo, path))


@import_app.command("builderbot-postgres")
def import_builderbot_postgres(
    source: Annotated[str, typer.Argument(help="DSN of BuilderBot's PostgreSQL database.")],
    schema: Annotated[str, typer.Option(help="Schema of the history/contact tables.")] = "public",
    db: Db = None,
    tenant: Tenant = None,
) -> None:
    """Import BuilderBot's PostgreSQL adapter tables (`history`, and `contact.values` as client
    attributes).

    Example: recuerdo import builderbot-postgres postgresql://bot@localhost/builderbot
    """

    async def action(memory: Memory) -> ImportReport:
        report = ImportReport(files=[f"{schema}.history"])
        await record_in_batches(
            memory,
            read_builderbot_postgres(source, schema=schema, report=report),
            report,
            file=f"{schema}.history",
        )
        contacts, problems = await read_builderbot_contacts(source, schema=schema)
        for problem in problems:
            report.add_problem(problem)
        for contact in contacts:
            await memory.update_client(contact.who, attributes=contact.attributes)
        return report

    _finish(run(db, tenant, action))


@app.command()
def export(
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default: standard output).")
    ] = None,
    who: Annotated[str | None, typer.Option("--who", help="Only this client.")] = None,
    since: Annotated[str | None, typer.Option(help="Messages at or after (ISO 8601).")] = None,
    until: Annotated[str | None, typer.Option(help="Messages before (ISO 8601).")] = None,
    db: Db = None,
    tenant: Tenant = None,
) -> None:
    """Export messages as recuerdo JSONL (the whole tenant, one client, or a date range).

    Example: recuerdo export --who 573003913251 --out cliente.jsonl
    """
    start, end = parse_time(since, "--since"), parse_time(until, "--until")

    async def action(memory: Memory) -> int:
        fp = sys.stdout if out is None else out.open("w", encoding="utf-8")
        written = 0
        try:
            async for message in export_messages(memory, who=who, since=start, until=end):
                fp.write(to_line(message) + "\n")  # streamed: constant memory
                written += 1
        finally:
            if out is not None:
                fp.close()
        return written

    written = run(db, tenant, action)
    typer.echo(f"{written} messages exported", err=True)
