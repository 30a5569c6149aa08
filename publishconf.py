"""Production settings: `polku build --publish` builds from this file."""

import os
import sys

sys.path.append(os.path.dirname(os.path.abspath(__file__)))
from pelicanconf import *  # noqa: E402,F403

SITEURL = os.environ.get("POLKU_PUBLISH_SITEURL", "https://kettu.example")
RELATIVE_URLS = False
FEED_DOMAIN = SITEURL
FEED_ALL_ATOM = "feeds/all.atom.xml"
CATEGORY_FEED_ATOM = "feeds/{slug}.atom.xml"
DELETE_OUTPUT_DIRECTORY = True

# The tracker runs on its own origin in production.
TRACKER_URL = os.environ.get("POLKU_PUBLISH_TRACKER_URL", "https://track.kettu.example")
