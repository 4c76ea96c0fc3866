"""A throw-away Dovecot (Debian's dovecot-imapd) on 127.0.0.1:<free port> with its own config file,
a passwd-file user and a Maildir the test fills. Never touches the system config or systemd."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

USER, PASSWORD = "support", "imap-test-password"


@dataclass
class Dovecot:
    port: int
    maildir: Path
    uid: int
    gid: int

    def deliver(self, name: str, raw: bytes, folder: str = "") -> None:
        """Drop a message into Maildir/new (Dovecot assigns the next UID when it sees it)."""
        target = self.maildir / (f".{folder}" if folder else "") / "new"
        target.mkdir(parents=True, exist_ok=True)
        path = target / f"{time.time_ns()}.{name}.test"
        path.write_bytes(raw)
        os.chown(path, self.uid, self.gid)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)


@contextmanager
def run_dovecot() -> Iterator[Dovecot]:
    """Dovecot's unprivileged processes must reach the files, and pytest's tmp dirs are private (0700):
    use a fresh world-traversable directory of our own, removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="earshot-dovecot-"))
    try:
        yield from _run(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _run(root: Path) -> Iterator[Dovecot]:
    binary = dovecot_binary()
    assert binary is not None
    if os.geteuid() == 0:  # Dovecot refuses UID 0 for mail; use its own unprivileged users
        mail_user, login_user = pwd.getpwnam("dovecot"), "dovenull"
    else:
        mail_user = login_user = pwd.getpwuid(os.getuid())  # type: ignore[assignment]
        login_user = mail_user.pw_name  # type: ignore[assignment]
    port = _free_port()
    home = root / "home"
    maildir = home / USER / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (root / "run").mkdir()
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    config = root / "dovecot.conf"
    config.write_text(f"""
base_dir = {root}/run
state_dir = {root}/run/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {mail_user.pw_name}
first_valid_uid = {mail_user.pw_uid}
passdb {{
  driver = passwd-file
  args = {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={home}/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
""")
    for path in [root, *root.rglob("*")]:
        if path != root / "run" and root / "run" not in path.parents:
            os.chown(path, mail_user.pw_uid, mail_user.pw_gid)
    os.chmod(root, 0o755)
    # -F: stay in the foreground as our child, so the test stops exactly the process it started
    master = subprocess.Popen([binary, "-F", "-c", str(config)], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("dovecot did not start: " + (root / "dovecot.log").read_text()) from None
                time.sleep(0.05)
        yield Dovecot(port=port, maildir=maildir, uid=mail_user.pw_uid, gid=mail_user.pw_gid)
    finally:
        master.terminate()
        master.wait(timeout=10)
