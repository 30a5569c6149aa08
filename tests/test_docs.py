"""The README documents every command and every setting."""

import pytest

from tracker.cli import cli
from tracker.config import SETTINGS

from .conftest import ROOT

README = (ROOT / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_command_has_help_and_is_documented(runner, name):
    result = runner.invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert cli.commands[name].help.strip()
    assert f"`polku {name}" in README


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_setting_is_documented(setting):
    assert f"`POLKU_{setting.name}`" in README


def test_plugin_settings_are_documented():
    from pelican.plugins.polku.settings import DEFAULTS

    for name in DEFAULTS:
        assert f"`{name}`" in README, name


def test_readme_gives_the_two_commands():
    assert "make run" in README and "make test" in README
    assert "make test" in (ROOT / ".ci" / "run").read_text()
