"""Reading export files: encodings, marks, line endings, zip exports, and what is refused."""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import pytest

from recuerdo.errors import ImportFormatError
from recuerdo.importers.sources import ExportSource, strip_marks

LINE = "31/12/23, 14:05 - Ana: hola"


def _texts(source: ExportSource) -> list[str]:
    return [text for text, _ in source.lines()]


def test_bom_crlf_and_direction_marks_are_removed() -> None:
    data = ("\ufeff" + LINE + "\r\n\u200e\u200f\u202a+57 300\u202c: x\u2069\r\n").encode()
    assert _texts(ExportSource.from_bytes("c.txt", data)) == [LINE, "+57 300: x"]


def test_line_separator_inside_a_message_is_not_a_line_break() -> None:
    data = (LINE + "\u2028more\n").encode()
    assert _texts(ExportSource.from_bytes("c.txt", data)) == [LINE + "\u2028more"]


def test_utf16_export_is_read() -> None:
    data = (LINE + "\r\n" + LINE + "\n").encode("utf-16")
    assert _texts(ExportSource.from_bytes("c.txt", data)) == [LINE, LINE]


def test_invalid_utf8_is_flagged_and_replaced() -> None:
    ((text, bad),) = ExportSource.from_bytes("c.txt", LINE.encode() + b" \xff\xfe\n").lines()
    assert bad
    assert text.endswith("\ufffd\ufffd")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
        (gzip.compress(LINE.encode()), "gzip"),
        (b"PK\x03\x04 not really a zip", "zip"),
    ],
)
def test_files_that_are_not_text_exports_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(ImportFormatError, match=message):
        list(ExportSource.from_bytes("c.txt", data).lines())


def _zip(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return buffer.getvalue()


def test_zip_export_reads_the_chat_txt_inside(tmp_path: Path) -> None:
    path = tmp_path / "WhatsApp Chat - Ana.zip"
    path.write_bytes(_zip({"_chat.txt": LINE + "\n", "00000012-PHOTO.jpg": "jpeg"}))
    source = ExportSource.from_path(path)
    assert source.name == "WhatsApp Chat - Ana.zip:_chat.txt"
    assert _texts(source) == [LINE]
    assert _texts(source) == [LINE]  # a source can be read again (two-pass parsing)


def test_android_zip_names_the_chat_after_the_contact() -> None:
    data = _zip({"WhatsApp Chat with Ana.txt": LINE, "notes.txt": "x"})
    assert _texts(ExportSource.from_bytes("e.zip", data)) == [LINE]


def test_zip_without_a_clear_chat_file_is_refused() -> None:
    with pytest.raises(ImportFormatError, match=r"no \.txt"):
        ExportSource.from_bytes("e.zip", _zip({"photo.jpg": "x"}))
    with pytest.raises(ImportFormatError, match=r"several \.txt"):
        ExportSource.from_bytes("e.zip", _zip({"a.txt": LINE, "b.txt": LINE}))


def test_truncated_zip_is_refused(tmp_path: Path) -> None:
    data = _zip({"_chat.txt": (LINE + "\n") * 2000})
    path = tmp_path / "cut.zip"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImportFormatError, match="zip"):
        list(ExportSource.from_path(path).lines())


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="no such file"):
        ExportSource.from_path(tmp_path / "nope.txt")


def test_strip_marks_leaves_ascii_alone() -> None:
    text = "plain ascii"
    assert strip_marks(text) is text
