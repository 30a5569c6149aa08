"""Hostile requests for every tracker route, as Hypothesis strategies.

Random bytes alone stop at the first check, so most requests start from
something valid and break one part of it: a correct beacon with one field of
the wrong type, a real token one character off, a logged-in dashboard
session with a forged CSRF token, a form with a header from another site.
Each route's shape (its query keys, body and route arguments) is declared in
SHAPES; a route without a shape fails the suite, so new routes get fuzzed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from ..conftest import BROWSER_UA
from .conftest import API_KEY, PASSWORD, World

EVIL = "https://evil.example"
XSS = '"><img src=x onerror=alert(1)><script>alert(2)</script>'
PAYLOADS = (
    XSS,
    "javascript:alert(1)",
    " JaVaScRiPt:alert(1)",
    "//evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "https:evil.example",
    "%2F%2Fevil.example",
    EVIL,
    EVIL + "/@kettu.example",
    "https://kettu.example.evil.example/",
    "https://kettu.example@evil.example/",
    "http://[::1",
    "http://[",
    "http://127.0.0.1:99999/",
    "../../manifest.json",
    "..%2F..%2Fmanifest.json",
    "website-checklist/../../keys.json",
    "\r\nSet-Cookie: session=x",
    "/admin/\r\nLocation: https://evil.example",
    "\x00",
    "\ud800",
    "a\udfffb",
    "\udc80",
    "x\ud83d",
    "\u202etxt.exe",
    "😀" * 50,
    "=HYPERLINK(1)",
    "{{7*7}}",
    "' OR 1=1 --",
    "NaN",
    "1e999",
    "-1",
    "",
    " ",
)
# Bodies that break a parser rather than a field.
MALFORMED = (
    b"",
    b"{",
    b"[]",
    b"null",
    b'"text"',
    b'{"url": ',
    b"\xff\xfe\x00{",
    b'{"url": NaN}',
    b'{"width": 1' + b"0" * 5000 + b"}",
    b"[" * 5000,
    b'{"a":' * 3000,
    b"--xyz\r\nContent-Disposition: form-data; name=email\r\n\r\na@example.com\r\n",
    b"email=%ff%fe&consent_newsletter=yes",
    b"email=a%40example.com&&&=&%zz",
)
CONTENT_TYPES = (
    "application/json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "application/json; charset=utf-16",
    "text/plain; charset=latin-1",
    "image/gif",
)
RAW_QUERIES = ("%", "%zz", "a=%ff%fe", "&&&", "=x", "next=%0d%0aX:1", "u=%00")
EXTRA_METHODS = ("PUT", "DELETE", "PATCH", "TRACE")
# Integers past what orjson (the journal, PostgreSQL's events) writes: 64 bits.
HUGE_INTS = (2**64, 2**64 + 1, -(2**63) - 1, 10**30, 10**400)
# JSON number texts json.dumps cannot write: 1e400 reads as infinity.
RAW_NUMBERS = ("1e400", "-1e400", "1E+999", "NaN", "Infinity", "-Infinity")
# Addresses in Unicode (domain, local part or both), as the forms accept them,
# and ones no mail server may be given.
ADDRESSES = (
    "jörg@exämple.fi",
    "anna@exämple.fi",
    "ÄNNÄ@EXÄMPLE.FI",
    "a@xn--exmple-cua.fi",
    "ß@straße.de",
    "用户@例子.广告",
    "θσερ@παράδειγμα.δοκιμή",
    "=?utf-8?q?j=C3=B6rg?=@example.com",
    "a@example.com\r\nBcc: evil@example.com",
)


def encode(text: str) -> str:
    """Percent-encode any string, lone surrogates included (as a broken client
    would send them: bytes that are not UTF-8)."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def hostile_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(PAYLOADS),
        st.sampled_from(PAYLOADS),
        st.text(max_size=40),
        st.text(st.characters(min_codepoint=0xD000, max_codepoint=0xE0FF), max_size=4),
        st.integers(2049, 70_000).map(lambda n: "x" * n),
    )


def raw(token: str) -> str:
    """A placeholder that dumps() writes as the bare JSON number text token."""
    return f"\x00raw:{token}\x00"


def dumps(value: Any) -> bytes:
    """json.dumps, with raw() placeholders turned into bare number texts."""
    text = json.dumps(value)
    if "\\u0000raw:" in text:
        for token in RAW_NUMBERS:
            text = text.replace(json.dumps(raw(token)), token)
    return text.encode()


def numbers() -> st.SearchStrategy[Any]:
    """Numbers no store holds as given: past 64 bits, infinite, not a number."""
    huge = st.sampled_from(HUGE_INTS) | st.integers(2**64, 2**80)
    return st.one_of(
        huge,
        huge,  # the 500 a store raises; the others were refused or stored as null
        st.integers(-(2**80), -(2**63) - 1),
        st.sampled_from(RAW_NUMBERS).map(raw),
        st.sampled_from([float("inf"), float("-inf"), float("nan")]),
    )


def visitor_claims() -> st.SearchStrategy[Any]:
    """What a script could send as `visitor`: anything but the id string."""
    ids = st.sampled_from(["browser-id-1234", "", "x" * 65, "../../etc"])
    return st.one_of(numbers(), st.booleans(), json_values(), ids.map(lambda i: [i]))


def props() -> st.SearchStrategy[dict]:
    """A named event's properties, with numbers no store can hold among them."""
    keys = st.text(max_size=8)
    return st.dictionaries(keys, numbers(), min_size=1, max_size=3) | st.dictionaries(
        keys, json_values(), max_size=3
    )


def header_text() -> st.SearchStrategy[str]:
    """What can arrive in a header: Latin-1, no line breaks."""
    latin1 = st.characters(min_codepoint=0x20, max_codepoint=0xFF)
    return st.text(latin1, max_size=80).map(str.strip)


def json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=10**30, max_value=10**400),
        st.sampled_from(HUGE_INTS),
        st.sampled_from(RAW_NUMBERS).map(raw),
        st.floats(),
        hostile_text(),
        hostile_text(),
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=6,
    )


def usually(good: Any, bad: st.SearchStrategy) -> st.SearchStrategy:
    """good four times in five, else bad: deep enough to pass the first checks.
    (Shrinks towards good, so a failure shows the one part that was wrong.)"""
    return st.integers(0, 4).flatmap(lambda n: bad if n == 4 else st.just(good))


def often(good: Any, bad: st.SearchStrategy) -> st.SearchStrategy:
    """good or bad, half and half: for a field deep inside a valid request."""
    return st.booleans().flatmap(lambda b: bad if b else st.just(good))


ANY_KEY = st.text(max_size=12)


def mutated(
    base: dict, values: st.SearchStrategy, extra_keys: st.SearchStrategy = ANY_KEY
) -> st.SearchStrategy[dict]:
    """base with a field or two replaced, one perhaps dropped, one perhaps added."""

    @st.composite
    def build(draw) -> dict:
        body = dict(base)
        keys = sorted(base) or ["x"]
        for key in draw(st.lists(st.sampled_from(keys), max_size=2, unique=True)):
            body[key] = draw(values)
        for key in draw(st.lists(st.sampled_from(keys), max_size=1)):
            body.pop(key, None)
        if draw(st.integers(0, 3)) == 3:
            body[draw(extra_keys)] = draw(values)
        return body

    return build()


def form_encoded(fields: dict) -> bytes:
    return "&".join(f"{encode(str(k))}={encode(str(v))}" for k, v in fields.items())


Body = tuple[bytes, str | None]


def form_bodies(base: dict) -> st.SearchStrategy[Body]:
    """A plain HTML form's fields, or the same as JSON, or a broken body."""
    form = mutated(base, hostile_text()).map(
        lambda f: (form_encoded(f).encode(), "application/x-www-form-urlencoded")
    )
    as_json = mutated(base, hostile_text() | json_values()).map(
        lambda f: (dumps(f), "application/json")
    )
    return st.one_of(form, form, as_json, raw_bodies())


def json_bodies(base: dict, types=("application/json",)) -> st.SearchStrategy[Body]:
    values = hostile_text() | json_values()
    good = st.tuples(
        mutated(base, values).map(dumps),
        st.sampled_from(types),
    )
    return st.one_of(good, good, raw_bodies())


def raw_bodies() -> st.SearchStrategy[Body]:
    data = st.one_of(
        st.sampled_from(MALFORMED),
        st.binary(max_size=200),
        st.integers(8000, 70_000).map(lambda n: b"a" * n),
    )
    return st.tuples(data, st.sampled_from(CONTENT_TYPES) | st.none())


def queries(base: dict[str, str], known: dict[str, list[str]]) -> st.SearchStrategy:
    """A valid query with a value or two gone wrong, or a broken query string."""
    good = [v for vs in known.values() for v in vs]
    values = hostile_text() | (st.sampled_from(good) if good else st.nothing())
    keys = st.sampled_from(sorted(known)) if known else st.text(max_size=8)
    pairs = mutated(base, values, keys | st.text(max_size=8))
    encoded = pairs.map(
        lambda q: "&".join(f"{encode(k)}={encode(v)}" for k, v in q.items())
    )
    return st.one_of(encoded, encoded, encoded, st.sampled_from(RAW_QUERIES))


def tokens(world: World, purpose: str) -> st.SearchStrategy[str]:
    """Usually a real token of this purpose; else another's, one a character or
    half off, or junk."""
    own = world.tokens[purpose]
    others = [t for p, ts in world.tokens.items() if p != purpose for t in ts]

    def broken(token: str, at: int, char: str) -> str:
        at %= len(token)
        return token[:at] + char + token[at + 1 :]

    flipped = st.builds(
        broken, st.sampled_from(own), st.integers(0, 200), st.sampled_from("aZ0-_.")
    )
    bad = st.one_of(
        st.sampled_from(others),
        flipped,
        st.sampled_from(own).map(lambda t: t[: len(t) // 2]),
        hostile_text(),
    )
    return st.sampled_from(own).flatmap(lambda token: usually(token, bad))


DASHBOARD_ORIGIN = "http://localhost"  # where the test client serves the dashboard


def headers(world: World, endpoint: str = "") -> st.SearchStrategy[dict[str, str]]:
    """Usually the right origin (the site's; the dashboard's own for its routes),
    the dashboard's session and the API key (so requests get in); now and then
    wrong, missing or junk; other headers hostile."""
    name = world.session_name
    session = f"{name}={world.session}"
    origins = [EVIL, "null", "http://localhost:5000", "http://[::1"]
    cookies = [session[:-3] + "abc", f"{name}=forged.value.here"]
    keys = ["Bearer wrong", f"bearer {API_KEY}", "Basic eA=="]
    missing = st.none()
    credentials = st.fixed_dictionaries(
        {
            "Origin": usually(
                DASHBOARD_ORIGIN if endpoint.startswith("admin.") else world.origin,
                missing | st.sampled_from(origins) | header_text(),
            ),
            "Cookie": usually(session, missing | st.sampled_from(cookies)),
            "Authorization": usually(
                f"Bearer {API_KEY}", missing | st.sampled_from(keys) | header_text()
            ),
            "User-Agent": usually(
                BROWSER_UA, missing | st.sampled_from(["Googlebot/2.1", ""])
            ),
        },
        optional={
            "Accept": st.sampled_from(["application/json", "text/html", "*/*"])
            | header_text(),
            "X-Forwarded-For": st.ip_addresses().map(str) | header_text(),
            "X-Forwarded-Host": hosts(),
            "Host": hosts(),
            "Referer": st.sampled_from([EVIL + "/" + XSS]) | header_text(),
            "Cookie2": header_text(),
            "DNT": st.just("1"),
            "Sec-GPC": st.just("1"),
        },
    )
    return credentials.map(lambda h: {k: v for k, v in h.items() if v is not None})


def hosts() -> st.SearchStrategy[str]:
    """Host names as a browser or a proxy sends them (the client's own choice,
    so not an open-redirect lever; but links must not be built on them)."""
    known = ["evil.example", "kettu.example", "127.0.0.1:8000", "[::1]:8000"]
    names = st.from_regex(r"\A[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,9}){0,2}\Z")
    ports = st.sampled_from(["", ":80", ":8000", ":5000"])
    return st.sampled_from(known) | st.builds(str.__add__, names, ports)


@dataclass(frozen=True)
class Shape:
    """What a route takes: a valid query and good values per key, a body, and
    its route arguments."""

    query_base: dict[str, str] = field(default_factory=dict)
    query: dict[str, list[str]] = field(default_factory=dict)
    body: Callable[[World], st.SearchStrategy[Body]] | None = None
    args: dict[str, Callable[[World], st.SearchStrategy[str]]] = field(
        default_factory=dict
    )
    # A valid body with one field deep inside it hostile, every time (a
    # number past 64 bits, a visitor id that is no string, an address in
    # Unicode): what calls_to(deep=True) sends, with valid credentials.
    deep: Callable[[World], st.SearchStrategy[Body]] | None = None


def beacon(world: World) -> dict:
    return {
        "name": "pageview",
        "url": world.origin + "/posts/one/?utm_source=news&utm_campaign=spring",
        "referrer": "https://news.example/",
        "title": "One",
        "width": 1280,
        "props": {"plan": "pro"},
    }


def signup(world: World) -> dict:
    return {
        "email": "fuzz@example.com",
        "first_name": "Aino",
        "consent_newsletter": "yes",
        "consent_ads": "yes",
        "consent_version": "v1",
        "form": "article-signup",
        "source": "/posts/one/",
        "utm_source": "news",
        "ref": "",
        "guide": "website-checklist",
    }


def quote_request(world: World) -> dict:
    return {
        "name": "Aino Virtanen",
        "email": "quote@example.com",
        "phone": "+358 40 123 4567",
        "message": "A new website, please.",
        "consent_quote": "yes",
        "consent_version": "v1",
        "form": "quote",
        "source": "/quote/",
    }


def order(world: World) -> dict:
    return {
        "email": "customer@example.com",
        "kind": "purchase",
        "value": 10,
        "currency": "EUR",
        "order_id": "o-2",
    }


def twisted(
    base: dict, twists: dict[str, st.SearchStrategy]
) -> st.SearchStrategy[dict]:
    """base, each field in twists drawn from its strategy half the time (a
    field deep in a valid request: mutated() alone rarely reaches it)."""
    return st.fixed_dictionaries(
        {key: often(base.get(key), bad) for key, bad in twists.items()}
    ).map(lambda drawn: {**base, **{k: v for k, v in drawn.items() if v is not None}})


def one_twisted(
    base: dict, twists: dict[str, st.SearchStrategy]
) -> st.SearchStrategy[dict]:
    """base with exactly one field in twists drawn from its strategy."""
    return st.sampled_from(sorted(twists)).flatmap(
        lambda key: twists[key].map(lambda value: {**base, key: value})
    )


BEACON_TWISTS = {"visitor": visitor_claims(), "props": props()}
SIGNUP_TWISTS = {"email": st.sampled_from(ADDRESSES), "visitor": visitor_claims()}
ORDER_TWISTS = {"value": numbers(), "email": st.sampled_from(ADDRESSES)}
QUOTE_TWISTS = {
    "email": st.sampled_from(ADDRESSES),
    "visitor": visitor_claims(),
    "name": st.sampled_from(["", XSS, "A" * 300, "Aino\r\nBcc: x@evil.example"]),
    "phone": st.sampled_from(["", "12", "+999 1", "0" * 41, XSS, "040\x00123"]),
    "message": st.sampled_from(["", " \n ", XSS, "x" * 2001, "\x00\x07"]),
}
TEXT_OR_JSON = ("text/plain", "application/json")


def bounce_report(world: World) -> dict:
    return {"RecordType": "Bounce", "Type": "HardBounce", "ID": 1, "Email": "b@x.fi"}


def bounce_bodies(world: World) -> st.SearchStrategy[Body]:
    """A provider's webhook (Postmark's shape; SNS posts it as text/plain)."""
    return json_bodies(bounce_report(world), TEXT_OR_JSON)


def beacon_bodies(world: World) -> st.SearchStrategy[Body]:
    bases = twisted(beacon(world), BEACON_TWISTS)
    return bases.flatmap(lambda b: json_bodies(b, TEXT_OR_JSON))


def signup_bodies(world: World) -> st.SearchStrategy[Body]:
    return twisted(signup(world), SIGNUP_TWISTS).flatmap(form_bodies)


def quote_bodies(world: World) -> st.SearchStrategy[Body]:
    return twisted(quote_request(world), QUOTE_TWISTS).flatmap(form_bodies)


def deep_quote(world: World) -> st.SearchStrategy[Body]:
    return one_twisted(quote_request(world), QUOTE_TWISTS).flatmap(as_form_or_json)


def order_bodies(world: World) -> st.SearchStrategy[Body]:
    return twisted(order(world), ORDER_TWISTS).flatmap(json_bodies)


def as_json(types: tuple[str, ...] = ("application/json",)):
    return lambda body: st.tuples(st.just(dumps(body)), st.sampled_from(types))


def as_form_or_json(body: dict) -> st.SearchStrategy[Body]:
    form = (form_encoded(body).encode(), "application/x-www-form-urlencoded")
    return st.sampled_from([form, (dumps(body), "application/json")])


def deep_beacon(world: World) -> st.SearchStrategy[Body]:
    named = {**beacon(world), "name": "cta-click"}
    return one_twisted(named, BEACON_TWISTS).flatmap(as_json(TEXT_OR_JSON))


def deep_signup(world: World) -> st.SearchStrategy[Body]:
    return one_twisted(signup(world), SIGNUP_TWISTS).flatmap(as_form_or_json)


def deep_order(world: World) -> st.SearchStrategy[Body]:
    return one_twisted(order(world), ORDER_TWISTS).flatmap(as_json())


def token_arg(purpose: str) -> dict[str, Callable[[World], st.SearchStrategy[str]]]:
    return {"token": lambda w: tokens(w, purpose)}


def form_tokens(world: World) -> st.SearchStrategy[str]:
    """A refused form's link (GET /form/<token>): usually a real one carrying
    hostile typed values, else another link's token, a broken one or junk."""
    from itsdangerous import URLSafeTimedSerializer

    signer = URLSafeTimedSerializer(world.app.config["SECRET_KEY"], salt="polku-form")
    typed = {"email": XSS, "first_name": XSS, "source": EVIL, "guide": "../x"}
    own = [
        signer.dumps({"k": "signup", "m": XSS, "f": "email", "d": typed}),
        signer.dumps({"k": "download", "m": "", "f": XSS, "d": {"guide": XSS}}),
        signer.dumps({"k": XSS, "d": []}),
    ]
    others = [t for ts in world.tokens.values() for t in ts]
    bad = st.sampled_from(others) | st.sampled_from(own).map(lambda t: t[:-3])
    return st.sampled_from(own).flatmap(lambda t: usually(t, bad | hostile_text()))


def files(world: World) -> st.SearchStrategy[str]:
    names = ["admin.css", "../__init__.py", "..%2f__init__.py", "%2e%2e/config.py"]
    return st.sampled_from(names) | hostile_text()


def contact_ids(world: World) -> st.SearchStrategy[str]:
    return st.sampled_from(world.contact_ids).flatmap(
        lambda known: usually(known, hostile_text())
    )


DASHBOARD_QUERY = {
    "period": ["today", "7d", "30d", "month", "custom", "all"],
    "from": ["2026-01-01", "2026-13-45", "0001-01-01", "9999-12-31"],
    "to": ["2026-12-31", "1900-01-01"],
    "touch": ["first", "last"],
    "source": ["news", "direct"],
    "campaign": ["spring"],
    "landing": ["/posts/one/"],
    "page": ["/posts/one/", "2", "-1", "99999999999999999999"],
    "device": ["desktop", "mobile"],
    "q": ["customer", "@"],
    "stage": ["lead", "customer"],
    "segment": ["champions", "new"],
}
TABLES = ["contacts", "sources", "campaigns", "pages", "funnel", "feedback"]


def form_post(fields: Callable[[World], dict]) -> Callable[[World], st.SearchStrategy]:
    return lambda w: form_bodies(fields(w))


SHAPES: dict[str, Shape] = {
    "static": Shape(args={"filename": files}),
    "admin.static": Shape(args={"filename": files}),
    "health.healthz": Shape(),
    "collect.event": Shape(body=beacon_bodies, deep=deep_beacon),
    "collect.pixel": Shape(
        query_base={"u": "/posts/one/?utm_source=news", "r": "https://news.example/"},
        query={
            "u": ["https://kettu.example/posts/one/", "//evil.example/"],
            "r": [EVIL],
        },
    ),
    "next.next_block": Shape(
        query_base={"url": "https://kettu.example/posts/one/"},
        query={
            "url": ["/posts/one/", "//evil.example/", EVIL],
            "visitor": [XSS, "0" * 64],
        },
    ),
    "forms.subscribe": Shape(body=signup_bodies, deep=deep_signup),
    "forms.download": Shape(body=signup_bodies, deep=deep_signup),
    "quotes.request_quote": Shape(body=quote_bodies, deep=deep_quote),
    "forms.confirm": Shape(body=form_post(lambda w: {}), args=token_arg("confirm")),
    "forms.guide_file": Shape(args=token_arg("download")),
    "forms.unsubscribe": Shape(
        body=form_post(lambda w: {"List-Unsubscribe": "One-Click"}),
        args=token_arg("unsubscribe"),
    ),
    "forms.click": Shape(args=token_arg("click")),
    "forms.form_again": Shape(args={"token": form_tokens}),
    "forms.feedback": Shape(
        query_base={"score": "9"},
        query={"score": ["0", "10", "11", "-1", "9.5"]},
        body=form_post(lambda w: {"score": "9", "comment": "Great"}),
        args=token_arg("feedback"),
    ),
    "preferences.ask_page": Shape(query_base={"sent": "1"}, query={"sent": [XSS]}),
    "preferences.ask": Shape(body=form_post(lambda w: {"email": "lead@example.com"})),
    "preferences.page": Shape(  # a choice; never the erasure, which ends the token
        query_base={"saved": "digest"},
        query={"saved": [XSS]},
        body=form_post(lambda w: {"action": "digest", "frequency": "monthly"}),
        args=token_arg("preferences"),
    ),
    "api.conversion": Shape(body=order_bodies, deep=deep_order),
    "bounce_hooks.receive": Shape(
        body=bounce_bodies,
        args={
            "provider": lambda w: (
                st.sampled_from(["ses", "postmark", "mailgun"]) | hostile_text()
            )
        },
    ),
    "admin.login": Shape(
        query_base={"next": "/admin/contacts"},
        query={"next": ["/admin/contacts", "//evil.example/", "/admin/%0d%0a"]},
        body=form_post(lambda w: {"password": PASSWORD}),
    ),
    "admin.logout": Shape(body=form_post(lambda w: {"csrf": w.csrf})),
    "admin.overview": Shape(query_base={"period": "30d"}, query=DASHBOARD_QUERY),
    "admin.contacts": Shape(
        query_base={"q": "customer"},
        query={
            **DASHBOARD_QUERY,
            "band_from": ["source:news", "content:" + XSS, "nothing"],
            "band_to": ["stage:lead", "content:/posts/one/"],
            "map_from": ["2026-01-01", "2026-13-45"],
            "map_to": ["2026-12-31", XSS],
        },
    ),
    "admin.contact": Shape(args={"contact_id": contact_ids}),
    "admin.export_contact": Shape(args={"contact_id": contact_ids}),
    "admin.erase_contact": Shape(
        body=form_post(lambda w: {"csrf": w.csrf, "confirm": "yes"}),
        args={"contact_id": contact_ids},
    ),
    "admin.table_csv": Shape(
        query_base={"period": "7d"},
        query=DASHBOARD_QUERY,
        args={"table": lambda w: st.sampled_from(TABLES) | hostile_text()},
    ),
    "admin.deliverability": Shape(query=DASHBOARD_QUERY),
    "admin.experiments": Shape(query=DASHBOARD_QUERY),
    "admin.sequences": Shape(query=DASHBOARD_QUERY),
    "admin.journey": Shape(query=DASHBOARD_QUERY),
    "admin.quotes": Shape(),
    "admin.mark_answered": Shape(
        body=form_post(lambda w: {"csrf": w.csrf}),
        args={"contact_id": contact_ids, "quote_id": lambda w: hostile_text()},
    ),
}


@dataclass(frozen=True)
class Call:
    """One generated request, and the route it was made for."""

    endpoint: str
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes | None

    def send(self, client):
        return client.open(
            self.path,
            method=self.method,
            query_string=self.query,
            headers=self.headers,
            data=self.body,
        )


ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def path_for(rule: str, values: dict[str, str], raw: bool) -> str:
    """The rule's path with its arguments filled in, percent-encoded (or, raw,
    keeping slashes and dots for traversal)."""
    safe = "/.:@" if raw else ""

    def fill(match: re.Match) -> str:
        value = values[match.group(1)].encode("utf-8", "surrogatepass")
        return quote(value, safe=safe)

    return ARGUMENT.sub(fill, rule)


def deep_calls_to(world: World, rule) -> st.SearchStrategy[Call]:
    """The route's own method with valid credentials and a body with one
    field deep inside it hostile (Shape.deep), every time."""
    shape = SHAPES[rule.endpoint]
    assert shape.deep is not None, f"{rule.endpoint} has no deep body"
    method = sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
    sent = {
        "Origin": world.origin,
        "Authorization": f"Bearer {API_KEY}",
        "User-Agent": BROWSER_UA,
    }

    def call(body: Body) -> Call:
        data, content_type = body
        path = path_for(rule.rule, {}, raw=False)
        return Call(
            rule.endpoint,
            method,
            path,
            "",
            {**sent, "Content-Type": content_type},
            data,
        )

    return shape.deep(world).map(call)


def calls_to(world: World, rule, deep: bool = False) -> st.SearchStrategy[Call]:
    """Calls to the route; deep: deep_calls_to's instead."""
    if deep:
        return deep_calls_to(world, rule)
    shape = SHAPES[rule.endpoint]

    @st.composite
    def build(draw) -> Call:
        main = sorted(rule.methods - {"HEAD", "OPTIONS"})
        others = ["HEAD", "OPTIONS", *EXTRA_METHODS]
        usual = draw(st.integers(0, 4)) < 4  # four in five: the route's method
        method = draw(st.sampled_from(main if usual and main else others))
        values = {name: draw(make(world)) for name, make in shape.args.items()}
        path = path_for(rule.rule, values, raw=draw(st.integers(0, 3)) == 3)
        sent = draw(headers(world, rule.endpoint))
        body = None
        if shape.body is not None and method not in ("GET", "HEAD"):
            body, content_type = draw(shape.body(world))
            if draw(st.integers(0, 7)) == 7:  # now and then, mislabelled
                content_type = draw(st.sampled_from(CONTENT_TYPES) | header_text())
            if content_type:
                sent["Content-Type"] = content_type
        return Call(
            rule.endpoint,
            method,
            path,
            draw(queries(shape.query_base, shape.query)),
            sent,
            body,
        )

    return build()
