"""A tracker with the demo's own sequences (read by the plugin from content/),
its subscribers, and `polku sequences` run on it."""

from __future__ import annotations

import json
from pathlib import Path

from pelican.plugins.polku import sequences as reader
from pelican.settings import DEFAULT_CONFIG

from tracker.cli import cli

from ..conftest import TEST_MANIFEST, Reader, write_manifest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-secret-key"


def demo_sequences() -> list[dict]:
    settings = {**DEFAULT_CONFIG, "PATH": str(ROOT / "content")}
    return reader.collect(settings, set(TEST_MANIFEST["guides"]))


def manifest(window="08:00-20:00", per_day=1, sequences=None) -> dict:
    return {
        **TEST_MANIFEST,
        "site": {**TEST_MANIFEST["site"], "timezone": "Europe/Helsinki"},
        "journey": {"send_window": window, "max_per_day": per_day},
        "sequences": demo_sequences() if sequences is None else sequences,
    }


class Site:
    """The data folder, the app on it, and the command's environment."""

    def __init__(
        self, tmp_path: Path, app_factory, port: int | None, config=None, **kw
    ):
        self.data = tmp_path / "var"
        self.app = app_factory(DATA_DIR=str(self.data), **(config or {}))
        write_manifest(self.data, manifest(**kw))
        self.env = {
            "POLKU_DATA_DIR": str(self.data),
            "POLKU_SECRET_KEY": SECRET,
            "POLKU_RATELIMIT_ENABLED": "false",
        }
        if self.app.config.get("DATABASE_URL"):
            self.env["POLKU_DATABASE_URL"] = self.app.config["DATABASE_URL"]
        if port:
            self.env |= {"POLKU_SMTP_HOST": "127.0.0.1", "POLKU_SMTP_PORT": str(port)}
        self.reader = Reader(self.app.test_client(), self.app)

    def subscriber(self, address: str, first_name: str = "Aino") -> None:
        assert self.reader.subscribe(address, first_name=first_name).status_code == 303
        assert (
            self.reader.post(self.reader.link("confirm", to=address)).status_code == 303
        )

    def polku(self, runner, *args):
        result = runner.invoke(cli, ["sequences", *args], env=self.env)
        return result

    def export(self, runner, address: str) -> dict:
        result = runner.invoke(cli, ["contacts", "export", address], env=self.env)
        assert result.exit_code == 0, result.output
        return json.loads(result.output)
