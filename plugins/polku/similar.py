"""Each post's nearest posts by content, computed once per build.

TF-IDF over the title, the summary, the category and the tags (each tag a
word of its own, weighted twice: they are the writer's own topics), compared
by cosine similarity with scikit-learn. The nearest articles go into the
manifest (`similar`) for the tracker's next read, and the nearest one is the
page's default next read, which the static HTML shows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .context import plain_summary, plain_text

KEEP = 5  # neighbours kept per post
TAG = re.compile(r"[^0-9a-z]+")


def document(item) -> str:
    """The text one post is compared by."""
    tags = " ".join(
        "tag_" + TAG.sub("_", str(t).lower()).strip("_")
        for t in getattr(item, "tags", None) or []
    )
    category = getattr(item, "category", None)
    return " ".join(
        (
            plain_text(getattr(item, "title", "")),
            plain_summary(item),
            str(category or ""),
            tags,
            tags,
        )
    )


def nearest(items: Sequence, targets: Sequence, lang: str = "en") -> list[list]:
    """For each item, [(target index, similarity)] of its nearest targets, best
    first (never itself; only similarities above zero)."""
    if not items or not targets:
        return [[] for _ in items]
    # Imported here: scikit-learn takes a moment to load, and only a build needs it.
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import linear_kernel

    vectorizer = TfidfVectorizer(
        sublinear_tf=True,
        strip_accents="unicode",
        stop_words="english" if str(lang).startswith("en") else None,
    )
    texts = [document(i) for i in items] + [document(t) for t in targets]
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:  # no words at all (empty posts)
        return [[] for _ in items]
    scores = linear_kernel(matrix[: len(items)], matrix[len(items) :])
    found = []
    for row, item in enumerate(scores):
        ranked = sorted(
            (
                (-float(score), col)
                for col, score in enumerate(item)
                if score > 0 and targets[col] is not items[row]
            ),
        )
        found.append([(col, -score) for score, col in ranked[:KEEP]])
    return found


def newest(articles: Sequence) -> list:
    def when(article):
        date = getattr(article, "date", None)
        return (date is not None, date.isoformat() if date else "")

    return sorted(articles, key=when, reverse=True)


def attach(items: Sequence, articles: Sequence, lang: str = "en") -> None:
    """Give every item `journey_similar` ([(url, similarity)]) and
    `journey_next` ({"url", "title"}: its default next read)."""
    ordered = newest(articles)
    for item, near in zip(items, nearest(items, articles, lang), strict=True):
        item.journey_similar = [
            (articles[col].url, round(score, 4)) for col, score in near
        ]
        chosen = articles[near[0][0]] if near else None
        if chosen is None:
            chosen = next((a for a in ordered if a is not item), None)
        item.journey_next = (
            {"url": chosen.url, "title": plain_text(chosen.title)} if chosen else None
        )
