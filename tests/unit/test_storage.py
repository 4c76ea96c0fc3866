"""Content-addressed storage: atomic, deduplicated, nothing left behind on failure."""

import io

import pytest

from app.core.errors import InvalidInput, PayloadTooLarge
from app.core.storage import BlobStore


def test_same_content_is_stored_once(tmp_path):
    store = BlobStore(tmp_path)
    first = store.put_stream(io.BytesIO(b"RIFF audio"), max_bytes=100)
    second = store.put_stream(io.BytesIO(b"RIFF audio"), max_bytes=100)
    assert first.sha256 == second.sha256 and not first.already_present and second.already_present
    assert first.path.read_bytes() == b"RIFF audio"
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [first.path]


def test_over_the_limit_leaves_no_file(tmp_path):
    store = BlobStore(tmp_path)
    with pytest.raises(PayloadTooLarge):
        store.put_chunks([b"a" * 60, b"b" * 60], max_bytes=100)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_empty_file_is_refused(tmp_path):
    with pytest.raises(InvalidInput):
        BlobStore(tmp_path).put_stream(io.BytesIO(b""), max_bytes=100)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_failure_while_streaming_leaves_no_partial_file(tmp_path):
    def chunks():
        yield b"first part"
        raise OSError("No space left on device")

    with pytest.raises(OSError, match="No space left"):
        BlobStore(tmp_path).put_chunks(chunks(), max_bytes=1000)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
