"""Where an export's lines come from: a ``.txt`` file, a ``.zip`` export, or bytes in memory.

A source can be read more than once (the WhatsApp parser reads a file twice to stay in constant
memory), and each read streams the lines: nothing holds the whole file.

Lines come out decoded and cleaned of the invisible marks WhatsApp sprinkles into exports (byte
order marks, also in the middle of lines; left-to-right / right-to-left marks and embeddings
around names and numbers), without their line ending (LF or CRLF).
"""

from __future__ import annotations

import io
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from recuerdo.errors import ImportFormatError

# Invisible characters that carry no meaning in stored text: BOM (also mid-line in real
# exports), LRM/RLM, the LRE…RLO embeddings iOS puts around phone numbers, and the isolates.
# (A regex, not str.translate: translate with a dict costs microseconds per line.)
_MARKS = re.compile("[\ufeff\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SNIFF_BYTES = 4096


def strip_marks(text: str) -> str:
    """Remove byte-order, direction and embedding marks.

    >>> strip_marks("\\ufeff[29.01.18, 12:24] \\u202a+57 300 1234567\\u202c: hola\\u200e")
    '[29.01.18, 12:24] +57 300 1234567: hola'
    """
    return text if text.isascii() else _MARKS.sub("", text)


SourceLine = tuple[str, bool]
"""One line of a source: its text, and whether its bytes were bad UTF-8 (replaced by U+FFFD).
Lines come in file order; their 1-based numbers are their positions."""


@dataclass(frozen=True, slots=True)
class ExportSource:
    """An export that can be read (several times) as a stream of lines.

    >>> src = ExportSource.from_bytes("chat.txt", b"\\xef\\xbb\\xbf1/2/24, 10:00 - Ana: hola\\r\\n")
    >>> list(src.lines())
    [('1/2/24, 10:00 - Ana: hola', False)]
    """

    name: str
    _open: Callable[[], AbstractContextManager[IO[bytes]]]
    path: str | None = None
    """The file it reads, when it reads one (not for exports held in memory)."""
    plain: bool = False
    """A plain ``.txt`` file on disk: it can be read from any byte offset
    (:meth:`lines_between`)."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Sent to an import worker process as its path: the worker opens the file itself.
        if self.path is None:
            raise TypeError(f"{self.name}: an export held in memory cannot go to another process")
        return (ExportSource.from_path, (self.path,))

    @classmethod
    def from_path(cls, path: str | os.PathLike[str]) -> ExportSource:
        """A ``.txt`` export, or a ``.zip`` export (recognised by its content, not its name)
        whose chat ``.txt`` is read directly without unpacking.

        Example: ``ExportSource.from_path("WhatsApp Chat with Ana.zip").name`` is
        ``"WhatsApp Chat with Ana.zip:WhatsApp Chat with Ana.txt"``.
        """
        file = Path(path)
        if not file.is_file():
            raise ImportFormatError(f"{file}: no such file", received=str(file))
        with file.open("rb") as fp:
            head = fp.read(4)
        if head[:2] == b"PK":
            member = _chat_member(file)
            return cls(f"{file.name}:{member}", lambda: _open_zip_member(file, member), str(file))
        return cls(str(file), lambda: file.open("rb"), str(file), plain=True)

    @classmethod
    def from_bytes(cls, name: str, data: bytes) -> ExportSource:
        """An export held in memory (uploads, tests)."""
        if data[:2] == b"PK":
            buffer = io.BytesIO(data)
            member = _chat_member(buffer, name)
            return cls(f"{name}:{member}", lambda: _open_zip_member(io.BytesIO(data), member))
        return cls(name, lambda: io.BytesIO(data))

    def lines(self, end: int | None = None) -> Iterator[SourceLine]:
        """Stream the decoded, cleaned lines (of a :attr:`plain` file, those before byte
        ``end``, the start of a line); a file that is not text raises ImportFormatError."""
        with self._open() as fp:
            try:
                yield from _decoded_lines(self.name, fp, end)
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise ImportFormatError(
                    f"{self.name}: the zip export cannot be read to the end ({exc}); "
                    "it may be truncated: export the chat again",
                    received=self.name,
                ) from None

    def lines_between(self, start: int, end: int | None) -> Iterator[SourceLine]:
        """The lines from byte offset ``start`` (the start of a line) to ``end`` (the start of
        a later line, or ``None`` for the end of the file) of a :attr:`plain` UTF-8 file."""
        if not self.plain:
            raise ValueError(f"{self.name}: only a plain text file can be read from an offset")
        if start == 0:  # the head is checked as in a whole read
            yield from self.lines(end)
            return
        with self._open() as fp:
            fp.seek(start)
            yield from _utf8_lines(fp, None if end is None else end - start)


def _decoded_lines(name: str, fp: IO[bytes], end: int | None = None) -> Iterator[SourceLine]:
    # peek() lets us sniff the head without consuming it; BytesIO has none, so buffer it.
    reader: Any = fp if hasattr(fp, "peek") else io.BufferedReader(fp)
    head: bytes = reader.peek(_SNIFF_BYTES)[:_SNIFF_BYTES]
    if not head:
        raise ImportFormatError(f"{name}: the file is empty", received=name)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        yield from _utf16_lines(reader)
        return
    _refuse_binary(name, head)
    yield from _utf8_lines(reader, end)


def _utf8_lines(reader: IO[bytes], size: int | None) -> Iterator[SourceLine]:
    """The lines of ``reader`` (all, or those in its next ``size`` bytes), decoded."""
    marks = _MARKS.sub
    for raw in reader:
        if size is not None:
            if size <= 0:
                return
            size -= len(raw)
        if raw[-1:] == b"\n":
            raw = raw[:-2] if raw[-2:-1] == b"\r" else raw[:-1]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield marks("", raw.decode("utf-8", "replace")), True
            continue
        yield (text, False) if text.isascii() else (marks("", text), False)


def _utf16_lines(reader: IO[bytes]) -> Iterator[SourceLine]:
    # Some Windows tools re-save exports as UTF-16; WhatsApp itself writes UTF-8.
    text_io = io.TextIOWrapper(reader, encoding="utf-16", errors="replace", newline="\n")
    try:
        for line in text_io:
            yield strip_marks(line.rstrip("\r\n")), "\ufffd" in line
    finally:
        text_io.detach()  # the file is closed by whoever opened it


def _refuse_binary(name: str, head: bytes) -> None:
    if head[:2] == b"\x1f\x8b":
        raise ImportFormatError(
            f"{name}: this is a gzip-compressed file, not a WhatsApp export; decompress it first",
            received=name,
        )
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    if b"\x00" in head or controls > len(head) // 10:
        raise ImportFormatError(
            f"{name}: this is a binary file, not a WhatsApp chat export (.txt or .zip)",
            received=name,
        )


def _chat_member(archive: Path | IO[bytes], shown: str | None = None) -> str:
    label = shown or str(archive)
    try:
        with zipfile.ZipFile(archive) as zf:
            names = [
                n
                for n in zf.namelist()
                if n.lower().endswith(".txt") and not n.startswith("__MACOSX/")
            ]
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ImportFormatError(
            f"{label}: not a readable zip file ({exc}); it may be truncated", received=label
        ) from None
    if not names:
        raise ImportFormatError(f"{label}: the zip holds no .txt chat export", received=label)
    # iOS names the chat "_chat.txt"; Android "WhatsApp Chat with NAME.txt".
    for preferred in ("_chat.txt",):
        for n in names:
            if n.rsplit("/", 1)[-1] == preferred:
                return n
    chats = [n for n in names if n.rsplit("/", 1)[-1].lower().startswith("whatsapp chat")]
    if len(chats) == 1:
        return chats[0]
    if len(names) == 1:
        return names[0]
    raise ImportFormatError(
        f"{label}: the zip holds several .txt files and none is clearly the chat: "
        + ", ".join(sorted(names)),
        received=label,
    )


@contextmanager
def _open_zip_member(archive: Path | IO[bytes], member: str) -> Iterator[IO[bytes]]:
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ImportFormatError(
            f"{archive}: not a readable zip file ({exc})", received=str(archive)
        ) from None
    with zf, zf.open(member) as fp:
        yield fp
