"""Parsing a large export in worker processes while this process stores it.

Reading a WhatsApp export (decoding, headers, roles, deterministic ids) and checking each
message cost more Python time than storing it; in one process they take turns on the
interpreter. For a large file a crew of workers (:class:`WorkerCrew`, two where there are two
processors) first counts parts of the survey side by side with this process, then each worker
reads every other span of the file (:mod:`recuerdo.importers.whatsapp_spans`) and checks its
messages with the same rules (:attr:`recuerdo.Memory.preparer`), sending compact batches
through a pipe; this process takes the spans in file order and only places and stores them. A
message the checks refuse becomes a problem of the report with its line, as in one process.

A worker is a fresh interpreter (running :func:`main` of this module; never a ``fork`` of a
process that runs an event loop and threads, and not ``multiprocessing``'s spawn, which re-runs
the caller's main script), given jobs on its stdin and answering through a pipe in pickle
frames. Batches are plain tuples of strings and numbers: unpickling datetimes and enums costs
several times more than rebuilding them here.
"""

from __future__ import annotations

import asyncio
import gc
import os
import pickle
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

from recuerdo.errors import ImportFormatError, InvalidInput, RecuerdoError
from recuerdo.importers.recording import store_batches
from recuerdo.importers.report import ImportReport, ParseProblem
from recuerdo.importers.sources import ExportSource
from recuerdo.importers.whatsapp import (
    ExportSurvey,
    SurveyTally,
    parse_export,
    survey_export,
    survey_from_parts,
    tally_lines,
)
from recuerdo.importers.whatsapp_headers import DateOrder
from recuerdo.importers.whatsapp_roles import RolePlan, to_new_messages
from recuerdo.importers.whatsapp_spans import Span, part_starts, plan_spans
from recuerdo.model import NewMessage
from recuerdo.store.ops import PreparedMessage
from recuerdo.store.rows import EncodedJson
from recuerdo.validation import Preparer, encoded_object

MIN_BYTES = 8 << 20
"""Smaller export files (about 130,000 messages) are read in this process: starting a worker
costs about half a second."""

_MISSING: Any = object()

Wire = tuple[Any, ...]
"""One checked message: who, role, role code, content, content type, time (ISO), thread id,
external id, metadata (JSON text), profile name, line number."""


@dataclass(frozen=True, slots=True)
class ReadJob:
    """What workers read of a surveyed export, and how."""

    survey: ExportSurvey
    plan: RolePlan
    tz: str
    keep_system: bool
    batch_size: int


@runtime_checkable
class PreparedRecorder(Protocol):
    """What a worker import needs: :class:`recuerdo.Memory`'s checks and storing of checked
    messages."""

    preparer: Preparer

    async def store_prepared(self, items: Sequence[PreparedMessage], /) -> list[bool]: ...


def _to_wire(p: PreparedMessage, who: str, metadata: str | None, line_no: int) -> Wire:
    return (
        who,
        p.role,
        p.role_code,
        p.content,
        p.content_type,
        (p.at if p.at.tzinfo is UTC else p.at.astimezone(UTC)).isoformat(),
        p.thread_id,
        p.external_id,
        metadata,
        p.profile_name,
        line_no,
    )


def _work(
    out: IO[bytes],
    survey: ExportSurvey,
    plan: RolePlan,
    tz: str,
    keep_system: bool,
    preparer: Preparer,
    batch_size: int,
    spans: Sequence[Span],
) -> None:
    """The worker: for each of its spans, parse and check it, sending
    ``("batch", wires, problems)`` … then ``("span",)``."""

    def send(message: tuple[Any, ...]) -> None:
        _send(out, message)

    # An export's metadata repeats (source and author): encode each distinct one once, and
    # send one text object for it (pickle sends a repeated object once per batch).
    seen: dict[tuple[tuple[str, Any], ...], tuple[EncodedJson, str]] = {}

    def encoded(metadata: dict[str, Any] | None) -> tuple[EncodedJson | None, str | None]:
        if metadata is None:
            return None, None
        try:
            key = tuple(metadata.items())
            hit = seen.get(key)
        except TypeError:  # a value that cannot be a key: encode this one on its own
            one = encoded_object(metadata)
            return one, None if one is None else str(one)
        if hit is None:
            if len(seen) >= 10_000:
                seen.clear()
            one = encoded_object(metadata)
            if one is None:
                return None, None
            hit = seen[key] = (one, str(one))
        return hit

    try:
        now = datetime.now(UTC)
        for span in spans:
            items = to_new_messages(
                parse_export(survey.source, tz=tz, survey=survey, span=span),
                plan,
                keep_system=keep_system,
            )
            _work_span(send, items, survey.name, preparer, now, encoded, batch_size)
            send(("span",))
    except BrokenPipeError:
        return  # the parent stopped reading: it gave up on the import
    except Exception as exc:  # sent to the parent, which raises it
        send(("error", _sendable(exc)))


def _work_span(
    send: Callable[[tuple[Any, ...]], None],
    items: Iterable[tuple[NewMessage, int] | ParseProblem],
    name: str,
    preparer: Preparer,
    now: datetime,
    encoded: Callable[[dict[str, Any] | None], tuple[EncodedJson | None, str | None]],
    batch_size: int,
) -> None:
    wires: list[Wire] = []
    problems: list[ParseProblem] = []
    for item in items:
        if isinstance(item, ParseProblem):
            problems.append(item)
            continue
        message, line_no = item
        try:
            metadata, text = encoded(message.metadata)
            prepared = preparer.prepare(message, now, metadata=metadata)
        except InvalidInput as exc:
            problems.append(ParseProblem(name, line_no, message.content[:200], exc.message))
            continue
        wires.append(_to_wire(prepared, message.who, text, line_no))
        if len(wires) >= batch_size:
            send(("batch", wires, problems))
            wires, problems = [], []
    send(("batch", wires, problems))


def _send(out: IO[bytes], message: tuple[Any, ...]) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(len(data).to_bytes(8, "little"))
    out.write(data)
    out.flush()


def main() -> None:
    """Entry point of the worker process: jobs come pickled on stdin: parts of exports to
    survey, answered one by one, then the spans to read, the last job."""
    out = sys.stdout.buffer
    # Everything loaded so far lives to the end; collect the rest less often (as the parent).
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    while True:
        try:
            job = pickle.load(sys.stdin.buffer)  # opens the export: it may be gone by now
            if job[0] == "survey":
                _, source, start, end = job
                part = tally_lines(source.lines_between(start, end), sniff=False, part=True)
                _send(out, ("survey", part))
                continue
        except EOFError:  # the parent needs nothing more
            return
        except BrokenPipeError:
            return
        except Exception as exc:
            _send(out, ("error", _sendable(exc)))
            return
        _work(out, *job[1:])
        return


def _sendable(exc: Exception) -> RecuerdoError:
    if isinstance(exc, RecuerdoError):
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:
            pass
        else:
            return exc
    return ImportFormatError(f"reading the export failed: {type(exc).__name__}: {exc}")


_F_SETPIPE_SZ = 1031  # Linux
# The worker imports recuerdo from where this process did, installed or not.
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


def _widen(fd: int) -> None:
    """Let the worker run a few batches ahead: with the default 64 KiB pipe it would wait
    whenever this process is busy storing."""
    try:
        import fcntl

        fcntl.fcntl(fd, _F_SETPIPE_SZ, 1 << 20)
    except (ImportError, OSError):  # not Linux, or a lower limit: the default size works too
        pass


class WorkerReader:
    """The parent's end of a worker: started early (its interpreter loads while this process
    surveys the file), then given its job with :meth:`start`. Batches arrive as frames (length,
    then pickle) read by the event loop between two stores, so no thread competes with the
    storing for the interpreter."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        reader: asyncio.StreamReader,
        transport: asyncio.BaseTransport,
        preparer: Preparer,
    ) -> None:
        self._process = process
        self._reader = reader
        self._transport = transport
        self._preparer = preparer
        self._name = "export"

    @classmethod
    async def spawn(cls, preparer: Preparer) -> WorkerReader:
        paths = [_PACKAGE_ROOT, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        read_fd, write_fd = os.pipe()
        _widen(write_fd)
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                "from recuerdo.importers.parallel import main; main()",
                stdin=asyncio.subprocess.PIPE,
                stdout=write_fd,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)},
                # Its own session: Ctrl-C in a terminal reaches this process, which stops it.
                start_new_session=True,
            )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        # Read ahead up to 4 MiB of frames per worker (the reader pauses at twice its limit):
        # more than the pipe alone, so a worker whose span is not being stored keeps going.
        reader = asyncio.StreamReader(limit=2 << 20)
        transport, _ = await asyncio.get_running_loop().connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_fd, "rb", buffering=0)
        )
        return cls(process, reader, transport, preparer)

    async def start(self, job: ReadJob, spans: Sequence[Span]) -> None:
        """Send the worker its spans of the export to read, in order (its last job)."""
        self._name = job.survey.name
        work = (job.survey, job.plan, job.tz, job.keep_system, self._preparer, job.batch_size)
        await self._give(("parse", *work, list(spans)), last=True)

    async def survey_part(self, source: ExportSource, start: int, end: int | None) -> SurveyTally:
        """The worker's count of the lines of ``source`` from byte ``start`` to ``end``."""
        self._name = source.name
        await self._give(("survey", source, start, end), last=False)
        message = await self._receive()
        if message[0] == "error":
            raise message[1]
        tally: SurveyTally = message[1]
        return tally

    async def _give(self, job: tuple[Any, ...], *, last: bool) -> None:
        stdin = self._process.stdin
        assert stdin is not None
        try:
            stdin.write(pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL))
            await stdin.drain()
            if last:
                stdin.close()
        except (BrokenPipeError, ConnectionResetError):
            raise ImportFormatError(
                f"{self._name}: the import worker process could not start "
                f"(exit code {await self._process.wait()})"
            ) from None

    async def take(self, report: ImportReport) -> list[tuple[PreparedMessage, int]] | None:
        """The next batch of the current span, or ``None`` at its end; problems go to
        ``report``."""
        while True:
            message = await self._receive()
            if message[0] == "span":
                return None
            if message[0] == "error":
                raise message[1]
            _, wires, problems = message
            for problem in problems:
                report.add_problem(problem)
            if wires:
                return self._rebuild(wires)

    async def _receive(self) -> tuple[Any, ...]:
        try:
            size = int.from_bytes(await self._reader.readexactly(8), "little")
            message: tuple[Any, ...] = pickle.loads(await self._reader.readexactly(size))
        except (asyncio.IncompleteReadError, pickle.UnpicklingError):
            code = await self._process.wait()
            raise ImportFormatError(
                f"{self._name}: the import worker process stopped unexpectedly "
                f"(exit code {code}); nothing after its last batch was stored"
            ) from None
        return message

    def _rebuild(self, wires: list[Wire]) -> list[tuple[PreparedMessage, int]]:
        keys: dict[str, Any] = {}
        metadata: dict[str | None, EncodedJson | None] = {None: None}
        out = []
        for who, role, code, content, ctype, at, thread, ext, meta, profile, line_no in wires:
            lookup = keys.get(who)
            if lookup is None:
                lookup = keys[who] = self._preparer.who(who).lookup_keys
            document = metadata.get(meta, _MISSING)
            if document is _MISSING:
                assert meta is not None
                document = metadata[meta] = EncodedJson.of_text(meta)
            prepared = PreparedMessage(
                lookup,
                role,
                code,
                content,
                ctype,
                datetime.fromisoformat(at),
                thread,
                ext,
                document,
                profile,
            )
            out.append((prepared, line_no))
        return out

    async def close(self) -> None:
        """Stop the worker if it is still running (an error or a cancelled import)."""
        stdin = self._process.stdin
        if stdin is not None and not stdin.is_closing():
            stdin.close()
        if self._process.returncode is None:
            self._process.terminate()
        try:
            await asyncio.wait_for(self._process.wait(), 5)
        except TimeoutError:
            self._process.kill()
            await self._process.wait()
        self._transport.close()


class WorkerCrew:
    """The workers of one export: each reads every other span (:mod:`whatsapp_spans`), and
    batches are taken span by span in file order, so the store sees the messages in the order
    one pass would give them while the workers read ahead at the same time."""

    def __init__(self, readers: list[WorkerReader]) -> None:
        self._readers = readers
        self._turns: list[WorkerReader] = []

    @classmethod
    async def spawn(cls, preparer: Preparer, count: int | None = None) -> WorkerCrew:
        """Start ``count`` workers (default :func:`crew_size`)."""
        readers: list[WorkerReader] = []
        try:
            for _ in range(count or crew_size()):
                readers.append(await WorkerReader.spawn(preparer))
        except BaseException:
            await asyncio.gather(*(r.close() for r in readers), return_exceptions=True)
            raise
        return cls(readers)

    async def survey(
        self, source: ExportSource, *, date_order: DateOrder | str | None = None
    ) -> ExportSurvey:
        """:func:`survey_export` of ``source``, its parts counted side by side by this process
        and the workers (an export that cannot be cut is surveyed in one pass)."""
        starts = await asyncio.to_thread(part_starts, source, len(self._readers) + 1)
        parts = None
        if starts:
            bounds: list[int | None] = [*starts, None]
            tasks = [
                asyncio.ensure_future(
                    asyncio.to_thread(
                        lambda: tally_lines(source.lines(starts[0]), sniff=True, part=True)
                    )
                ),
                *(
                    asyncio.ensure_future(reader.survey_part(source, start, end))
                    for reader, start, end in zip(self._readers, starts, bounds[1:], strict=False)
                ),
            ]
            try:
                tallies = await asyncio.gather(*tasks)
            except BaseException:  # the workers may still answer: they cannot serve again
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                await self.close()
                raise
            parts = survey_from_parts(source, tallies, date_order=date_order)
        if parts is None:
            return await asyncio.to_thread(survey_export, source, date_order=date_order)
        return parts

    async def start(self, job: ReadJob, spans: Sequence[Span]) -> None:
        """Give the workers the spans of the export in turn; workers left without one stop."""
        used, idle = self._readers[: len(spans)], self._readers[len(spans) :]
        self._readers = used
        await asyncio.gather(*(r.close() for r in idle))
        for i, reader in enumerate(used):
            await reader.start(job, spans[i :: len(used)])
        self._turns = [used[i % len(used)] for i in range(len(spans))]

    async def take(self, report: ImportReport) -> list[tuple[PreparedMessage, int]]:
        """The next batch in file order (empty at the end)."""
        while self._turns:
            batch = await self._turns[0].take(report)
            if batch is not None:
                return batch
            del self._turns[0]
        return []

    async def close(self) -> None:
        """Stop every worker still running."""
        await asyncio.gather(*(r.close() for r in self._readers))


def crew_size() -> int:
    """Workers per export: two where there are two processors or more (with this process
    storing, three processes then share the machine: parsing costs more than storing), else
    one."""
    try:
        processors = len(os.sched_getaffinity(0))  # the processors this process may use
    except (AttributeError, OSError):  # not Linux
        processors = os.cpu_count() or 1
    return 2 if processors > 1 else 1


async def import_in_worker(
    memory: PreparedRecorder,
    crew: WorkerCrew,
    survey: ExportSurvey,
    plan: RolePlan,
    report: ImportReport,
    *,
    tz: str,
    keep_system: bool,
    batch_size: int,
    after_batch: Callable[[int], None] | None = None,
) -> None:
    """Import one surveyed export, read by the workers of ``crew`` (see the module
    docstring); the workers are stopped at the end, whatever happens."""
    try:
        spans = await asyncio.to_thread(plan_spans, survey, tz)
        await crew.start(ReadJob(survey, plan, tz, keep_system, batch_size), spans)

        async def take() -> list[tuple[PreparedMessage, int]]:
            return await crew.take(report)

        async def store(batch: list[tuple[PreparedMessage, int]]) -> Sequence[bool]:
            return await memory.store_prepared([prepared for prepared, _ in batch])

        await store_batches(take, store, report, after_batch)
    finally:
        await crew.close()


def worth_a_worker(source: ExportSource) -> bool:
    """Whether ``source`` is a file big enough for a worker (:data:`MIN_BYTES`)."""
    if source.path is None:
        return False
    try:
        return os.path.getsize(source.path) >= MIN_BYTES
    except OSError:
        return False
