"""Mailboxes → e-mail threads, through app.ingest's `import_emails` (threading, customers and agents there).

- mbox files and Maildir folders with the standard library's `mailbox` module.
- IMAP (RFC 3501, stdlib `imaplib`): each folder's high-water mark (UIDVALIDITY + the last UID read) is
  stored in `connector_imap_mark`, so a pull fetches only messages it has not read. When the server
  reports a new UIDVALIDITY the folder was rebuilt and is read again from the start (the import itself is
  idempotent by Message-ID, so that re-read creates nothing twice). The mark moves only after the import
  committed: a pull that crashes half-way fetches the same messages again next time.
"""

import contextlib
import imaplib
import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from app.connectors.models import ImapMark
from app.core.audit import Actor
from app.core.errors import InvalidInput
from app.core.settings import Settings
from app.core.timeutil import utcnow
from app.ingest.email_threads import import_emails
from app.ingest.emails import looks_like_mbox
from app.ingest.models import ImportReport


def mailbox_sources(path: Path) -> Iterator[tuple[str, bytes]]:
    """(label, raw message) of an mbox file, a Maildir folder (cur/ and new/) or one .eml message. Raises
    InvalidInput for anything else."""
    box: mailbox.Mailbox
    if path.is_dir():
        if not (path / "cur").is_dir() and not (path / "new").is_dir():
            raise InvalidInput(f"{path} is not a Maildir (no cur/ or new/)")
        box = mailbox.Maildir(str(path), create=False)
        keys = sorted(box.keys())
    elif path.suffix.lower() == ".eml":  # one message, not a mailbox: import it as it is
        yield path.name, path.read_bytes()
        return
    else:
        if not looks_like_mbox(path):
            raise InvalidInput(f"{path.name} is not an mbox file (it does not start with 'From '), an .eml "
                               "message or a Maildir folder")
        box = mailbox.mbox(str(path), create=False)
        keys = list(box.keys())
    for number, key in enumerate(keys, start=1):
        yield f"{path.name}#{number}", box.get_bytes(key)


def import_mailbox(*, session: Session, settings: Settings | None, path: Path, source: str = "mail",
                   actor: Actor | None = None) -> ImportReport:
    return import_emails(session=session, sources=mailbox_sources(path), source=source, actor=actor,
                         settings=settings)


@dataclass(frozen=True)
class ImapAccount:
    host: str
    port: int
    username: str
    password: str
    use_ssl: bool = True

    @property
    def key(self) -> str:
        return f"{self.username}@{self.host}:{self.port}"


@dataclass
class FolderPull:
    folder: str
    fetched: int
    last_uid: int
    report: ImportReport


UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")


def pull_imap(*, session: Session, settings: Settings | None, account: ImapAccount,
              folders: list[str] | None = None, source: str = "imap", batch: int = 200,
              actor: Actor | None = None) -> list[FolderPull]:
    """Fetch and import the messages of each folder (default INBOX) above its high-water mark.
    Raises InvalidInput when the server refuses the login or a folder."""
    client: imaplib.IMAP4 = (imaplib.IMAP4_SSL if account.use_ssl else imaplib.IMAP4)(account.host, account.port)
    try:
        try:
            client.login(account.username, account.password)
        except imaplib.IMAP4.error as exc:
            raise InvalidInput(f"IMAP login refused: {exc}") from exc
        return [_pull_folder(session=session, settings=settings, client=client, account=account, folder=folder,
                             source=source, batch=batch, actor=actor) for folder in folders or ["INBOX"]]
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()


def _pull_folder(*, session: Session, settings: Settings | None, client: imaplib.IMAP4, account: ImapAccount,
                 folder: str, source: str, batch: int, actor: Actor | None) -> FolderPull:
    status, data = client.select(f'"{folder}"', readonly=True)
    if status != "OK":
        raise InvalidInput(f"IMAP folder {folder!r}: {data}")
    _, status_data = client.status(f'"{folder}"', "(UIDVALIDITY)")
    found = UIDVALIDITY.search(status_data[0] if status_data and isinstance(status_data[0], bytes) else b"")
    if found is None:
        raise InvalidInput(f"IMAP folder {folder!r}: the server sent no UIDVALIDITY")
    uidvalidity = int(found.group(1))
    mark = session.exec(select(ImapMark).where(ImapMark.account == account.key, ImapMark.folder == folder)).first()
    if mark is None or mark.uidvalidity != uidvalidity:
        mark = mark or ImapMark(account=account.key, folder=folder, uidvalidity=uidvalidity)
        mark.uidvalidity, mark.last_uid = uidvalidity, 0
    _, search = client.uid("SEARCH", f"UID {mark.last_uid + 1}:*")
    uids = sorted(u for u in (int(x) for x in (search[0] or b"").split()) if u > mark.last_uid)  # n:* always
    total = ImportReport()
    for start in range(0, len(uids), batch):
        chunk = uids[start:start + batch]
        sources = list(_fetch(client, chunk, folder))
        report = import_emails(session=session, sources=sources, source=source, actor=actor,
                               settings=settings)
        for name in ("created", "updated", "unchanged"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        total.rejected.extend(report.rejected)
        mark.last_uid, mark.updated_at = chunk[-1], utcnow()
        session.add(mark)
        session.commit()
    if not uids:
        session.add(mark)
        session.commit()
    return FolderPull(folder=folder, fetched=len(uids), last_uid=mark.last_uid, report=total)


def _fetch(client: imaplib.IMAP4, uids: list[int], folder: str) -> Iterator[tuple[str, bytes]]:
    _, data = client.uid("FETCH", ",".join(str(u) for u in uids), "(UID BODY.PEEK[])")
    for part in data:
        if isinstance(part, tuple):
            uid = re.search(rb"UID (\d+)", part[0])
            yield f"{folder}:{uid.group(1).decode() if uid else '?'}", part[1]
