"""Reading e-mails (RFC 5322 .eml files and mbox archives) with the standard library, safely: HTML bodies
are reduced to text by a parser (never rendered), attachments are described (name, type, size) and
dropped."""

import hashlib
import html
import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from app.core.errors import InvalidInput
from app.core.inputs import clean_text, refuse_binary, sniff_html
from app.core.timeutil import as_utc

_MSGID = re.compile(r"<([^<>\s]+)>")


@dataclass
class ParsedEmail:
    message_id: str
    in_reply_to: str | None
    references: list[str]
    subject: str
    from_address: str
    from_name: str | None  # the From display name; None when the header has none (an import keeps the stored one)
    to_addresses: list[str]
    sent_at: datetime
    text: str
    attachments: list[dict[str, Any]] = field(default_factory=list)

    @property
    def related_ids(self) -> list[str]:
        return list(dict.fromkeys([*self.references, *([self.in_reply_to] if self.in_reply_to else [])]))


class _TextExtractor(HTMLParser):
    """Collects the visible text of an HTML document; script/style contents are skipped."""

    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table"}
    SKIP = {"script", "style", "head", "title", "template", "noscript"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Visible text of an HTML body (tags dropped, entities decoded, whitespace tidied)."""
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    text = html.unescape("".join(extractor.parts))
    lines = [re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _ids(value: str | None) -> list[str]:
    return _MSGID.findall(value or "")


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse one RFC 5322 message. Raises InvalidInput when it has no sender or no usable date."""
    if not raw.strip():
        raise InvalidInput("empty message")
    refuse_binary(raw[:16], what="the file", expected="an e-mail message")
    if sniff_html(raw[:64]):
        raise InvalidInput("the file is an HTML page, not an e-mail message (no headers)")
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return parse_message(message, raw)


def _header(message: EmailMessage, name: str) -> str:
    try:
        return str(message.get(name, ""))
    except ValueError:  # e.g. an encoded-word display name hiding CR/LF: the parser refuses to build it, so
        # read the raw value, whose encoded words are decoded only after the address is taken out
        return next((_one_line(str(v)) for k, v in message.raw_items() if k.lower() == name.lower()), "")


def _decoded(words: str) -> str:
    try:
        return _one_line(str(make_header(decode_header(words))))
    except (ValueError, LookupError):
        return _one_line(words)


def parse_message(message: EmailMessage, raw: bytes) -> ParsedEmail:
    senders = getaddresses([_header(message, "From")])
    if not senders or "@" not in senders[0][1]:
        raise InvalidInput("no sender address (From)")
    name, address = senders[0]
    date_header = message.get("Date")
    try:
        sent_at = as_utc(parsedate_to_datetime(str(date_header))) if date_header else None
    except (TypeError, ValueError):
        sent_at = None
    if sent_at is None:
        raise InvalidInput("no valid Date header")
    ids = _ids(str(message.get("Message-ID", "")))
    message_id = ids[0] if ids else "sha256-" + hashlib.sha256(raw).hexdigest()[:32] + "@earshot"
    in_reply_to = _ids(str(message.get("In-Reply-To", "")))
    recipients = [a for _, a in getaddresses([str(v) for v in message.get_all("To", []) + message.get_all("Cc", [])])
                  if "@" in a]
    return ParsedEmail(
        message_id=clean_text(message_id), in_reply_to=clean_text(in_reply_to[0]) if in_reply_to else None,
        references=[clean_text(r) for r in _ids(str(message.get("References", "")))],
        subject=_one_line(str(message.get("Subject", ""))), from_address=clean_text(address.strip().casefold()),
        from_name=_decoded(name) or None,
        to_addresses=[clean_text(a.strip().casefold()) for a in recipients], sent_at=sent_at,
        text=clean_text(_body_text(message)), attachments=_attachments(message))


def _one_line(value: str) -> str:
    """A header value as one line: an encoded-word can smuggle CR/LF and control characters into a Subject
    or a display name; they become spaces (or are dropped) instead of starting a fake header line."""
    return " ".join(clean_text(value.replace("\r", " ").replace("\n", " ")).split())


def local_part(address: str) -> str:
    try:
        return Address(addr_spec=address).username
    except (ValueError, IndexError):
        return address.split("@")[0]


def _body_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    try:
        content = body.get_content()
    except (LookupError, ValueError):
        payload = body.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    return html_to_text(content) if body.get_content_type() == "text/html" else content.strip()


def _attachments(message: EmailMessage) -> list[dict[str, Any]]:
    out = []
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True)
        out.append({"name": _one_line(part.get_filename() or "") or "(unnamed)", "content_type": part.get_content_type(),
                    "size": len(payload) if isinstance(payload, bytes) else 0})
    return out


def iter_email_sources(path: Path) -> Iterator[tuple[str, bytes]]:
    """(label, raw bytes) of every message under `path`: an .eml file, an mbox file, or a directory of
    them (sorted by name). Labels name the file, and the message number inside an mbox."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if file.suffix.lower() == ".eml":
            yield file.name, file.read_bytes()
        elif file.suffix.lower() == ".mbox" or (not path.is_dir() and looks_like_mbox(file)):
            yield from mbox_messages(file, file.name)


def mbox_messages(file: Path, label: str) -> Iterator[tuple[str, bytes]]:
    box = mailbox.mbox(str(file), create=False)
    try:
        for number, key in enumerate(box.iterkeys(), start=1):
            yield f"{label}#{number}", box.get_bytes(key)
    finally:
        box.close()


def looks_like_mbox(file: Path) -> bool:
    with file.open("rb") as handle:
        return handle.read(5) == b"From "
