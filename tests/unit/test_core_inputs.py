"""app.core.inputs: what every importer does with untrusted text, files and CSV."""

import codecs

import pytest

from app.core.errors import InvalidInput
from app.core.inputs import (
    CsvFile,
    clean_json,
    clean_text,
    decode_text,
    json_document,
    json_lines,
    refuse_binary,
    sniff_audio,
    sniff_binary,
)


def test_clean_text_drops_what_no_column_stores_and_keeps_the_rest():
    assert clean_text("a\x00b\x1b[31mc\x07\td\r\ne") == "ab[31mc\td\r\ne"
    assert clean_text("lone \ud800 surrogate") == "lone \ufffd surrogate"
    kept = "<script>alert(1)</script> \u202eevil \U0001F468\u200d\U0001F469 caf\u00e9"
    assert clean_text(kept) == kept
    assert clean_json({"k\x00": ["v\x00", 1, None, {"n": "\ud800"}]}) == {"k": ["v", 1, None, {"n": "\ufffd"}]}


@pytest.mark.parametrize(("head", "kind"), [
    (b"PK\x03\x04rest", "a ZIP archive"), (b"\x1f\x8b\x08", "a gzip file"), (b"%PDF-1.7", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"), (b"RIFF\x00\x00\x00\x00WAVE", None), (b"conversation_id,", None),
])
def test_sniff_binary_names_archives_and_documents_by_their_first_bytes(head, kind):
    assert sniff_binary(head) == kind


def test_decode_text_follows_the_byte_order_mark_and_keeps_bad_bytes_for_the_line_to_report():
    assert decode_text("a,b\r\n1,é\r\n".encode("utf-16")) == "a,b\r\n1,é\r\n"
    assert decode_text(codecs.BOM_UTF8 + b"x") == "x"
    assert decode_text(b"caf\xe9") == "caf\udce9"
    with pytest.raises(InvalidInput, match="ZIP archive"):
        decode_text(b"PK\x03\x04" + b"\x00" * 40)
    with pytest.raises(InvalidInput, match="UTF-16 text without a byte-order mark"):
        decode_text("a,b\n1,2\n".encode("utf-16-le"))


def test_csv_sniffs_the_delimiter_and_numbers_rows_by_their_first_line():
    text = 'a;b;c\n1;"two\nlines";3\n4;5\n6;"x";7\n\n8;"unclosed;9\n10;11;12\n'
    rows = list(CsvFile(text, required=["a", "c"]).rows())
    assert [line for line, _ in rows] == [2, 4, 5, 7, 8]
    assert rows[0][1] == {"a": "1", "b": "two\nlines", "c": "3"}
    assert "2 fields where the header has 3" in rows[1][1].message
    assert "quote opened on this line" in rows[3][1].message
    assert rows[4][1] == {"a": "10", "b": "11", "c": "12"}


@pytest.mark.parametrize(("text", "problem"), [
    ("a,b,a\n1,2,3\n", "'a' appears twice"), ("a\tb\n1\t2\n", "no column c (header read with a tab delimiter"),
    ("\n\n", "is empty"),
])
def test_csv_header_problems_refuse_the_whole_file(text, problem):
    with pytest.raises(InvalidInput, match=problem.replace("(", r"\(")):
        CsvFile(text, required=["a", "c"])


def test_csv_rows_with_bytes_that_are_not_utf8_are_rejected_alone():
    rows = list(CsvFile(decode_text(b"a,b\n1,caf\xe9\n2,ok\n")).rows())
    assert "b: bytes that are not UTF-8 text (0xe9)" in rows[0][1].message and rows[1][1] == {"a": "2", "b": "ok"}


def test_json_helpers_name_the_line_of_the_problem():
    with pytest.raises(InvalidInput, match="line 3, column 1"):
        json_document(b'{"posts": [\n  1,\n]}')
    with pytest.raises(InvalidInput, match="nested too deeply"):
        json_document(b"[" * 5_000 + b"]" * 5_000)
    assert [(n, type(v).__name__) for n, v in json_lines('{"a": 1}\n\n{"a": \n"\u2028"\n')] == [
        (1, "dict"), (3, "InvalidInput"), (4, "str")]


@pytest.mark.parametrize(("head", "kind"), [
    (b"RIFF\x24\x08\x00\x00WAVEfmt ", "a WAV recording"), (b"ID3\x04\x00\x00\x00\x00\x00\x00", "an MP3 recording"),
    (b"\xff\xfb\x90\x64\x00", "an MP3 recording"), (b"OggS\x00\x02", "an Ogg recording"),
    (b"fLaC\x00\x00\x00\x22", "a FLAC recording"), (b"\x00\x00\x00\x20ftypM4A ", "an MP4/M4A recording"),
])
def test_a_recording_where_text_was_due_is_refused_with_where_recordings_go(head, kind):
    assert sniff_audio(head) == kind
    assert sniff_binary(head) is None  # the recording importer's own sniff still lets audio through
    with pytest.raises(InvalidInput, match=f"chats.wav is {kind}, not a chats file.*Upload a recording"):
        refuse_binary(head, what="chats.wav", expected="a chats file")


def test_text_that_merely_starts_like_a_byte_order_mark_is_not_taken_for_audio():
    assert sniff_audio(codecs.BOM_UTF16_LE + "conversation_id".encode("utf-16-le")) is None
    assert sniff_audio(b"conversation_id,message_id") is None
