"""The bad-input corpus through the command line (`earshot import ...`, `earshot connect ...`): a whole
file that cannot be read ends with one clear "error:" line and exit code 1, never a traceback; partly bad
files import their good records and name the bad lines."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.core.migrate import upgrade
from tests.conftest import BACKENDS, migrated_database
from tests.fixtures.bad_inputs import generate
from tests.integration.test_bad_inputs import CORPUS


def cli_environment(monkeypatch, database: str, tmp_path) -> None:
    """What a CLI command run here reads: the test database, a data directory, jobs run in place."""
    monkeypatch.setenv("EARSHOT_DATABASE_URL", database)
    monkeypatch.setenv("EARSHOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("EARSHOT_QUEUE_URL", "immediate")


@pytest.fixture
def backend() -> str:  # the CLI opens its own database from EARSHOT_* settings: a SQLite file here
    return "sqlite"


@pytest.fixture(scope="module")
def cli_database(tmp_path_factory) -> str:
    """One migrated SQLite file for these tests (each imports under its own file's ids)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'cli.db'}"
    upgrade(url)
    return url


@pytest.fixture
def run(tmp_path, monkeypatch, cli_database):
    cli_environment(monkeypatch, cli_database, tmp_path)
    runner = CliRunner()

    def invoke(*args: str):
        result = runner.invoke(cli, list(args))
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        return result

    return invoke


@pytest.mark.parametrize(("args", "exit_code", "said"), [
    (["import", "chats", "chats_utf16.csv"], 0, ["created 2, updated 0, unchanged 0, rejected 2", "line 3: s-1 unknown agent",
                                                 "line 4: author_role"]),
    (["import", "chats", "chats_unbalanced_quote.csv"], 0, ["created 2", "line 2: a quote opened on this line"]),
    (["import", "chats", "chats_missing_columns.csv"], 1, ["error: chats_missing_columns.csv has no column sent_at, text"]),
    (["import", "social", "social_truncated.json"], 1, ["error: social_truncated.json is not valid JSON", "line"]),
    (["import", "social", "social_wrong_types.json"], 0, ["created 2", "line 3:"]),
    (["import", "emails", "email_is_pdf.eml"], 1, ["rejected 1", "PDF document"]),
    (["connect", "zendesk", "social_truncated.json"], 1, ["not valid JSON"]),
])
def test_cli_reads_bad_files_without_a_traceback(run, args, exit_code, said):
    result = run(*args[:-1], str(CORPUS / args[-1]))
    assert result.exit_code == exit_code, result.output
    for text in said:
        assert text in result.output, result.output


def test_asterisk_cdr_with_a_huge_field_reports_the_line_and_reads_on(run, tmp_path):
    row = ('"","+447700900123","200","from-pstn","""Ann"" <+447700900123>","PJSIP/trunk-0001",'
           '"PJSIP/ada-0002","Dial","PJSIP/ada","2026-09-17 09:00:00","2026-09-17 09:00:05",'
           '"2026-09-17 09:03:00","180","175","ANSWERED","DOCUMENTATION","{uid}",""')
    cdr = tmp_path / "Master.csv"
    cdr.write_text("\n".join([row.format(uid="1.1"), row.format(uid="1.2").replace('"Dial"', '"' + "x" * (
        generate.HUGE_CELL_CHARS) + '"'), row.format(uid="1.3")]) + "\n", encoding="utf-8")
    result = run("connect", "asterisk", str(cdr))
    assert result.exit_code == 0, result.output
    assert "created 2" in result.output and "line 2: not valid CSV: field larger than field limit" in result.output


# ---------------------------------------------------------------- the whole corpus through every command

# Every CLI command that imports a file: (name, the arguments before the file).
FILE_COMMANDS = {
    "import chats": ["import", "chats"], "import emails": ["import", "emails"], "import social": ["import", "social"],
    "surveys import": ["surveys", "import", "--source", "corpus"],
    "connect asterisk": ["connect", "asterisk"], "connect freeswitch": ["connect", "freeswitch"],
    "connect amazon-connect": ["connect", "amazon-connect"], "connect twilio": ["connect", "twilio"],
    "connect zendesk": ["connect", "zendesk"], "connect intercom": ["connect", "intercom"],
    "connect chatwoot": ["connect", "chatwoot"], "connect zammad": ["connect", "zammad"],
    "connect mailbox": ["connect", "mailbox"], "connect facebook": ["connect", "facebook"],
    "connect twitter": ["connect", "twitter"], "connect instagram": ["connect", "instagram"],
    "connect survey-preset qualtrics": ["connect", "survey-preset", "corpus-q", "--preset", "qualtrics", "--export"],
    "connect survey-preset surveymonkey": ["connect", "survey-preset", "corpus-m", "--preset", "surveymonkey",
                                           "--export"],
}
# Commands that read a corpus file under another name: (arguments, where the corpus file goes, the file or
# directory given on the command line). `import calls DIR` reads DIR/manifest.csv; `connect twilio` reads
# its calls file and, with --recordings-json, the Recording resources.
PLACED_COMMANDS = {
    "import calls": (["import", "calls"], "manifest.csv", "."),
    "connect twilio --recordings-json": (["connect", "twilio", "--recordings-json"], "recordings.json",
                                         "recordings.json"),
}
TWILIO_CALLS = ('{"calls": [{"sid": "CA%s", "from": "+447700900123", "to": "+441234567890", "direction": "inbound",'
                ' "start_time": "Fri, 20 Nov 2026 09:00:00 +0000", "duration": "60", "status": "completed"}]}')
COUNTS = re.compile(r"created (\d+), updated (\d+), unchanged (\d+), rejected (\d+)")


def corpus_files(extra: Path) -> list[Path]:
    """The checked-in corpus, a Latin-1 survey CSV and JSON nested 100,000 deep (also behind the X archive
    prefix)."""
    latin = extra / "survey_latin1.csv"
    latin.write_bytes("response_id,invited_at,responded_at,rating,comment\n"
                      "l1,2026-11-01T10:00:00Z,2026-11-01T11:00:00Z,good,Très bien\n"
                      "l2,2026-11-01T10:00:00Z,2026-11-01T11:00:00Z,bad,Déçu\n".encode("latin-1"))
    deep = extra / "deeply_nested.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    deep_ytd = extra / "deeply_nested_tweets.js"
    deep_ytd.write_text("window.YTD.tweets.part0 = " + "[" * 100_000 + "]" * 100_000, encoding="utf-8")
    checked_in = sorted(p for p in CORPUS.iterdir() if p.is_file() and p.suffix not in (".py", ".md", ".yaml")
                        and not p.name.startswith("."))
    return [*checked_in, latin, deep, deep_ytd]


def placed_arguments(command: str, path: Path, directory: Path) -> list[str]:
    """The command line running `command` on corpus file `path`, copied to where the command reads it."""
    arguments, place, given = PLACED_COMMANDS[command]
    directory.mkdir(parents=True)
    (directory / place).write_bytes(path.read_bytes())
    if command.startswith("connect twilio"):
        calls = directory / "calls.json"
        calls.write_text(TWILIO_CALLS % directory.name.encode().hex().ljust(32, "0")[:32], encoding="utf-8")
        return [*arguments, str(directory / given), str(calls)]
    return [*arguments, str(directory / given)]


def judge(command: str, path: Path, result: Any) -> str | None:
    """What is wrong with one run, or None: never a traceback; exit 0 only when something was imported;
    exit 1 with one `error:` line naming the file, or with every rejected line named."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return f"traceback {type(result.exception).__name__}: {result.exception}"
    output = result.output
    if "Traceback" in output:
        return "a traceback was printed"
    counts = COUNTS.search(output)
    imported = counts is not None and any(int(n) for n in counts.groups()[:3])
    if result.exit_code == 0:
        return None if imported else f"exit 0 but nothing was imported: {output[-300:]!r}"
    if result.exit_code != 1:
        return f"exit code {result.exit_code}"
    errors = [line for line in output.splitlines() if line.startswith("error: ")]
    if errors:
        if len(errors) != 1 or not (path.name in errors[0] or (path.parent.name in errors[0]
                                                                and "manifest.csv" in errors[0])):
            return f"the error must be one line naming {path.name}: {errors}"
        return None
    if counts is None or int(counts.group(4)) == 0 or not re.search(r"line \d+: ", output):
        return f"exit 1 without an error line or named rejections: {output[-300:]!r}"
    return None


@pytest.fixture(scope="module", params=BACKENDS)
def corpus_database(request, tmp_path_factory) -> Iterator[str]:
    """A migrated database for the corpus runs: a SQLite file, or a fresh PostgreSQL database."""
    yield from migrated_database(request.param, tmp_path_factory.mktemp("corpus"), "cli_corpus")


@pytest.mark.parametrize("command", sorted(FILE_COMMANDS))
def test_every_corpus_file_through_every_cli_import_ends_cleanly(command, corpus_database, tmp_path, monkeypatch):
    cli_environment(monkeypatch, corpus_database, tmp_path)
    runner = CliRunner()
    problems = {}
    for path in corpus_files(tmp_path):
        problem = judge(command, path, runner.invoke(cli, [*FILE_COMMANDS[command], str(path)]))
        if problem:
            problems[path.name] = problem
    assert problems == {}


@pytest.mark.parametrize("command", sorted(PLACED_COMMANDS))
def test_every_corpus_file_through_the_commands_that_read_it_under_another_name(command, corpus_database, tmp_path,
                                                                                monkeypatch):
    cli_environment(monkeypatch, corpus_database, tmp_path)
    runner = CliRunner()
    problems = {}
    for path in corpus_files(tmp_path):
        directory = tmp_path / "runs" / f"{path.stem}-{path.suffix.lstrip('.')}"
        result = runner.invoke(cli, placed_arguments(command, path, directory))
        placed = directory / PLACED_COMMANDS[command][1]
        problem = judge(command, placed, result)
        if problem:
            problems[path.name] = problem
    assert problems == {}


def test_import_calls_says_which_manifest_is_wrong(run, tmp_path):
    empty = tmp_path / "no-manifest"
    empty.mkdir()
    missing = run("import", "calls", str(empty))
    assert missing.exit_code == 1 and f"error: manifest.csv not found in {empty}" in missing.output
    (empty / "manifest.csv").write_text("id,when\nx,2026-11-20T09:00:00Z\n", encoding="utf-8")
    no_columns = run("import", "calls", str(empty))
    assert no_columns.exit_code == 1
    assert "error: no-manifest: manifest.csv has no column external_id, file, started_at" in no_columns.output


def test_the_named_cases_say_what_is_wrong_where(run, tmp_path):
    files = {p.name: p for p in corpus_files(tmp_path)}
    latin = run("surveys", "import", "--source", "latin", str(files["survey_latin1.csv"]))
    assert latin.exit_code == 1 and "survey_latin1.csv line 2: comment: bytes that are not UTF-8" in latin.output
    assert "survey_latin1.csv line 3:" in latin.output
    for command in ("facebook", "instagram", "zendesk", "freeswitch"):
        deep = run("connect", command, str(files["deeply_nested.json"]))
        assert deep.exit_code == 1 and "deeply_nested.json" in deep.output and "nested too deeply" in deep.output
    deep_tweets = run("connect", "twitter", str(files["deeply_nested_tweets.js"]))
    assert deep_tweets.exit_code == 1 and "error: deeply_nested_tweets.js: not valid JSON" in deep_tweets.output
    one_email = run("connect", "mailbox", str(files["email_scripts.eml"]))
    assert one_email.exit_code == 0 and "created 1," in one_email.output  # was "created 0 … rejected 0", exit 0
    not_a_mailbox = run("connect", "mailbox", str(files["chats_tab.csv"]))
    assert not_a_mailbox.exit_code == 1 and "error: chats_tab.csv is not an mbox file" in not_a_mailbox.output
    nothing = run("import", "emails", str(files["chats_tab.csv"]))
    assert nothing.exit_code == 1 and "error: chats_tab.csv: found nothing to import" in nothing.output
    preset = run("connect", "survey-preset", "q", "--preset", "qualtrics", "--export", str(files["chats_tab.csv"]))
    assert preset.exit_code == 1 and "error: chats_tab.csv has no column ResponseId" in preset.output


def test_errors_name_the_users_column(run, tmp_path):
    export = tmp_path / "qualtrics.csv"
    export.write_text("ResponseId,StartDate,RecordedDate,RecipientEmail,Q1\n"
                      "R_1,2026-11-01 09:00:00,yesterday,ann@example.com,5\n"
                      "R_2,2026-11-01 09:00:00,2026-11-01 10:00:00,ann@example.com,eleven\n", encoding="utf-8")
    result = run("connect", "survey-preset", "qx", "--preset", "qualtrics", "--export", str(export))
    assert result.exit_code == 1
    assert "line 2: RecordedDate 'yesterday' is not a date in the export's format" in result.output
    assert "line 3: Q1 'eleven' is not a number" in result.output
    assert "responded_at" not in result.output.split("\n", 1)[1] and "score" not in result.output.split("\n", 1)[1]


@pytest.mark.parametrize("command", [["connect", "watch"], ["watch"]])
def test_every_corpus_file_as_drop_folder_metadata_fails_that_recording_by_name(command, corpus_database, tmp_path,
                                                                                 monkeypatch):
    """`watch --once` on a recording whose <name>.json is a corpus file: ingested (exit 0) or one
    `failed <name>.wav: <why>` line and exit 1 — never a traceback; an empty folder is an error too."""
    from tests.integration.connectors_support import tone

    cli_environment(monkeypatch, corpus_database, tmp_path)
    runner = CliRunner()
    sample = tone(tmp_path / "sample.wav")
    problems = {}
    for path in corpus_files(tmp_path):
        drop = tmp_path / "drops" / f"{path.stem}-{path.suffix.lstrip('.')}"
        drop.mkdir(parents=True)
        (drop / "call.wav").write_bytes(sample.read_bytes())
        (drop / "call.json").write_bytes(path.read_bytes())
        (drop / "call.wav.done").touch()  # complete now: no settling
        result = runner.invoke(cli, [*command, str(drop), "--once", "--settle", "0"])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            problems[path.name] = f"traceback {type(result.exception).__name__}: {result.exception}"
        elif result.exit_code == 0 and "ingested call.wav" not in result.output:
            problems[path.name] = f"exit 0 but nothing ingested: {result.output!r}"
        elif result.exit_code not in (0, 1) or (result.exit_code == 1 and [
                line for line in result.output.splitlines() if line.startswith("failed call.wav: ")] == []):
            problems[path.name] = f"exit {result.exit_code} without a failed line: {result.output!r}"
    assert problems == {}
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = runner.invoke(cli, [*command, str(empty), "--once"])
    assert nothing.exit_code == 1 and "error: empty: no recording with its <name>.json metadata is ready" in nothing.output
