"""A site folder and its environment for `polku digest`, and the command run on it."""

from __future__ import annotations

import json
from datetime import timedelta

from tracker import clock
from tracker.cli import cli

from ..conftest import TEST_MANIFEST, copy_site

SECRET = "test-secret-key"


def site_on(tmp_path, port: int):
    """The site fixture's folder and env, sending to the SMTP server on port."""
    folder = copy_site(tmp_path / "site")
    data = tmp_path / "var"
    recent = (clock.now() - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S")
    posts = [{**p, "date": recent} for p in TEST_MANIFEST["posts"]] + [
        {
            "kind": "article",
            "url": "posts/two/",
            "title": "Two <b>bold</b>",
            "date": recent,
            "category": "Marketing",
            "tags": [],
            "summary": "S.",
        },
    ]
    from ..conftest import write_manifest

    write_manifest(data, {**TEST_MANIFEST, "posts": posts})
    env = {
        "manifest": json.dumps({**TEST_MANIFEST, "posts": posts}),
        "POLKU_DATA_DIR": str(data),
        "POLKU_SECRET_KEY": SECRET,
        "POLKU_SMTP_HOST": "127.0.0.1",
        "POLKU_SMTP_PORT": str(port),
        "POLKU_RATELIMIT_ENABLED": "false",
        "POLKU_API_KEY": "test-api-key",
    }
    return folder, env


def polku(runner, site, *args, monkeypatch):
    folder, env = site
    monkeypatch.chdir(folder)
    env = {k: v for k, v in env.items() if k.startswith("POLKU_")}
    return runner.invoke(cli, ["digest", *args, "--rate", "0"], env=env)
