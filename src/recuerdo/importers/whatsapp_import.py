"""Importing WhatsApp chat exports into recuerdo: the library call under
``recuerdo import whatsapp FILE…``."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable, Sequence

from recuerdo.errors import InvalidInput
from recuerdo.importers.parallel import (
    PreparedRecorder,
    WorkerCrew,
    import_in_worker,
    worth_a_worker,
)
from recuerdo.importers.recording import DEFAULT_BATCH, MessageRecorder, record_in_batches
from recuerdo.importers.report import ImportProgress, ImportReport
from recuerdo.importers.sources import ExportSource
from recuerdo.importers.whatsapp import DEFAULT_TZ, ExportSurvey, parse_export, survey_export, zone
from recuerdo.importers.whatsapp_headers import DateOrder
from recuerdo.importers.whatsapp_roles import RolePlan, normalise_name, plan_roles, to_new_messages


async def import_whatsapp(
    memory: MessageRecorder,
    paths: Iterable[str | os.PathLike[str] | ExportSource],
    *,
    business: str | Sequence[str],
    operators: Sequence[str] = (),
    phone: str | None = None,
    tz: str = DEFAULT_TZ,
    keep_system: bool = True,
    allow_groups: bool = False,
    date_order: DateOrder | str | None = None,
    progress: Callable[[ImportProgress], None] | None = None,
    batch_size: int = DEFAULT_BATCH,
    worker: bool | None = None,
) -> ImportReport:
    """Import WhatsApp "Export chat" files (``.txt`` or ``.zip``) and report what happened.

    Every file is read once to plan the import before anything is stored, so a wrong
    ``business`` name, a group chat or an unreadable file in any of them raises (InvalidInput,
    ImportFormatError) with nothing stored. Then each file is streamed into ``memory`` in
    batches; lines that cannot be read are listed in the report with file and line, and the
    rest is still imported. Importing the same file again, or an overlapping export, stores
    nothing twice.

    A file of :data:`~recuerdo.importers.parallel.MIN_BYTES` or more is surveyed and read by
    worker processes while this one stores (``worker=True``/``False`` forces the choice; it
    needs a local :class:`~recuerdo.Memory` and a file on disk).

    Example::

        report = await import_whatsapp(
            memory, ["WhatsApp Chat with Ana.zip"], business="Tienda Sol", phone="+57 300 1234567"
        )
        print(report.summary())
    """
    zone(tz)  # an unknown time zone fails before any file is read
    if isinstance(paths, str | os.PathLike | ExportSource):
        paths = [paths]  # one file given on its own, not a list of characters
    sources = [p if isinstance(p, ExportSource) else ExportSource.from_path(p) for p in paths]
    chosen = [_use_worker(worker, memory, source) for source in sources]
    early: WorkerCrew | None = None
    try:
        if any(chosen):
            assert isinstance(memory, PreparedRecorder)
            early = await WorkerCrew.spawn(memory.preparer)  # loads while files are surveyed
        surveys: list[ExportSurvey] = []
        for source, use_worker in zip(sources, chosen, strict=True):
            if use_worker and early is not None:  # the workers count parts of it meanwhile
                surveys.append(await early.survey(source, date_order=date_order))
            else:
                surveys.append(
                    await asyncio.to_thread(survey_export, source, date_order=date_order)
                )
        plans: list[RolePlan] = [
            plan_roles(
                s, business=business, operators=operators, phone=phone, allow_groups=allow_groups
            )
            for s in surveys
        ]
        report = ImportReport()
        _warn(report, surveys, business, operators)
        for survey, plan, use_worker in zip(surveys, plans, chosen, strict=True):
            report.files.append(survey.name)
            report.authors.update(survey.authors)
            report.system_lines += survey.system_lines
            if not keep_system:
                report.skipped += survey.system_lines
            after_batch = _progress_hook(progress, report, survey)
            if use_worker:
                assert isinstance(memory, PreparedRecorder)
                crew, early = early or await WorkerCrew.spawn(memory.preparer), None
                await import_in_worker(
                    memory,
                    crew,
                    survey,
                    plan,
                    report,
                    tz=tz,
                    keep_system=keep_system,
                    batch_size=batch_size,
                    after_batch=after_batch,
                )
                continue
            items = to_new_messages(
                parse_export(survey.source, tz=tz, survey=survey), plan, keep_system=keep_system
            )
            await record_in_batches(
                memory,
                items,
                report,
                file=survey.name,
                batch_size=batch_size,
                after_batch=after_batch,
            )
    finally:
        if early is not None:
            await early.close()
    return report


def _use_worker(choice: bool | None, memory: MessageRecorder, source: ExportSource) -> bool:
    possible = isinstance(memory, PreparedRecorder) and source.path is not None
    if choice and not possible:
        raise InvalidInput(
            "worker=True needs a local Memory and an export file on disk "
            f"({source.name} is held in memory or the store is remote)"
        )
    if choice is None:
        return possible and worth_a_worker(source)
    return choice


def _progress_hook(
    progress: Callable[[ImportProgress], None] | None, report: ImportReport, survey: ExportSurvey
) -> Callable[[int], None] | None:
    if progress is None:
        return None

    def after_batch(line_no: int) -> None:
        progress(
            ImportProgress(survey.name, line_no, survey.lines, report.imported, report.duplicates)
        )

    return after_batch


def _warn(
    report: ImportReport,
    surveys: list[ExportSurvey],
    business: str | Sequence[str],
    operators: Sequence[str],
) -> None:
    for survey in surveys:
        if not survey.date_order_certain:
            report.warnings.append(
                f"{survey.name}: the dates never show whether the day or the month comes first; "
                f"read as {survey.date_order.value} — pass date_order='mdy' or 'dmy' if wrong"
            )
    seen = {normalise_name(a) for s in surveys for a in s.authors}
    names = [business] if isinstance(business, str) else list(business)
    for name in [*names, *operators]:
        if normalise_name(name) not in seen:
            report.warnings.append(f"{name!r} writes in none of the files")
