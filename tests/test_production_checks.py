"""Production refuses to start on settings that would leave it open."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tracker import create_app
from tracker.config import SETTINGS, ConfigError

from .conftest import bare_environ

SECRET = "s" * 40


def production(tmp_path, **settings):
    return create_app(
        {
            "ENV": "production",
            "SECRET_KEY": SECRET,
            "DATA_DIR": str(tmp_path / "var"),
            **settings,
        }
    )


@pytest.mark.parametrize("password", ["polku-demo", "x", "eleven char"])
def test_production_refuses_a_short_admin_password(tmp_path, password):
    with pytest.raises(ConfigError, match="POLKU_ADMIN_PASSWORD") as refused:
        production(tmp_path, ADMIN_PASSWORD=password)
    assert "12 characters" in str(refused.value)


def test_production_takes_a_long_admin_password_or_none(tmp_path):
    assert production(tmp_path, ADMIN_PASSWORD="twelve chars")
    assert production(tmp_path, ADMIN_PASSWORD="")  # the dashboard stays off
    assert production(tmp_path)


def test_development_keeps_any_password(tmp_path):
    app = create_app({"DATA_DIR": str(tmp_path / "var"), "ADMIN_PASSWORD": "pw"})
    assert app.config["ADMIN_PASSWORD"] == "pw"


def test_the_admin_password_is_a_documented_setting():
    (setting,) = [s for s in SETTINGS if s.name == "ADMIN_PASSWORD"]
    assert setting.default == "" and "12" in setting.help


def test_gunicorn_style_start_refuses_from_the_environment(tmp_path):
    """As a server starts it: settings from POLKU_*, the sentence on stderr."""
    env = bare_environ(
        POLKU_ENV="production",
        POLKU_SECRET_KEY=SECRET,
        POLKU_DATA_DIR=str(tmp_path / "var"),
        POLKU_ADMIN_PASSWORD="polku-demo",
    )
    started = subprocess.run(
        [sys.executable, "-c", "import tracker; tracker.create_app()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert "POLKU_ADMIN_PASSWORD" in started.stderr
