"""The `polku` command: build the site, serve it, and (later) the owner's tools."""

from __future__ import annotations

import logging
import os
import time

import click

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="polku")
def cli() -> None:
    """Polku: a static site with the customer journey built in.

    Run the commands in the site's folder (the one with pelicanconf.py).
    """


def run_build(publish: bool) -> float:
    """Build the site with Pelican and return the seconds it took."""
    from pelican import Pelican
    from pelican.log import init as init_logging
    from pelican.settings import read_settings

    settings_file = "publishconf.py" if publish else "pelicanconf.py"
    if not os.path.isfile(settings_file):
        raise click.ClickException(
            f"No {settings_file} here; run polku in the site's folder."
        )
    init_logging(level=logging.WARNING)
    logging.getLogger("journey").setLevel(logging.INFO)
    started = time.perf_counter()
    try:
        Pelican(read_settings(settings_file)).run()
    except Exception as e:  # Pelican raises plain exceptions for bad content
        raise click.ClickException(f"Build failed: {e}") from e
    return time.perf_counter() - started


@cli.command()
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
    click.echo(
        f"Built the site in {seconds:.2f} s "
        f"({'publish' if publish else 'development'} settings)."
    )


@cli.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Interface to listen on."
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
def serve(host: str, port: int, output: str) -> None:
    """Serve the built site and the tracker on one origin, for local use.

    \b
    Example:
        polku build && polku serve --port 8000
    """
    from werkzeug.serving import run_simple

    from . import create_app
    from .serve import SiteAndTracker

    if not os.path.isfile(os.path.join(output, "index.html")):
        raise click.ClickException(
            f"No built site in {output}/; run `polku build` first."
        )
    app = SiteAndTracker(create_app(), output)
    click.echo(f"Serving {output}/ and the tracker at http://{host}:{port}/", err=True)
    run_simple(host, port, app, threaded=True, use_reloader=False)


if __name__ == "__main__":
    cli()
