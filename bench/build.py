"""Build benchmark: a 1,000-post Pelican site with and without the journey plugin.

    .venv/bin/python bench/build.py [--posts 1000] [--runs 3] [--keep]

Writes a site into a temp dir: 1,000 generated Markdown posts (headings,
paragraphs, lists, a link, a quote and a fenced code block that Pygments
highlights; 6 categories, 24 tags, dates over three years, some posts with a
guide CTA) beside the demo site's pages, guide and images. Then builds it with
Pelican's own "simple" theme (the demo's theme needs the plugin: it includes the
plugin's partials) and the settings of pelicanconf.py, twice per round:

- "journey": PLUGINS = ["pelican.plugins.polku"] (the installed plugin), data
  dir JOURNEY_DATA_DIR = <tmp>/var, outside the output (it gets the manifest);
- "none": PLUGINS = [], the same theme.

Each build is `pelican.Pelican(read_settings(path=None, override={...})).run()`
in a fresh subprocess, into a fresh output folder; the two variants take turns
(after one unmeasured warm-up build of each), so the noise of a shared machine
falls on both alike. Reported: the median of --runs builds each (time of
Pelican(settings) + run(), inside the child; its CPU time and the process wall
time too) and the plugin's overhead in percent of the "none" median. Goal:
<= 10 %. The CPU-time overhead is the steadier figure on a noisy machine.
"""

from __future__ import annotations

import json
import os
import random
import runpy
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import common  # noqa: E402

GOAL = 10.0

CATEGORIES = [
    "Websites",
    "Accessibility",
    "Marketing",
    "Case studies",
    "Studio notes",
    "Privacy",
]
TAGS = [
    "speed",
    "seo",
    "accessibility",
    "forms",
    "content",
    "newsletter",
    "privacy",
    "design",
    "hosting",
    "analytics",
    "local-business",
    "images",
    "fonts",
    "performance",
    "writing",
    "email",
    "booking",
    "shop",
    "photos",
    "mobile",
    "security",
    "backups",
    "domains",
    "checklists",
]
WORDS = (
    "website page visitor customer small business form label button image photo "
    "speed load phone mobile search local map review booking newsletter email "
    "reader guide checklist privacy cookie consent contrast heading link menu "
    "footer price offer service café studio fox tampere owner content writer "
    "simple clear fast friendly accessible useful practical honest plain modern "
    "check fix measure improve write design build test publish update remove add "
    "keep the a an of to in on for with without and or but because when while "
    "after before every each most many few some more less very often rarely"
).split()
CODE = [
    (
        "html",
        '<form action="/subscribe" method="post">\n'
        '  <label for="email">Email address</label>\n'
        '  <input id="email" name="email" type="email" autocomplete="email" required>\n'
        "  <button>Subscribe</button>\n</form>",
    ),
    (
        "python",
        "def total(prices, vat=0.255):\n"
        '    """Return the sum with VAT, rounded to cents."""\n'
        "    subtotal = sum(prices)\n"
        "    return round(subtotal * (1 + vat), 2)\n\n"
        "print(total([12.5, 30, 7.25]))",
    ),
    (
        "css",
        ".button {\n  padding: 0.75rem 1.25rem;\n  background: #b34700;\n"
        "  color: #fff;\n  border-radius: 0.25rem;\n}\n"
        ".button:focus-visible {\n  outline: 3px solid #1a1a1a;\n}",
    ),
    (
        "javascript",
        "document.querySelectorAll('img[loading]').forEach((img) => {\n"
        "  if (!img.alt) console.warn('missing alt text', img.src);\n});",
    ),
]


def sentence(rng: random.Random, low: int = 8, high: int = 20) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random) -> str:
    text = " ".join(sentence(rng) for _ in range(rng.randint(3, 6)))
    if rng.random() < 0.4:
        words = text.split(" ")
        i = rng.randrange(1, len(words) - 1)
        words[i] = f"**{words[i]}**"
        text = " ".join(words)
    if rng.random() < 0.3:
        text += " See [our checklist]({filename}/pages/guide-website-checklist.md)."
    return text


def post(rng: random.Random, n: int, when: datetime) -> tuple[str, str]:
    title = sentence(rng, 4, 8).rstrip(".")
    slug = f"post-{n:04d}"
    tags = ", ".join(rng.sample(TAGS, rng.randint(2, 4)))
    cta = rng.choice(["newsletter", "newsletter", "guide:website-checklist", "none"])
    head = (
        f"Title: {title}\nDate: {when:%Y-%m-%d %H:%M}\n"
        f"Category: {rng.choice(CATEGORIES)}\nTags: {tags}\nSlug: {slug}\n"
        f"Summary: {sentence(rng, 14, 26)}\nCta: {cta}\n\n"
    )
    body = [paragraph(rng), paragraph(rng)]
    for _ in range(rng.randint(2, 4)):
        body.append(f"## {sentence(rng, 3, 6).rstrip('.')}")
        body.append(paragraph(rng))
        if rng.random() < 0.5:
            body.append(f"### {sentence(rng, 2, 5).rstrip('.')}")
        if rng.random() < 0.6:
            marker = "-" if rng.random() < 0.6 else "1."
            body.append(
                "\n".join(
                    f"{marker} {sentence(rng, 4, 10)}" for _ in range(rng.randint(3, 6))
                )
            )
        body.append(paragraph(rng))
    if rng.random() < 0.3:
        body.append("> " + sentence(rng, 10, 18))
    lang, code = rng.choice(CODE)
    body.insert(rng.randint(2, len(body)), f"```{lang}\n{code}\n```")
    return slug, head + "\n\n".join(body) + "\n"


def make_site(root: Path, posts: int, seed: int = 1) -> Path:
    """Write content/ (generated posts + the demo's pages, guides and images)."""
    rng = random.Random(seed)
    content = root / "content"
    for name in ("pages", "guides", "images"):
        shutil.copytree(REPO / "content" / name, content / name)
    for page in (content / "pages").glob("*.md"):  # "simple" has no such templates
        head = page.read_text(encoding="utf-8").split("\n\n", 1)[0]
        if "Template: landing" in head or "Template: download" in head:
            page.unlink()
    folder = content / "posts"
    folder.mkdir(parents=True)
    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC) - timedelta(days=3 * 365)
    span = 3 * 365 * 86400
    for n in range(posts):
        when = start + timedelta(seconds=rng.randrange(span))
        slug, text = post(rng, n, when)
        (folder / f"{slug}.md").write_text(text, encoding="utf-8")
    return content


def site_settings(root: Path, content: Path, output: Path, plugins: bool) -> dict:
    """pelicanconf.py's settings, pointed at the generated site."""
    base = {
        k: v
        for k, v in runpy.run_path(str(REPO / "pelicanconf.py")).items()
        if k.isupper()
    }
    base.update(
        PATH=str(content),
        OUTPUT_PATH=str(output),
        THEME="simple",
        PLUGINS=["pelican.plugins.polku"] if plugins else [],
        JOURNEY_DATA_DIR=str(root / "var"),
        JOURNEY_GUIDES_DIR=str(content / "guides"),
        DELETE_OUTPUT_DIRECTORY=False,
        CACHE_CONTENT=False,
        LOAD_CONTENT_CACHE=False,
    )
    return json.loads(json.dumps(base, default=list))  # tuples -> lists for JSON


CHILD = """
import json, resource, sys, time
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
started = time.perf_counter()
import pelican
from pelican.settings import read_settings
imported, cpu0 = time.perf_counter(), cpu()
settings = read_settings(path=None, override=json.loads(sys.argv[1]))
p = pelican.Pelican(settings)
p.run()
done = time.perf_counter()
print(json.dumps({"import_s": imported - started, "build_s": done - imported,
                  "cpu_s": cpu() - cpu0}))
"""


def build(settings: dict, cwd: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLKU_")}
    env["PYTHONPATH"] = str(REPO)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(settings)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=1800,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(
            f"build failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    data = json.loads(result.stdout.strip().splitlines()[-1])
    data["wall_s"] = wall
    data["log"] = result.stderr + result.stdout
    return data


def main() -> int:
    parser = common.argument_parser(__doc__)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-warmup", action="store_true")
    parser.add_argument("--tmp", default=None, help="where the site goes")
    parser.add_argument("--keep", action="store_true", help="keep the site")
    args = parser.parse_args()

    common.print_header("build")
    with common.work_dir("polku-build-", args.tmp, args.keep) as work:
        root = Path(work)
        started = time.perf_counter()
        content = make_site(root, args.posts)
        print(
            f"site: {args.posts} posts written to {content} in "
            f"{time.perf_counter() - started:.1f} s"
        )
        variants = {"journey": True, "none": False}
        times: dict[str, list[dict]] = {name: [] for name in variants}
        rounds = ([("warm-up", 0)] if not args.no_warmup else []) + [
            ("run", i + 1) for i in range(args.runs)
        ]
        count = 0
        for label, number in rounds:
            order = list(variants) if number % 2 else list(reversed(variants))
            for name in order:
                count += 1
                output = root / f"output-{count}"
                result = build(
                    site_settings(root, content, output, variants[name]), root
                )
                pages = sum(1 for _ in output.rglob("*.html"))
                noted = [
                    line.strip()
                    for line in result["log"].splitlines()
                    if "WARNING" in line or "ERROR" in line
                ]
                for line in noted[:3]:
                    print(f"    {name}: {line[:160]}")
                shutil.rmtree(output)
                print(
                    f"  {label} {number or ''} {name:<8} "
                    f"build {result['build_s']:6.2f} s "
                    f"(CPU {result['cpu_s']:6.2f} s; "
                    f"process {result['wall_s']:6.2f} s, "
                    f"import {result['import_s']:.2f} s), "
                    f"{pages} HTML files",
                    flush=True,
                )
                if label == "run":
                    times[name].append(result)
        manifest = root / "var" / "manifest.json"
        if manifest.exists():
            entries = len(json.loads(manifest.read_text())["posts"])
            print(f"journey manifest: {entries} posts and landing pages in {manifest}")
        med = {
            name: statistics.median(r["build_s"] for r in runs)
            for name, runs in times.items()
        }
        wall = {
            name: statistics.median(r["wall_s"] for r in runs)
            for name, runs in times.items()
        }
        cpu = {
            name: statistics.median(r["cpu_s"] for r in runs)
            for name, runs in times.items()
        }
        cpu_overhead = (cpu["journey"] - cpu["none"]) / cpu["none"] * 100
        overhead = (med["journey"] - med["none"]) / med["none"] * 100
        wall_overhead = (wall["journey"] - wall["none"]) / wall["none"] * 100
        verdict = "ok" if overhead <= GOAL else "OVER"
        print(
            f"median of {args.runs}: journey {med['journey']:.2f} s, none "
            f"{med['none']:.2f} s: overhead {overhead:+.1f} % ({verdict}, goal <= "
            f"{GOAL:.0f} %); process wall {wall['journey']:.2f} s vs "
            f"{wall['none']:.2f} s ({wall_overhead:+.1f} %); CPU time "
            f"{cpu['journey']:.2f} s vs {cpu['none']:.2f} s ({cpu_overhead:+.1f} %)"
        )
        return 0


if __name__ == "__main__":
    sys.exit(main())
