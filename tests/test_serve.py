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
