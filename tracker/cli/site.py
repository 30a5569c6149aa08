"""`polku build` and `polku serve`: the site itself."""

from __future__ import annotations

import logging
import os
import threading
import time

import click

from .common import _


def run_build(publish: bool) -> float:
    """Build the site with Pelican and return the seconds it took."""
    from pelican import Pelican
    from pelican.log import init as init_logging
    from pelican.settings import read_settings

    settings_file = "publishconf.py" if publish else "pelicanconf.py"
    if not os.path.isfile(settings_file):
        raise click.ClickException(
            _("No %(name)s here; run polku in the site's folder.", name=settings_file)
        )
    init_logging(level=logging.WARNING)
    logging.getLogger("pelican.plugins.polku").setLevel(logging.INFO)
    started = time.perf_counter()
    try:
        Pelican(read_settings(settings_file)).run()
    except Exception as e:  # Pelican raises plain exceptions for bad content
        raise click.ClickException(_("Build failed: %(error)s", error=e)) from e
    return time.perf_counter() - started


@click.command()
@click.option(
    "--publish", is_flag=True, help="Build with publishconf.py (absolute URLs)."
)
def build(publish: bool) -> None:
    """Build the site into output/ with Pelican.

    \b
    Example:
        polku build --publish
    """
    seconds = run_build(publish)
    if publish:
        done = _(
            "Built the site in %(seconds).2f s (publish settings).", seconds=seconds
        )
    else:
        done = _(
            "Built the site in %(seconds).2f s (development settings).", seconds=seconds
        )
    click.echo(done)


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on; its address is also answered as a Host name.",
)
@click.option(
    "--port", default=8000, show_default=True, type=int, help="Port to listen on."
)
@click.option(
    "--output",
    default="output",
    show_default=True,
    type=click.Path(file_okay=False),
    help="The built site to serve.",
)
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    metavar="NAME",
    help="Also answer requests for this host name (repeatable).",
)
@click.option(
    "--reload",
    "reload_",
    is_flag=True,
    help="Rebuild the site when its content, theme or settings change.",
)
def serve(
    host: str, port: int, output: str, allow_hosts: tuple[str, ...], reload_: bool
) -> None:
    """Serve the built site and the tracker on one origin, for local use.

    Only requests for local names are answered (localhost, 127.0.0.0/8,
    [::1], the --host address, and every --allow-host name; with --host
    0.0.0.0 any IP address too): others get 421, so that no web page can
    reach the demo by pointing its own name at this machine (DNS rebinding).

    \b
    Example:
        polku build && polku serve --port 8000
        polku serve --reload
        polku serve --host 0.0.0.0 --allow-host laptop.local
    """
    from werkzeug.serving import run_simple

    from .. import create_app
    from ..serve import SiteAndTracker

    if not os.path.isfile(os.path.join(output, "index.html")):
        raise click.ClickException(
            _("No built site in %(output)s/; run `polku build` first.", output=output)
        )
    app = SiteAndTracker(create_app(), output, host=host, allow=allow_hosts)
    click.echo(
        _(
            "Serving %(output)s/ and the tracker at %(url)s",
            output=output,
            url=f"http://{host}:{port}/",
        ),
        err=True,
    )
    click.echo(_("Answering only for %(hosts)s.", hosts=app.hosts.describe()), err=True)
    if reload_:
        threading.Thread(
            target=rebuild_on_change, args=(output,), name="polku-reload", daemon=True
        ).start()
    run_simple(host, port, app, threaded=True, use_reloader=False)


def rebuild_on_change(output: str, stop: threading.Event | None = None) -> None:
    """Rebuild whenever a file of the site changes, as `pelican --autoreload` does.

    The whole site folder is watched but for what the build writes (the output,
    the data directory) and hidden folders; a failed rebuild is reported and
    the last good site stays served.
    """
    import watchfiles

    site = os.path.abspath(".")
    written = [
        os.path.abspath(output),
        os.path.abspath(os.environ.get("POLKU_DATA_DIR") or "var"),
    ]

    def wanted(change, path: str) -> bool:
        relative = os.path.relpath(path, site)
        return not (
            any(os.path.commonpath([path, w]) == w for w in written)
            or any(part.startswith(".") for part in relative.split(os.sep))
            or "__pycache__" in relative
        )

    click.echo(_("Watching %(folder)s for changes.", folder=site), err=True)
    for _changes in watchfiles.watch(site, watch_filter=wanted, stop_event=stop):
        try:
            seconds = run_build(False)
        except click.ClickException as e:
            click.echo(_("Rebuild failed: %(error)s", error=e.message), err=True)
            continue
        click.echo(_("Rebuilt the site in %(seconds).2f s.", seconds=seconds), err=True)


COMMANDS = [build, serve]
