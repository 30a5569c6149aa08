"""The `polku` command line."""

import hashlib
import json
import os

from tracker.cli import cli


def test_help_lists_commands(runner):
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    for command in ("build", "serve"):
        assert command in result.output


def test_build_outside_a_site_says_why(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["build"])
    assert result.exit_code == 1
    assert "No pelicanconf.py here" in result.output


def test_serve_without_a_build_says_why(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["serve"])
    assert result.exit_code == 1
    assert "run `polku build` first" in result.output


def test_build_reports_its_time(demo):
    log = (demo / "build.log").read_text()
    assert "Built the site in" in log


def polku(runner, app, *args, input=None):
    env = {
        "POLKU_DATA_DIR": app.config["DATA_DIR"],
        "POLKU_SECRET_KEY": "test-secret-key",
    }
    return runner.invoke(cli, list(args), env=env, input=input)


def test_contacts_export_includes_stitched_visits(runner, app, reader):
    from ..web.test_collect import GOOD, send

    send(reader.client, GOOD)
    reader.confirm()
    result = polku(runner, app, "contacts", "export", "reader@example.com")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["contact"]["email"] == "reader@example.com"
    assert data["contact"]["consent"]["newsletter"]["version"] == "v1"
    visit = next(e for e in data["timeline"] if e["type"] == "pageview")
    assert visit["utm"]["campaign"] == "spring"


def test_contacts_export_unknown(runner, app):
    result = polku(runner, app, "contacts", "export", "nobody@example.com")
    assert result.exit_code == 1 and "No contact" in result.output


def test_contacts_erase_leaves_no_trace(runner, app, reader):
    from ..conftest import raw_data

    reader.confirm()
    reader.subscribe("other@example.com", first_name="Other")
    assert b"reader@example.com" in raw_data(app)
    refused = polku(runner, app, "contacts", "erase", "reader@example.com", input="n\n")
    assert refused.exit_code == 1
    result = polku(runner, app, "contacts", "erase", "reader@example.com", "--yes")
    assert result.exit_code == 0, result.output
    raw = raw_data(app)
    assert b"reader@example.com" not in raw
    assert hashlib.sha256(b"reader@example.com").hexdigest().encode() not in raw
    assert b"other@example.com" in raw


def test_contacts_import_is_idempotent(runner, app, tmp_path):
    csv_file = tmp_path / "orders.csv"
    csv_file.write_text(
        "Email,Name,Date,Value\n"
        "anna@example.com,Anna,2026-10-01,290\n"
        "anna@example.com,Anna,2026-11-01,120.50\n"
        "ben@example.com,,2026-11-02,1500\n"
    )
    first = polku(runner, app, "contacts", "import", str(csv_file))
    assert first.exit_code == 0, first.output
    assert "Imported 3 orders; 0 were already there" in first.output
    again = polku(runner, app, "contacts", "import", str(csv_file))
    assert "Imported 0 orders; 3 were already there" in again.output
    exported = json.loads(
        polku(runner, app, "contacts", "export", "anna@example.com").output
    )
    assert exported["contact"]["customer_at"].startswith("2026-10-01")
    assert exported["contact"]["first_name"] == "Anna"
    assert len(exported["timeline"]) == 2


def test_contacts_import_bad_file_imports_nothing(runner, app, tmp_path):
    csv_file = tmp_path / "orders.csv"
    csv_file.write_text(
        "email,date,value\nok@example.com,2026-10-01,1\nbad,2026-10-01,1\n"
    )
    result = polku(runner, app, "contacts", "import", str(csv_file))
    assert result.exit_code == 1 and "row 3" in result.output
    assert (
        "No contact"
        in polku(runner, app, "contacts", "export", "ok@example.com").output
    )


def test_contacts_prune_removes_old_unconfirmed_signups(runner, app, reader):
    reader.subscribe("old@example.com")
    reader.confirm("kept@example.com")
    result = runner.invoke(
        cli,
        ["contacts", "prune"],
        env={"POLKU_DATA_DIR": app.config["DATA_DIR"], "POLKU_PENDING_DAYS": "-1"},
    )
    assert result.exit_code == 0, result.output
    assert "Pruned 1" in result.output
    assert (
        "No contact"
        in polku(runner, app, "contacts", "export", "old@example.com").output
    )


def test_contacts_import_reads_a_spreadsheets_export(runner, app, tmp_path):
    csv_file = tmp_path / "orders.csv"
    text = (
        "Sähköposti;Email;Name;Date;Value\r\n"
        ";anna@example.com;Anna;2026-10-01;1 200,50\r\n"
    )
    csv_file.write_bytes(text.encode("utf-16"))
    result = polku(runner, app, "contacts", "import", str(csv_file))
    assert result.exit_code == 0, result.output
    exported = json.loads(
        polku(runner, app, "contacts", "export", "anna@example.com").output
    )
    assert exported["timeline"][0]["value"] == 1200.5


def test_contacts_import_answers_a_wrong_file_in_one_sentence(runner, app, tmp_path):
    csv_file = tmp_path / "orders.csv"
    csv_file.write_text("Name,Total\nAnna,12\n")
    result = polku(runner, app, "contacts", "import", str(csv_file))
    assert result.exit_code == 1
    assert (
        "Traceback" not in result.output
        and result.exception is None
        or isinstance(result.exception, SystemExit)
    )
    (line,) = result.output.strip().splitlines()
    assert "email" in line and "date" in line
    short = tmp_path / "short.csv"
    short.write_text("email,date\nanna@example.com\n")
    result = polku(runner, app, "contacts", "import", str(short))
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert len(result.output.strip().splitlines()) == 1 and "row 2" in result.output


def test_digest_refuses_a_malformed_test_address(runner, app):
    result = polku(runner, app, "digest", "--to", "me@@example")
    assert result.exit_code != 0 and isinstance(result.exception, SystemExit)
    (line,) = result.output.strip().splitlines()
    assert "me@@example" in line and line.endswith(".")


def test_option_help_shows_dates_as_yyyy_mm_dd(runner):
    import click

    def every(command, path):
        yield path
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                yield from every(sub, [*path, name])

    seen = ""
    for path in every(cli, []):
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "%Y" not in result.output and "%m" not in result.output, path
        seen += result.output
    assert "--since YYYY-MM-DD" in seen


def test_the_site_folders_polku_env_applies_unless_the_shell_says_otherwise(
    runner, tmp_path, monkeypatch
):
    data = tmp_path / "elsewhere"
    data.mkdir()
    manifest = {"site": {"name": "Env", "url": "https://e.example", "lang": "fi"}}
    (data / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "polku.env").write_text(
        f'# settings\nPOLKU_DATA_DIR="{data}"\nNOT_POLKU=1\n'
        f"POLKU_SECRET_KEY={'k' * 40}\n"
    )
    monkeypatch.chdir(tmp_path)
    for name in ("POLKU_DATA_DIR", "POLKU_SECRET_KEY"):  # absent again afterwards
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    result = runner.invoke(cli, ["contacts", "prune"])
    assert result.exit_code == 0, result.output
    assert result.output == "Poistettiin 0 vahvistamatonta tilausta.\n"  # its manifest
    assert "NOT_POLKU" not in os.environ
    other = tmp_path / "shell"
    other.mkdir()
    monkeypatch.setenv("POLKU_DATA_DIR", str(other))  # the shell wins
    result = runner.invoke(cli, ["contacts", "prune"])
    assert result.output == "Pruned 0 unconfirmed signups.\n"


def test_pelicans_build_warnings_belong_to_polku_build_only(demo, tmp_path):
    """A command that only reads the site's settings does not repeat them."""
    import subprocess
    import sys

    from ..sites import child_environ

    assert "Feeds generated without SITEURL" in (demo / "build.log").read_text()
    result = subprocess.run(
        [sys.executable, "-m", "tracker.cli", "digest", "--dry-run", str(tmp_path)],
        cwd=demo,
        env={**child_environ(), "POLKU_DATA_DIR": str(tmp_path / "var")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Feeds generated" not in result.stdout + result.stderr
