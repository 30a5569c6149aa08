"""The `polku` command line."""

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
