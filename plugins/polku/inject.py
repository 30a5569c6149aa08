"""Put the tracking snippet and the article's call to action into any theme's pages.

A theme that does not include the plugin's partials still gets them: every
template a generator renders is wrapped, and the HTML it returns gets

- the tracking script and the no-JS pixel (`polku/tracking.html`) before
  `</body>`, unless the page already loads `js/polku.js` or `js/polku.min.js`;
- the article's call to action (`polku/forms.html`'s `journey_cta`: the signup,
  a guide's download form, or nothing for `Cta: none`), on a guide's page
  (`Template: download`) its download form, and on a quote page (`Template:
  quote`) the quote request form, at the end of the content, unless
  the page already has a Polku form (`data-polku-form`), as the demo theme's
  pages do;
- the personalised block (`polku/next.html`: the next read and a call to
  action) on every post and landing page after that, unless the page has one
  (`data-polku-next`);
- a link to the small scoped stylesheet `css/polku-embed.css` before `</head>`
  when it added a form (or the consent notice), which `write_stylesheet`
  copies beside the theme's files.

The partials are rendered with the page's own context, in the generator's
environment, when Pelican renders the page: no output file is read twice.
`JOURNEY_INJECT = False` turns all of it off; a theme places the blocks itself
with the includes the README lists.
"""

from __future__ import annotations

import os
import re
import shutil
from urllib.parse import quote

from markupsafe import escape

from . import settings as journey_settings

STYLESHEET = os.path.join(os.path.dirname(__file__), "static", "polku-embed.css")
STYLESHEET_OUT = os.path.join("css", "polku-embed.css")

HERE = "polku-page-path-here"  # stands for the page's path in the cached snippet
HAS_TRACKING = re.compile(r"/js/polku(?:\.min)?\.js\b")
HAS_FORM = "data-polku-form"
HAS_BLOCK = "data-polku-next"
NEXT_SOURCE = (
    '{% import "polku/next.html" as next with context %}'
    "{{ next.next_block(polku_doc) }}"
)
CTA_SOURCE = (
    '{% import "polku/forms.html" as forms with context %}'
    '{% if polku_quote %}{{ forms.quote_form("quote") }}'
    '{% elif polku_guide %}{{ forms.download_form(polku_guide, "guide-download") }}'
    '{% else %}{{ forms.journey_cta(polku_doc, "article") }}{% endif %}'
)


def page_path(context) -> str:
    """The page's path below the site, as polku/journey.html's HERE reads it."""
    doc = context.get("article") or context.get("page")
    if doc is not None and getattr(doc, "url", None) is not None:
        here = str(doc.url)
    else:
        here = str(context.get("output_file") or "")
        here = here[: -len("index.html")] if here.endswith("index.html") else here
    return here[1:] if here.startswith("/") else here


def _find_tag(html: str, tag: str) -> int:
    """Return the index of the last closing tag (e.g. "</body>"), or -1."""
    at = html.rfind(tag)
    if at < 0:
        found = [m.start() for m in re.finditer(re.escape(tag), html, re.IGNORECASE)]
        at = found[-1] if found else -1
    return at


def _insert(html: str, at: int, text: str) -> str:
    return html[:at] + text + html[at:]


class Injector:
    """Render the plugin's partials with a page's context and add them to its HTML."""

    def __init__(self, env):
        self.env = env
        self._tracking = None
        self._snippets: dict[tuple, str] = {}
        self._cta = None
        self._next = None

    def tracking(self, context) -> str:
        """The snippet for this page: rendered once per site, the page's own
        path put in after (rendering it per page cost a tenth of the build)."""
        key = (
            context.get("SITEURL"),
            context.get("THEME_STATIC_DIR"),
            id(context.get("JOURNEY")),
        )
        if key not in self._snippets:
            if self._tracking is None:
                self._tracking = self.env.get_template("polku/tracking.html")
            base = {k: v for k, v in context.items() if k not in ("article", "page")}
            base["output_file"] = HERE + "/index.html"
            self._snippets[key] = self._tracking.render(base)
        return self._snippets[key].replace(HERE, quote(page_path(context), safe="/"))

    def cta(self, context, doc, guide) -> str:
        if self._cta is None:
            self._cta = self.env.from_string(CTA_SOURCE)
        quote = getattr(doc, "template", "") == "quote"  # a quote request page
        return self._cta.render(
            {**context, "polku_doc": doc, "polku_guide": guide, "polku_quote": quote}
        )

    def next_block(self, context, doc) -> str:
        if self._next is None:
            self._next = self.env.from_string(NEXT_SOURCE)
        return self._next.render({**context, "polku_doc": doc}).strip()

    @staticmethod
    def guide(context, doc) -> dict | None:
        """The guide a download page (`Template: download`) offers, if any."""
        if getattr(doc, "template", "") != "download":
            return None
        guides = (context.get("JOURNEY") or {}).get("guides") or {}
        return guides.get(str(doc.metadata.get("guide", "")).strip())

    def __call__(self, html: str, context: dict) -> str:
        body = _find_tag(html, "</body>")
        if body < 0:  # not a whole HTML page (a feed, a fragment)
            return html
        styled = False
        doc = context.get("article") or context.get("page")
        guide = self.guide(context, doc) if doc else None
        blocks = ""
        quote = getattr(doc, "template", "") == "quote"
        if (guide or quote or getattr(doc, "journey_cta", None)) and (
            HAS_FORM not in html
        ):
            blocks = self.cta(context, doc, guide).strip()
        if getattr(doc, "journey_next", None) and HAS_BLOCK not in html:
            blocks += self.next_block(context, doc)
        if blocks:
            html = _insert(html, self._content_end(html, doc, body), blocks)
            styled = True
        if not HAS_TRACKING.search(html):
            snippet = self.tracking(context).strip()
            html = _insert(html, _find_tag(html, "</body>"), snippet + "\n")
            styled = styled or 'class="polku-consent"' in snippet
        if styled and "polku-embed.css" not in html:
            head = _find_tag(html, "</head>")
            if head >= 0:
                href = f"{context.get('SITEURL', '')}/"
                href += (
                    f"{context.get('THEME_STATIC_DIR', 'theme')}/css/polku-embed.css"
                )
                link = f'<link rel="stylesheet" href="{escape(href)}">\n'
                html = _insert(html, head, link)
        return html

    @staticmethod
    def _content_end(html: str, doc, body: int) -> int:
        """Where the article's content ends in its page: after the content the
        theme printed, else before the last </article> or </main>, else </body>."""
        content = str(getattr(doc, "content", "") or "").strip()
        if content:
            at = html.find(content)
            if at >= 0:
                return at + len(content)
        for tag in ("</article>", "</main>"):
            at = _find_tag(html, tag)
            if at >= 0:
                return at
        return body


class InjectingTemplate:
    """A theme's template whose rendered page gets the plugin's blocks."""

    __slots__ = ("template", "inject")

    def __init__(self, template, inject: Injector):
        self.template = template
        self.inject = inject

    def render(self, *args, **kwargs) -> str:
        return self.inject(self.template.render(*args, **kwargs), dict(*args, **kwargs))

    def __getattr__(self, name):
        return getattr(self.template, name)


def wrap_templates(generator) -> None:
    """Make the generator's templates add the plugin's blocks (JOURNEY_INJECT)."""
    if not journey_settings.read(generator.settings).inject:
        return
    inject = Injector(generator.env)
    original = generator.get_template
    wrapped: dict[str, InjectingTemplate] = {}

    def get_template(name):
        if name not in wrapped:
            wrapped[name] = InjectingTemplate(original(name), inject)
        return wrapped[name]

    generator.get_template = get_template


def theme_has_stylesheet(settings) -> bool:
    """True when the theme's static files bring their own css/polku-embed.css."""
    return any(
        os.path.isfile(os.path.join(settings["THEME"], folder, STYLESHEET_OUT))
        for folder in settings.get("THEME_STATIC_PATHS", ["static"])
    )


def write_stylesheet(pelican) -> None:
    """Copy css/polku-embed.css beside the theme's files (unless the theme has one)."""
    settings = pelican.settings
    if not journey_settings.read(settings).inject or theme_has_stylesheet(settings):
        return
    target = os.path.join(
        settings["OUTPUT_PATH"],
        settings.get("THEME_STATIC_DIR", "theme"),
        STYLESHEET_OUT,
    )
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copyfile(STYLESHEET, target)
