"""Reading untrusted input the same way in every importer (ingest, surveys, connectors).

- `clean_text` / `clean_json`: what no database column can hold is taken out of a value before it is stored
  (NUL and the other C0 control characters but tab, newline and carriage return; lone UTF-16 surrogates,
  which no UTF-8 column can store, become U+FFFD). Everything else — markup, bidi controls, zero-width
  joiners — is kept as evidence: pages escape it when they render it.
- `sniff_binary`: what a file is by its first bytes when it is an archive, a document, an image or a
  program, so a ZIP bomb named `.csv` is refused before anything opens (let alone expands) it.
- `decode_text`: bytes → text by their byte-order mark (UTF-8, UTF-16, UTF-32), UTF-8 otherwise. Bytes that
  are not UTF-8 are kept as surrogate escapes so a reader can reject just the lines that hold them.
- `read_csv`: rows of a CSV file numbered by the line they start on, its delimiter sniffed from the header
  (comma, semicolon, tab or bar), header problems raised for the whole file, row problems (an unclosed
  quote, too many or too few fields, a field over the size limit, bytes that are not UTF-8) yielded as
  InvalidInput for that row only, the rows after it still read.
"""

import codecs
import csv
import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

from app.core.errors import InvalidInput

_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SUSPECT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_UNDECODABLE = re.compile(r"[\udc80-\udcff]")  # what errors="surrogateescape" makes of bytes that are not UTF-8
CSV_FIELD_LIMIT = csv.field_size_limit()
DELIMITERS = (",", ";", "\t", "|")

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive"), (b"PK\x05\x06", "a ZIP archive"), (b"PK\x07\x08", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip file"), (b"BZh", "a bzip2 file"), (b"\xfd7zXZ\x00", "an xz file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"), (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x28\xb5\x2f\xfd", "a Zstandard file"), (b"%PDF-", "a PDF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Office document"), (b"\x7fELF", "a program (ELF)"),
    (b"MZ", "a Windows program"), (b"\x89PNG\r\n\x1a\n", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"), (b"GIF89a", "a GIF image"), (b"SQLite format 3\x00", "an SQLite database"),
)
# Recordings where text was due (a .wav chosen as the chats file): refused by `refuse_binary` only, since the
# recording importer itself sniffs with `sniff_binary` and must let audio through.
_AUDIO_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"ID3", "an MP3 recording"), (b"\xff\xfb", "an MP3 recording"), (b"\xff\xf3", "an MP3 recording"),
    (b"\xff\xf2", "an MP3 recording"), (b"OggS", "an Ogg recording"), (b"fLaC", "a FLAC recording"),
    (b"#!AMR", "an AMR recording"),
)
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def clean_text(value: str) -> str:
    """`value` without the characters no database column can store (see the module docstring)."""
    if _SUSPECT.search(value) is None:  # the usual case: one scan, no copy
        return value
    return _SURROGATE.sub("\ufffd", _UNSTORABLE.sub("", value))


def clean_json(value: Any) -> Any:
    """`clean_text` applied to every string (keys too) in a decoded JSON value."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(k) if isinstance(k, str) else k: clean_text(v) if isinstance(v, str) else clean_json(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    return value


def sniff_binary(head: bytes) -> str | None:
    """What a file is ("a ZIP archive", "a PDF document", ...) when its first bytes say it is a known binary
    format; None otherwise. Only the first bytes are looked at: nothing is opened or expanded."""
    return next((kind for magic, kind in _MAGIC if head.startswith(magic)), None)


def sniff_html(head: bytes) -> bool:
    start = head.lstrip(codecs.BOM_UTF8 + b" \t\r\n")[:15].lower()
    return start.startswith((b"<!doctype html", b"<html"))


def refuse_binary(head: bytes, *, what: str, expected: str) -> None:
    """Raise InvalidInput when `head` shows a known binary format where `expected` text was due."""
    kind = sniff_binary(head)
    if kind is not None:
        raise InvalidInput(f"{what} is {kind}, not {expected}; archives are not opened")
    audio = sniff_audio(head)
    if audio is not None:
        raise InvalidInput(f"{what} is {audio}, not {expected}; upload it with \"Upload a recording\" "
                           "(or `earshot ingest calls`)")


def sniff_audio(head: bytes) -> str | None:
    """What recording `head` starts, for the formats a contact centre exports (WAV, MP3, Ogg, FLAC, AMR, M4A)."""
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "a WAV recording"
    if head[4:8] == b"ftyp":
        return "an MP4/M4A recording"
    return next((kind for magic, kind in _AUDIO_MAGIC if head.startswith(magic)), None)


def decode_text(data: bytes, *, what: str = "the file") -> str:
    """Text of an uploaded file: by its byte-order mark (UTF-8/16/32), else UTF-8 with undecodable bytes
    kept as surrogate escapes (`undecodable_bytes` finds them, per line). Raises InvalidInput for an archive,
    a document or an image, and for UTF-16 without a byte-order mark."""
    refuse_binary(data[:16], what=what, expected="a text file")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding)
            except UnicodeDecodeError as exc:
                raise InvalidInput(f"{what} starts with a {encoding.upper()} byte-order mark but is not "
                                   f"{encoding.upper()} text (byte {exc.start + len(bom)})") from exc
    head = data[:4096]
    if head and head.count(b"\x00") > len(head) // 4:
        raise InvalidInput(f"{what} looks like UTF-16 text without a byte-order mark; save it as UTF-8")
    return data.decode("utf-8", errors="surrogateescape")


def undecodable_bytes(text: str) -> str | None:
    """A description of the bytes in `text` that were not UTF-8 (from `decode_text`), or None."""
    found = _UNDECODABLE.findall(text)
    if not found:
        return None
    shown = " ".join(f"0x{ord(ch) - 0xDC00:02x}" for ch in found[:3])
    return f"bytes that are not UTF-8 text ({shown}{' …' if len(found) > 3 else ''})"


def text_lines(text: str) -> list[str]:
    """Lines with their endings (CRLF, LF or CR only; unlike str.splitlines, U+2028 and friends stay inside
    a line, as CSV and JSON read them)."""
    return _LINE.findall(text)


def json_lines(text: str) -> Iterator[tuple[int, Any]]:
    """(line number, decoded value | InvalidInput) of every non-blank line of a JSON-lines text."""
    for number, line in enumerate(text_lines(text), start=1):
        if not line.strip():
            continue
        bad = undecodable_bytes(line)
        if bad is not None:
            yield number, InvalidInput(bad)
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, InvalidInput(f"not valid JSON: {exc.msg} (column {exc.colno})")
        except RecursionError:
            yield number, InvalidInput("not valid JSON: nested too deeply")


def json_document(data: bytes, *, what: str = "the file") -> Any:
    """One JSON document from an uploaded file. Raises InvalidInput naming the line and column of the
    first problem (a binary file, bytes that are not UTF-8, a syntax error)."""
    text = decode_text(data, what=what)
    for number, line in enumerate(text_lines(text), start=1):
        bad = undecodable_bytes(line)
        if bad is not None:
            raise InvalidInput(f"{what}, line {number}: {bad}", details=[{"loc": "file", "msg": bad, "line": number}])
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
                           details=[{"loc": "file", "msg": exc.msg, "line": exc.lineno}]) from exc
    except RecursionError as exc:
        raise InvalidInput(f"{what} is not valid JSON: nested too deeply") from exc


def sniff_delimiter(header_line: str) -> str:
    """The delimiter of a CSV file, judged by its header line (outside quotes); a comma when unsure."""
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    counts = {d: unquoted.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


class CsvFile:
    """A CSV text's header (checked) and its rows as (line the row starts on, {column: value} | InvalidInput)."""

    def __init__(self, text: str, *, required: Sequence[str] = (), what: str = "the CSV") -> None:
        text = text.removeprefix("\ufeff")
        self.lines = text_lines(text)
        first = next((i for i, line in enumerate(self.lines) if line.strip()), None)
        if first is None:
            raise InvalidInput(f"{what} is empty")
        self.delimiter = sniff_delimiter(self.lines[first])
        try:
            header = next(csv.reader([self.lines[first]], delimiter=self.delimiter))
        except csv.Error as exc:
            raise InvalidInput(f"{what}: the header line cannot be read ({exc})",
                               details=[{"loc": "header", "msg": str(exc), "line": first + 1}]) from exc
        self.header = [clean_text(name).strip() for name in header]
        self.header_line = first + 1
        self._check_header(required=required, what=what)
        self._start = first + 1  # index of the first data line

    def _check_header(self, *, required: Sequence[str], what: str) -> None:
        seen: dict[str, int] = {}
        for position, name in enumerate(self.header, start=1):
            if name and name in seen:
                raise InvalidInput(f"{what}: column {name!r} appears twice in the header (columns {seen[name]} "
                                   f"and {position})", details=[{"loc": "header", "msg": f"duplicate column {name}",
                                                                 "line": self.header_line}])
            seen[name] = position
        missing = [name for name in required if name not in seen]
        if missing:
            delimiter = {"\t": "tab", ",": "comma"}.get(self.delimiter, self.delimiter)
            raise InvalidInput(
                f"{what} has no column {', '.join(missing)} (header read with a {delimiter} delimiter: "
                f"{', '.join(repr(h) for h in self.header[:12])})",
                details=[{"loc": "header", "msg": f"missing column {m}", "line": self.header_line} for m in missing])

    def rows(self) -> Iterator[tuple[int, dict[str, str] | InvalidInput]]:
        """Every data row; blank lines are skipped. A row that cannot be read is yielded as InvalidInput and
        reading goes on from the line after the one it started on."""
        index = self._start
        while index < len(self.lines):
            consumed = [index]

            def feed(start: int = index, counter: list[int] = consumed) -> Iterator[str]:
                for position in range(start, len(self.lines)):
                    counter[0] = position + 1
                    yield self.lines[position]

            reader = csv.reader(feed(), delimiter=self.delimiter, strict=True)
            while True:
                row_start = consumed[0]
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    yield row_start + 1, InvalidInput(_csv_reason(exc, row_start, consumed[0]))
                    index = row_start + 1
                    break
                if not any(cell.strip() for cell in cells):
                    continue
                yield row_start + 1, self._row(cells)

    def _row(self, cells: list[str]) -> dict[str, str] | InvalidInput:
        if len(cells) != len(self.header):
            return InvalidInput(f"{len(cells)} fields where the header has {len(self.header)} "
                                f"(delimiter {self.delimiter!r}; quote fields that contain it)")
        bad = next(((name, undecodable_bytes(cell)) for name, cell in zip(self.header, cells, strict=True)
                    if undecodable_bytes(cell)), None)
        if bad is not None:
            return InvalidInput(f"{bad[0] or 'a column'}: {bad[1]}")
        return {name: clean_text(cell).strip() for name, cell in zip(self.header, cells, strict=True) if name}


def _csv_reason(exc: csv.Error, start: int, end: int) -> str:
    message = str(exc)
    if "field larger than field limit" in message:
        return f"a field is longer than {CSV_FIELD_LIMIT} characters"
    if end - start > 1 or "unexpected end of data" in message:
        return ("a quote opened on this line is not closed where the row ends; the following lines were read "
                "again on their own")
    return f"not valid CSV: {message}"


def read_csv(text: str, *, required: Sequence[str] = (),
             what: str = "the CSV") -> Iterator[tuple[int, dict[str, str] | InvalidInput]]:
    """Shorthand for `CsvFile(text, required=...).rows()`; header problems raise InvalidInput at once."""
    return CsvFile(text, required=required, what=what).rows()
