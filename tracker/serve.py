"""Serve the built site and the tracker on one origin, for `polku serve`.

It answers only to local names. A web page can re-point its own name at
127.0.0.1 (DNS rebinding) and then talk to this server as its own origin: log
in to the dashboard with a demo's password and read the contacts. The browser
still sends the page's name in the Host header, so a request whose Host is not
the loopback (`localhost`, `*.localhost`, 127.0.0.0/8, `[::1]`), the address
given with `--host` or a name given with `--allow-host` is refused before it
reaches the files or the tracker. Bound to every interface (`--host 0.0.0.0`
or `::`), any IP address is answered too: a browser sends an address as Host
only when it connected to that address itself, so no page can rebind one.
"""

from __future__ import annotations

import ipaddress
import os
import re

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.middleware.shared_data import SharedDataMiddleware
from werkzeug.security import safe_join
from werkzeug.utils import redirect
from werkzeug.wrappers import Response

PORT = re.compile(r"(?::[0-9]{1,5})?")
WILDCARDS = ("", "0.0.0.0", "::")


def host_name(header: str) -> str | None:
    """The name or address a Host header names, lower case, without port or a
    final dot; None when it is not a plain `name[:port]` or `[v6][:port]`."""
    header = header.strip().lower()
    if header.startswith("["):
        name, bracket, port = header[1:].partition("]")
        if not bracket or ":" not in name:
            return None
    else:
        name, colon, port = header.partition(":")
        port = colon + port
    if not PORT.fullmatch(port) or not name:
        return None
    if not re.fullmatch(r"[a-z0-9._-]+|[0-9a-f:.]+", name):
        return None
    return name[:-1] if name.endswith(".") else name


def as_address(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


class LocalHosts:
    """Which Host headers `polku serve` answers (see the module's docstring)."""

    def __init__(self, host: str = "127.0.0.1", allow=()) -> None:
        bound = (host or "").strip("[]").lower()
        self.every_interface = bound in WILDCARDS
        self.names = {n for n in (host_name(a) for a in allow) if n}
        if not self.every_interface:
            self.names.add(host_name(bound) or bound)

    def allows(self, header: str | None) -> bool:
        name = host_name(header or "")
        if name is None:
            return False
        if name == "localhost" or name.endswith(".localhost") or name in self.names:
            return True
        address = as_address(name)
        return address is not None and (address.is_loopback or self.every_interface)

    def describe(self) -> str:
        named = sorted(self.names - {"localhost", "127.0.0.1", "::1"})
        extra = (["any IP address"] if self.every_interface else []) + named
        return ", ".join(["localhost", "127.0.0.1", "[::1]", *extra])


def refuse(environ, start_response, hosts: LocalHosts):
    header = environ.get("HTTP_HOST")
    if host_name(header or "") is None:
        status, reason = 400, "This request has no readable Host header."
    else:
        status = 421
        reason = f"This request was sent to the host {header[:100]!r}."
    text = (
        f"{reason}\n\npolku serve answers only for {hosts.describe()}: a page on "
        "another site can point its own name at this machine (DNS rebinding) and "
        "must not reach the demo or its dashboard. Open http://127.0.0.1:<port>/, "
        "or name this host when you start it: polku serve --allow-host NAME.\n"
    )
    response = Response(text, status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response(environ, start_response)


class SiteAndTracker:
    """WSGI app: files from the output folder for GET/HEAD, the tracker for the rest.

    Directories serve their index.html, as a static host does, so that Pelican's
    clean URLs (`posts/slug/`) work locally exactly as they will in production.
    Only local Host names are answered (`host` is the interface it listens on,
    `allow` more names to answer to). A page that is neither a file nor a
    tracker route answers 404 with the built site's own `404.html`, if the
    build made one; else the tracker's readable page, with the site's name.
    """

    def __init__(
        self, tracker, output_dir: str, host: str = "127.0.0.1", allow=()
    ) -> None:
        self.hosts = LocalHosts(host, allow)
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
        if not self.hosts.allows(environ.get("HTTP_HOST")):
            return refuse(environ, start_response, self.hosts)
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            path = environ.get("PATH_INFO") or "/"
            found, add_slash = self._resolve(path)
            if add_slash:
                return redirect(path + "/", 301)(environ, start_response)
            if found:
                environ = {**environ, "PATH_INFO": "/" + found.replace(os.sep, "/")}
                return self.files(environ, start_response)
            page = os.path.join(self.root, "404.html")
            if os.path.isfile(page) and self._no_route(environ):
                with open(page, "rb") as f:
                    response = Response(f.read(), 404, mimetype="text/html")
                response.headers["Cache-Control"] = "no-store"
                return response(environ, start_response)
        return self.tracker(environ, start_response)

    def _no_route(self, environ) -> bool:
        """True when the tracker has no page at this path either (its static
        folder included: a missing file there is the site's missing page)."""
        url_map = getattr(self.tracker, "url_map", None)
        if url_map is None:
            return False
        try:
            endpoint, values = url_map.bind_to_environ(environ).match()
        except NotFound:
            return True
        except HTTPException:  # a redirect, a method the route does not take
            return False
        if endpoint != "static":
            return False
        folder = self.tracker.static_folder or ""
        found = safe_join(folder, str(values.get("filename") or ""))
        return found is None or not os.path.isfile(found)
