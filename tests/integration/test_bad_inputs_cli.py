"""The bad-input corpus through the command line (`earshot import ...`, `earshot connect ...`): a whole
file that cannot be read ends with one clear "error:" line and exit code 1, never a traceback; partly bad
files import their good records and name the bad lines."""

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.core.migrate import upgrade
from tests.fixtures.bad_inputs import generate
from tests.integration.test_bad_inputs import CORPUS


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
    monkeypatch.setenv("EARSHOT_DATABASE_URL", cli_database)
    monkeypatch.setenv("EARSHOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("EARSHOT_QUEUE_URL", "immediate")
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
