"""Serve the built site and the tracker on one origin, for `polku serve`."""

from __future__ import annotations

import os

from werkzeug.exceptions import NotFound
from werkzeug.middleware.shared_data import SharedDataMiddleware
from werkzeug.security import safe_join
from werkzeug.utils import redirect


class SiteAndTracker:
    """WSGI app: files from the output folder for GET/HEAD, the tracker for the rest.

    Directories serve their index.html, as a static host does, so that Pelican's
    clean URLs (`posts/slug/`) work locally exactly as they will in production.
    """

    def __init__(self, tracker, output_dir: str) -> None:
        self.tracker = tracker
        self.root = os.path.abspath(output_dir)
        self.files = SharedDataMiddleware(NotFound(), {"/": self.root}, cache=False)

    def _resolve(self, path: str) -> tuple[str | None, bool]:
        """Return (file path relative to root, needs trailing-slash redirect)."""
        target = safe_join(self.root, path.lstrip("/"))
        if target is None:
            return None, False
        if os.path.isdir(target):
            if not path.endswith("/"):
                return None, os.path.isfile(os.path.join(target, "index.html"))
            target = os.path.join(target, "index.html")
        if os.path.isfile(target):
            return os.path.relpath(target, self.root), False
        return None, False

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            path = environ.get("PATH_INFO") or "/"
            found, add_slash = self._resolve(path)
            if add_slash:
                return redirect(path + "/", 301)(environ, start_response)
            if found:
                environ = {**environ, "PATH_INFO": "/" + found.replace(os.sep, "/")}
                return self.files(environ, start_response)
        return self.tracker(environ, start_response)
