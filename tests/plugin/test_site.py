"""The demo site, built for real with Pelican and the journey plugin."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bs4 import BeautifulSoup
from pelican.plugins.polku.script import minify

from ..conftest import ROOT, without_developer_settings


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def manifest(site: Path) -> dict:
    return json.loads((site / "var" / "manifest.json").read_text())


def article_files(site: Path) -> list[Path]:
    return sorted((site / "output" / "posts").glob("*/index.html"))


def test_demo_has_enough_content(demo):
    posts = [p for p in manifest(demo)["posts"] if p["kind"] == "article"]
    assert len(posts) >= 8
    assert len({p["category"] for p in posts}) >= 3
    assert len({t for p in posts for t in p["tags"]}) >= 4
    assert len({p["date"][:7] for p in posts}) >= 3, "posts should span several months"


def test_every_article_carries_its_call_to_action(demo):
    by_url = {p["url"]: p for p in manifest(demo)["posts"]}
    files = article_files(demo)
    assert files
    for path in files:
        url = path.parent.relative_to(demo / "output").as_posix() + "/"
        cta = by_url[url]["cta"]
        forms = soup(path).select("main form")
        actions = {f["action"] for f in forms}
        if cta is None:
            assert not forms
        elif cta["kind"] == "newsletter":
            assert "/subscribe" in actions, path
        else:
            assert "/download" in actions, path
            form = next(f for f in forms if f["action"] == "/download")
            assert form.find("input", attrs={"name": "guide"})["value"] == cta["slug"]


def test_articles_choose_their_cta_with_metadata(demo):
    kinds = {
        p["cta"]["kind"] for p in manifest(demo)["posts"] if p["kind"] == "article"
    }
    assert kinds == {"newsletter", "guide"}


def test_guide_page_posts_to_download(demo):
    page = soup(demo / "output" / "guide-website-checklist" / "index.html")
    form = page.select_one("main form[action='/download']")
    assert form is not None and form["method"].lower() == "post"
    assert form.find("input", attrs={"name": "guide"})["value"] == "website-checklist"
    assert form.find("input", attrs={"name": "email"}).has_attr("required")


def test_signup_form_fields(demo):
    form = soup(demo / "output" / "newsletter" / "index.html").select_one(
        "form[action='/subscribe']"
    )
    email = form.find("input", attrs={"name": "email"})
    assert email["type"] == "email" and email.has_attr("required")
    labelled = {lab.get("for") for lab in form.find_all("label")}
    for name in ("email", "first_name", "consent_newsletter", "consent_ads"):
        field = form.find("input", attrs={"name": name})
        assert field["id"] in labelled, f"{name} has no label"
    assert not form.find("input", attrs={"name": "consent_ads"}).has_attr("checked")
    assert form.find("input", attrs={"name": "source"})["value"] == "/newsletter/"
    assert form.find("input", attrs={"name": "consent_version"})["value"]


def test_honeypot_is_out_of_reach(demo):
    for path in [demo / "output" / "newsletter" / "index.html", *article_files(demo)]:
        for form in soup(path).select("form"):
            trap = form.find("input", attrs={"name": "website"})
            assert trap is not None, path
            assert trap["tabindex"] == "-1"
            assert trap["autocomplete"] == "off"
            assert trap["aria-hidden"] == "true"


def test_output_holds_no_private_data(demo):
    output = demo / "output"
    names = {p.name for p in output.rglob("*")}
    assert "manifest.json" not in names
    assert not list(output.rglob("*.pdf")), "guides must stay private"
    assert (demo / "var" / "manifest.json").is_file()
    assert (demo / "var" / "guides" / "website-checklist.pdf").is_file()


def test_manifest_describes_each_post(demo):
    data = manifest(demo)
    for post in data["posts"]:
        assert set(post) >= {
            "url",
            "title",
            "date",
            "category",
            "tags",
            "summary",
            "cta",
        }
        assert "<" not in post["summary"], "summaries are plain text"
    assert data["guides"]["website-checklist"]["file"] == "website-checklist.pdf"
    assert {"signup", "confirmed", "download", "unsubscribed", "error"} <= set(
        data["status_pages"]
    )
    landing = {p["url"] for p in data["posts"] if p["kind"] == "landing"}
    assert {"newsletter/", "guide-website-checklist/"} <= landing


def test_pages_are_search_friendly(demo):
    output = demo / "output"
    assert (output / "sitemap.xml").is_file()
    assert (output / "feeds" / "all.atom.xml").is_file()
    for path in article_files(demo):
        page = soup(path)
        assert page.find("meta", attrs={"name": "description"})["content"].strip()
        assert page.find("link", rel="canonical")
        assert page.find("main") and page.find("nav") and page.find("article")
        assert page.html["lang"] == "en"


def test_no_third_party_requests(demo):
    pattern = re.compile(r'(?:src|href)="(https?:)?//', re.I)
    for path in (demo / "output").rglob("*.html"):
        page = soup(path)
        for tag in page.find_all(["script", "link", "img", "iframe", "source"]):
            url = tag.get("src") or tag.get("href") or ""
            if tag.name == "link" and tag.get("rel") in (["canonical"], ["alternate"]):
                continue
            assert not re.match(r"(https?:)?//", url), f"{path}: {tag}"
    css = (demo / "output" / "theme" / "css" / "polku.css").read_text()
    assert not re.search(r"url\((['\"]?)(https?:)?//", css)
    assert pattern  # documented: links in the writers' text may point anywhere


def test_tracking_snippet_and_pixel(demo):
    page = soup(demo / "output" / "index.html")
    script = page.find("script", src=re.compile(r"polku\.min\.js$"))
    assert script["data-api"] == "/api/event"
    assert script["data-consent"] == "cookieless"
    pixel = BeautifulSoup(page.find("noscript").decode_contents(), "html.parser").find(
        "img"
    )
    assert pixel["src"].startswith("/api/pixel.gif?u=")


def test_tracking_script_is_small(demo, capsys):
    shipped = (demo / "output" / "theme" / "js" / "polku.min.js").read_text()
    source = (ROOT / "plugins" / "polku" / "static" / "polku.js").read_text()
    small, gzipped = minify(source)
    assert shipped == small
    with capsys.disabled():
        print(
            f"\ntracking script: {len(source)} bytes source, {len(small)} minified, "
            f"{gzipped} gzipped (goal <= 2048)"
        )
    assert gzipped <= 2048
    assert "tracking script" in (demo / "build.log").read_text()


def test_publish_build_uses_absolute_urls(published):
    page = soup(published / "output" / "index.html")
    assert page.find("link", rel="canonical")["href"].startswith(
        "https://kettu.example/"
    )
    script = page.find("script", src=re.compile(r"polku\.min\.js$"))
    assert script["src"].startswith("https://kettu.example/")
    assert script["data-api"] == "https://track.kettu.example/api/event"
    article = soup(article_files(published)[0])
    assert article.select_one("main form")["action"].startswith(
        "https://track.kettu.example/"
    )
    assert manifest(published)["site"]["url"] == "https://kettu.example"


def test_pelican_command_builds_the_same_site(demo, tmp_path):
    import os
    import subprocess
    import sys

    env = without_developer_settings(os.environ)
    env["POLKU_DATA_DIR"] = str(tmp_path / "var")
    subprocess.run(
        [
            str(Path(sys.executable).parent / "pelican"),
            "content",
            "-s",
            "pelicanconf.py",
            "-o",
            str(tmp_path / "out"),
        ],
        cwd=demo,
        env=env,
        check=True,
        capture_output=True,
    )
    ours = {p.relative_to(demo / "output") for p in (demo / "output").rglob("*")}
    theirs = {p.relative_to(tmp_path / "out") for p in (tmp_path / "out").rglob("*")}
    assert ours == theirs
    article = Path("posts") / article_files(demo)[0].parent.name / "index.html"
    assert (demo / "output" / article).read_text() == (
        tmp_path / "out" / article
    ).read_text()
    assert (tmp_path / "var" / "manifest.json").is_file()


def test_the_demo_has_its_own_404_page(demo):
    """`polku serve` (and most static hosts) answer a missing page with it."""
    page = soup(demo / "output" / "404.html")
    assert page.html["lang"] == "en"
    assert "not found" in page.find("h1").get_text().lower()
    assert page.find("nav") and page.find("a", href="/")  # the site's way back
    assert not (demo / "output" / "404" / "index.html").exists()
    assert "404" not in {p["url"].strip("/") for p in manifest(demo)["posts"]}


def test_the_home_page_says_what_the_business_does_and_offers_the_signup(demo):
    main = soup(demo / "output" / "index.html").find("main")
    opening = main.find("header", class_="home-intro")
    assert "small businesses" in opening.find("h1").get_text()  # SITESUBTITLE
    assert "Kettu Studio" in opening.get_text() and len(opening.get_text()) > 150
    form = main.select_one("form[action='/subscribe']")
    assert form.find("input", attrs={"name": "form"})["value"] == "home-signup"
    assert form.find("input", attrs={"name": "source"})["value"] == "/"
    headings = [h.get_text(strip=True) for h in main.find_all(["h1", "h2"])]
    assert headings.index("Latest posts") > 0  # the posts come after the offer
    page_two = soup(demo / "output" / "page" / "2" / "index.html").find("main")
    assert page_two.find("h1").get_text(strip=True) == "Latest posts"
    assert not page_two.select("form[action='/subscribe']")
