"""CLI commands for background work and context: ``worker``, ``summarize``, ``context``."""

from __future__ import annotations

import asyncio
import json
import signal
from typing import Annotated

import typer

from recuerdo.cli import AsJson, Db, Tenant, Who, app, fail, parse_time, run
from recuerdo.errors import RecuerdoError
from recuerdo.jobs.summaries import SummaryJobs, requeue_summaries
from recuerdo.jobs.worker import run_worker
from recuerdo.memory import Memory
from recuerdo.settings import Settings


@app.command()
def worker(
    db: Db = None,
    interval: Annotated[float | None, typer.Option(help="Seconds to sleep when idle.")] = None,
) -> None:
    """Run the background worker (close idle conversations, summaries, profiles) until stopped.
    Several workers may run at once on PostgreSQL.

    Example: recuerdo worker --db postgresql://app@localhost/recuerdo
    """

    async def main() -> None:
        settings = Settings()
        memory = await Memory.open(db, settings=settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        typer.echo("worker running (Ctrl+C to stop)")
        try:
            await run_worker(memory, stop, interval=interval or settings.worker_interval_s)
        finally:
            await memory.close()

    try:
        asyncio.run(main())
    except RecuerdoError as exc:
        fail(exc)


@app.command()
def summarize(
    who: Annotated[str | None, typer.Option("--who", help="Only this client.")] = None,
    since: Annotated[str | None, typer.Option(help="Conversations started at/after (ISO).")] = None,
    until: Annotated[str | None, typer.Option(help="Conversations started before (ISO).")] = None,
    db: Db = None,
    tenant: Tenant = None,
) -> None:
    """Summarise closed conversations again (a client, a date range, or all), with a progress bar.

    Example: recuerdo summarize --who 573003913251
    """
    start = parse_time(since, "--since")
    end = parse_time(until, "--until")

    async def action(memory: Memory) -> int:
        queued = await requeue_summaries(memory, who=who, since=start, until=end)
        with typer.progressbar(length=queued, label="summarising") as bar:
            jobs = SummaryJobs(memory, on_claimed=lambda _: bar.update(1))
            report = await jobs.run_until_idle()
        typer.echo(f"{report.saved} summarised, {report.failed} failed")
        for error in report.errors[:10]:
            typer.echo(f"  failed: {error}", err=True)
        return report.failed

    failed = run(db, tenant, action)
    if failed:
        raise typer.Exit(1)


@app.command()
def context(
    who: Who,
    text: Annotated[str | None, typer.Option(help="What the client just wrote.")] = None,
    lang: Annotated[str | None, typer.Option(help="es or en.")] = None,
    db: Db = None,
    tenant: Tenant = None,
    as_json: AsJson = False,
) -> None:
    """Show the returning-customer context the bot would get.

    Example: recuerdo context 573003913251 --text "¿ya salió mi pedido?"
    """
    note = run(db, tenant, lambda m: m.context_for(who, text, language=lang))
    if as_json:
        typer.echo(json.dumps(note.to_dict(), ensure_ascii=False, indent=2))
        return
    state = "returning" if note.is_returning else "not returning"
    typer.echo(f"{state}; days since last contact: {note.days_since}")
    typer.echo(note.note or "(no note)")
