"""Development settings for the Kettu Studio demo site.

`polku build` and `pelican content -s pelicanconf.py` both build from this file.
"""

AUTHOR = "Kettu Studio"
SITENAME = "Kettu Studio"
SITESUBTITLE = "Websites that small businesses can run themselves"
# What the home page opens with (the demo theme's index.html), under the subtitle.
SITE_INTRO = (
    "Kettu Studio is a two-person web studio in Tampere. We build fast, simple "
    "websites for shops, cafés and consultancies, and teach their owners to "
    "update them without us. Here we write down what we learn: plain advice on "
    "speed, search, accessibility and getting more customers from the site you "
    "already have."
)
SITEURL = ""
TIMEZONE = "Europe/Helsinki"
DEFAULT_LANG = "en"

PATH = "content"
ARTICLE_PATHS = ["posts"]
PAGE_PATHS = ["pages"]
STATIC_PATHS = ["images"]
THEME = "theme"

ARTICLE_URL = "posts/{slug}/"
ARTICLE_SAVE_AS = "posts/{slug}/index.html"
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
CATEGORY_URL = "category/{slug}/"
CATEGORY_SAVE_AS = "category/{slug}/index.html"
TAG_URL = "tag/{slug}/"
TAG_SAVE_AS = "tag/{slug}/index.html"
ARCHIVES_SAVE_AS = "archives/index.html"
CATEGORIES_SAVE_AS = "categories/index.html"
TAGS_SAVE_AS = "tags/index.html"
AUTHOR_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
DEFAULT_PAGINATION = 5
PAGINATION_PATTERNS = (
    (1, "{url}", "{save_as}"),
    (2, "{base_name}/page/{number}/", "{base_name}/page/{number}/index.html"),
)

FEED_DOMAIN = SITEURL
FEED_ALL_ATOM = "feeds/all.atom.xml"
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None

# The Polku plugin is installed with the package (pip install polku) as the
# namespace plugin pelican.plugins.polku: "polku" finds it in an installed wheel,
# the import path also in an editable install (pip install -e .).
PLUGINS = ["pelican.plugins.polku", "pelican.plugins.sitemap"]
SITEMAP = {"format": "xml"}

MENUITEMS = ()
DISPLAY_PAGES_ON_MENU = True
DISPLAY_CATEGORIES_ON_MENU = False

# The tracker. Empty TRACKER_URL: forms and the script use same-origin paths, as
# under `polku serve`.
TRACKER_URL = ""
TRACKER_PREFIX = ""

# The newsletter's consent wording, the demo's own (the plugin's default names
# the site: "Send me the <SITENAME> newsletter").
JOURNEY_CONSENT = {
    "newsletter": "Send me the Kettu letter: new posts about twice a month. "
    "I can unsubscribe with one click in every email.",
}
