"""`polku serve`: the built site and the tracker on one origin."""

from werkzeug.test import Client

from tracker import create_app
from tracker.serve import SiteAndTracker


def make_client(tmp_path):
    out = tmp_path / "output"
    (out / "posts" / "hello").mkdir(parents=True)
    (out / "index.html").write_text("<h1>home</h1>")
    (out / "posts" / "hello" / "index.html").write_text("<h1>hello</h1>")
    (tmp_path / "secret.txt").write_text("private")
    tracker = create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "var")})
    return Client(SiteAndTracker(tracker, str(out)), use_cookies=False)


class Buffered:
    """Read every response whole, so that served files are closed at once."""

    def __init__(self, client):
        self.client = client

    def get(self, path):
        return self.client.get(path, buffered=True)


def test_serves_pages_and_directory_indexes(tmp_path):
    client = Buffered(make_client(tmp_path))
    assert client.get("/").text == "<h1>home</h1>"
    assert client.get("/posts/hello/").text == "<h1>hello</h1>"
    moved = client.get("/posts/hello")
    assert moved.status_code == 301 and moved.headers["Location"].endswith(
        "/posts/hello/"
    )


def test_tracker_answers_on_the_same_origin(tmp_path):
    client = Buffered(make_client(tmp_path))
    assert client.get("/healthz").json == {"ok": True}


def test_nothing_outside_output_is_served(tmp_path):
    client = Buffered(make_client(tmp_path))
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/posts/../../secret.txt"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert b"private" not in response.data


def test_unknown_path_is_404(tmp_path):
    assert Buffered(make_client(tmp_path)).get("/nope/").status_code == 404


def test_a_missing_page_is_the_sites_own_404(tmp_path):
    raw = make_client(tmp_path)
    client = Buffered(raw)
    (tmp_path / "output" / "404.html").write_text("<h1>Not here, sorry</h1>")
    for path in ("/nope/", "/posts/nope", "/static/nope.css", "/form/x/y"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.text == "<h1>Not here, sorry</h1>", path
        assert response.mimetype == "text/html"
    head = raw.head("/nope/", buffered=True)
    assert head.status_code == 404 and head.data == b""
    assert client.get("/healthz").json == {"ok": True}  # the tracker still answers
    posted = raw.post("/nope/", buffered=True)
    assert posted.status_code in (404, 405) and "Not here" not in posted.text


def test_without_a_built_404_the_tracker_answers_with_the_sites_name(tmp_path):
    import json

    (tmp_path / "var").mkdir()
    site = {"name": "Kettu Studio", "url": "http://127.0.0.1:8000", "lang": "en"}
    (tmp_path / "var" / "manifest.json").write_text(json.dumps({"site": site}))
    response = Buffered(make_client(tmp_path)).get("/nope/")
    assert response.status_code == 404 and "text/html" in response.content_type
    assert "Kettu Studio" in response.text and "<html" in response.text
    assert "404 Not Found" not in response.text  # never Werkzeug's bare page


# -- only local Host names (DNS rebinding) -------------------------------------------
#
# A web page whose name the attacker re-points at 127.0.0.1 reaches the server with
# its own name in the Host header: such requests never reach the tracker or the files.


def host_client(tmp_path, **hosts):
    out = tmp_path / "output"
    out.mkdir(exist_ok=True)
    (out / "index.html").write_text("<h1>home</h1>")
    tracker = create_app(
        {
            "TESTING": True,
            "DATA_DIR": str(tmp_path / "var"),
            "ADMIN_PASSWORD": "a published demo password",
        }
    )
    return Client(SiteAndTracker(tracker, str(out), **hosts), use_cookies=False)


def ask(client, host, method="GET", path="/", **kwargs):
    return client.open(
        path, method=method, headers={"Host": host}, buffered=True, **kwargs
    )


LOCAL = [
    "localhost",
    "localhost:8000",
    "LOCALHOST:8000",
    "localhost.:8000",
    "polku.localhost:8000",
    "127.0.0.1",
    "127.0.0.1:8000",
    "127.1.2.3:8000",
    "[::1]:8000",
    "[::1]",
]
FOREIGN = [
    "attacker.example",
    "attacker.example:8000",
    "localhost.attacker.example:8000",
    "127.0.0.1.attacker.example",
    "evil.example@127.0.0.1:8000",
    "127.0.0.1:8000/x",
    "192.168.1.10:8000",
    "[::2]:8000",
    "[::1",
    "127.0.0.1:80a",
    "",
]


def test_local_host_names_are_served(tmp_path):
    client = host_client(tmp_path)
    for host in LOCAL:
        response = ask(client, host)
        assert response.status_code == 200, host
        assert response.text == "<h1>home</h1>"
        assert ask(client, host, path="/healthz").json == {"ok": True}


def test_other_host_names_never_reach_the_files_or_the_tracker(tmp_path):
    client = host_client(tmp_path)
    for host in FOREIGN:
        for method, path, data in [
            ("GET", "/", None),
            ("GET", "/healthz", None),
            ("GET", "/admin/login", None),
            ("POST", "/admin/login", {"password": "a published demo password"}),
        ]:
            response = ask(client, host, method, path, data=data)
            assert response.status_code in (400, 421), (host, path)
            assert "Set-Cookie" not in response.headers
            assert "home" not in response.text and '"ok"' not in response.text
            assert "polku serve" in response.text  # a readable reason


def test_the_refusal_names_the_way_out(tmp_path):
    response = ask(host_client(tmp_path), "attacker.example:8000")
    assert response.status_code == 421
    assert response.mimetype == "text/plain"
    assert "--allow-host" in response.text and "127.0.0.1" in response.text


def test_the_address_given_with_host_is_served(tmp_path):
    client = host_client(tmp_path, host="192.168.1.10")
    assert ask(client, "192.168.1.10:8000").status_code == 200
    assert ask(client, "localhost:8000").status_code == 200
    assert ask(client, "192.168.1.11:8000").status_code == 421
    named = host_client(tmp_path, host="laptop.local")
    assert ask(named, "laptop.local:8000").status_code == 200
    assert ask(named, "attacker.example:8000").status_code == 421


def test_every_interface_serves_addresses_and_the_allowed_names_only(tmp_path):
    for wildcard in ("0.0.0.0", "::"):
        client = host_client(tmp_path, host=wildcard, allow=["Laptop.Local"])
        for host in ("192.168.1.10:8000", "[fe80::1]:8000", "laptop.local:8000"):
            assert ask(client, host).status_code == 200, (wildcard, host)
        for host in ("attacker.example:8000", "laptop.local.attacker.example"):
            assert ask(client, host).status_code == 421, (wildcard, host)


def test_a_request_without_a_host_header_is_refused(tmp_path):
    client = host_client(tmp_path)
    response = client.get("/", environ_overrides={"HTTP_HOST": None}, buffered=True)
    assert response.status_code == 400


# -- the real command ------------------------------------------------------------


def minimal_site(tmp_path):
    site = tmp_path / "site"
    (site / "output").mkdir(parents=True)
    (site / "output" / "index.html").write_text("<h1>home</h1>")
    return site


def raw_request(base, host, method="GET", path="/", body=b"", headers=None):
    """One request with exactly this Host header (urllib would set its own)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_host=True)
        connection.putheader("Host", host)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_polku_serve_refuses_a_rebound_host(tmp_path):
    from .conftest import bare_environ, polku_serve

    site = minimal_site(tmp_path)
    env = bare_environ(POLKU_ADMIN_PASSWORD="a published demo password")
    with polku_serve(site, tmp_path / "serve.log", env) as base:
        port = base.rsplit(":", 1)[1]
        status, _, body = raw_request(base, f"127.0.0.1:{port}")
        assert status == 200 and body == b"<h1>home</h1>"
        for path in ("/", "/healthz", "/admin/login"):
            status, _, body = raw_request(base, f"attacker.example:{port}", path=path)
            assert status == 421, path
            assert b"home" not in body and b"polku serve" in body
        status, headers, _ = raw_request(
            base,
            f"attacker.example:{port}",
            "POST",
            "/admin/login",
            b"password=a+published+demo+password",
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert status == 421 and "Set-Cookie" not in headers


def test_polku_serve_answers_to_its_host_and_allow_host(tmp_path):
    import subprocess
    import sys

    from .conftest import bare_environ, free_port, wait_for

    site = minimal_site(tmp_path)
    port = free_port()
    base = f"http://127.0.0.2:{port}"
    command = [sys.executable, "-m", "tracker.cli", "serve", "--host", "127.0.0.2"]
    command += ["--port", str(port), "--allow-host", "laptop.example"]
    with open(tmp_path / "serve.log", "ab") as log:
        proc = subprocess.Popen(
            command, cwd=site, env=bare_environ(), stdout=log, stderr=log
        )
        try:
            wait_for(base + "/healthz")
            for host in ("127.0.0.2", "laptop.example", "localhost"):
                assert raw_request(base, f"{host}:{port}")[0] == 200, host
            assert raw_request(base, f"attacker.example:{port}")[0] == 421
        finally:
            proc.terminate()
            proc.wait(timeout=10)
