"""The decision-order bug as it was reported: two `polku serve` on one data
directory, a reader who left through the other one, and the commands started
afterwards (`polku contacts export`, `polku digest`) seeing that last.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ..conftest import bare_environ, copy_site, polku_serve, write_manifest


def post(base: str, path: str, data: dict) -> int:
    import urllib.error
    import urllib.parse
    import urllib.request

    request = urllib.request.Request(
        base + path,
        data=urllib.parse.urlencode(data).encode(),
        method="POST",
        headers={"Origin": base},
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


def polku(site: Path, env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "tracker.cli", *args],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def confirm_path(data: Path, email: str) -> str:
    from email import message_from_bytes, policy
    from urllib.parse import urlsplit

    for path in sorted((data / "outbox").glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["To"] == email:
            text = message.get_body(("plain",)).get_content()
            link = next(w for w in text.split() if "/confirm/" in w)
    return urlsplit(link).path


def test_two_servers_one_reader_who_left(tmp_path):
    site = copy_site(tmp_path / "site")  # its settings, unbuilt
    (site / "output").mkdir()
    (site / "output" / "index.html").write_text("<h1>home</h1>")
    data = site / "var"
    write_manifest(data)
    secret = "decision-order-secret-key-0123456789"
    env = bare_environ(
        POLKU_DATA_DIR=str(data),
        POLKU_SECRET_KEY=secret,
        POLKU_CLOCK="2026-11-05T10:00:00+00:00",
        POLKU_RATELIMIT_ENABLED="false",
    )
    readers = {"ann@example.com": (0, 1), "ben@example.com": (1, 0)}
    with (
        polku_serve(site, tmp_path / "one.log", env) as one,
        polku_serve(site, tmp_path / "two.log", env) as two,
    ):
        servers = (one, two)
        for email, (joined, _) in {**readers, "cy@example.com": (0, 0)}.items():
            form = {"email": email, "consent_newsletter": "yes", "form": "signup"}
            assert post(servers[joined], "/subscribe", form) == 303
            assert post(servers[joined], confirm_path(data, email), {}) == 303
        from tracker import create_app
        from tracker.web import tokens

        app = create_app(
            {"TESTING": True, "SECRET_KEY": secret, "DATA_DIR": str(tmp_path / "x")}
        )
        for email, (_, left) in readers.items():
            found = json.loads(polku(site, env, "contacts", "export", email))
            with app.app_context():
                token = tokens.make("unsubscribe", {"c": found["contact"]["id"]})
            one_click = {"List-Unsubscribe": "One-Click"}
            assert post(servers[left], f"/unsubscribe/{token}", one_click) == 200
    for email in readers:  # each command a process started afterwards
        found = json.loads(polku(site, env, "contacts", "export", email))
        assert found["contact"]["status"] == "unsubscribed", email
    preview = tmp_path / "preview"
    polku(site, env, "digest", "--dry-run", str(preview))
    sent = " ".join(p.read_text(errors="replace") for p in preview.glob("*.eml"))
    assert "cy@example.com" in sent
    assert "ann@example.com" not in sent and "ben@example.com" not in sent
