"""`python -m tracker.cli`: the `polku` command."""

from . import cli

cli()
