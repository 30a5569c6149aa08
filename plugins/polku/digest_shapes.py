"""The digest rendered once per shape, each reader's own values filled in.

Readers' digests differ in a few values (their links, their name) and in the
shape around them (the posts in their order, the feedback question or not,
the language). Inlining the CSS took 0.3 ms an email, rendering the two
templates as much again: here the templates are rendered and the CSS inlined
once per shape, with a slot for each reader's value, and each email is the
shape with its values put in, escaped as the inliner writes them.

The result is the same text, byte for byte, as the full render: the first
email of each shape is rendered in full too and compared, and a shape that
differs, or that has a slot where filling could differ (a comment, a style
or script, a stylesheet with attribute selectors), is rendered in full for
every reader. Only the plugin's own templates are filled: a theme's may use
a reader's value in ways a slot cannot follow (a filter on a link).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from weakref import WeakKeyDictionary

import jinja2

SLOT = "zqpolkuslot{}qz"  # survives Jinja's escaping, wrapping and the inliner
SLOT_RE = re.compile(r"zqpolkuslot(\d+)qz")
# Per environment, both templates, ~15 KB each. 100,000 readers made 424 (110
# orders of 5 posts, with or without the feedback question and a referral).
MAX_SHAPES = 4096
RAW = re.compile(r"<(style|script)\b[^>]*>(.*?)</\1", re.S | re.I)
TEXT_ESCAPES = (("&", "&amp;"), ("\xa0", "&nbsp;"), ("<", "&lt;"), (">", "&gt;"))
ATTRIBUTE_ESCAPES = (("&", "&amp;"), ("\xa0", "&nbsp;"), ('"', "&quot;"))
NOT_FILLABLE = ("\r", "\x00")  # the HTML parser rewrites them


class Slots:
    """Hands out a slot for each non-empty value (an empty one stays empty,
    so the templates' conditions see what they would see)."""

    def __init__(self) -> None:
        self.values: list[str] = []

    def __call__(self, value: str) -> str:
        if not value:
            return value
        self.values.append(value)
        return SLOT.format(len(self.values) - 1)


def escaped(value: str, escapes: tuple[tuple[str, str], ...]) -> str:
    for char, entity in escapes:
        if char in value:
            value = value.replace(char, entity)
    return value


@dataclass(frozen=True, slots=True)
class Shape:
    parts: tuple[str, ...]  # the text around the slots, one more than them
    slots: tuple[int, ...]  # which value goes after each part
    escapes: tuple[tuple[tuple[str, str], ...] | None, ...]  # None: as is

    def fill(self, values: list[str]) -> str:
        out = [self.parts[0]]
        for index, escapes, part in zip(
            self.slots, self.escapes, self.parts[1:], strict=True
        ):
            value = values[index]
            out.append(escaped(value, escapes) if escapes else value)
            out.append(part)
        return "".join(out)


def shape_of(rendered: str, html: bool) -> Shape | None:
    """The shape of a template rendered with slots; None if a slot sits where
    the inliner would not write its value as text or an attribute."""
    if html and any("[" in css for _, css in RAW.findall(rendered)):
        return None  # an attribute selector could match a reader's value
    pieces = SLOT_RE.split(rendered)
    parts, slots, escapes = pieces[0::2], pieces[1::2], []
    position = len(parts[0])
    for slot, after in zip(slots, parts[1:], strict=True):
        if not html:
            escapes.append(None)
        else:
            before = rendered[:position]
            if before.rfind("<!--") > before.rfind("-->") or any(
                before.lower().rfind(f"<{tag}") > before.lower().rfind(f"</{tag}")
                for tag in ("style", "script")
            ):
                return None
            inside_tag = before.rfind("<") > before.rfind(">")
            escapes.append(ATTRIBUTE_ESCAPES if inside_tag else TEXT_ESCAPES)
        position += len(SLOT.format(slot)) + len(after)
    return Shape(tuple(parts), tuple(int(s) for s in slots), tuple(escapes))


_SHAPES: WeakKeyDictionary[jinja2.Environment, dict] = WeakKeyDictionary()


def render(
    env: jinja2.Environment,
    templates: dict[str, Callable[[str], str]],
    context: dict,
    with_slots: Callable[[dict, Slots], dict],
    own_templates: str,
) -> list[str]:
    """[finish(template rendered with context) for each template and finish],
    from the shape when it can (finish is the inliner for HTML, or str).

    with_slots(context, slots) returns the context with each reader's own
    values replaced by slots(value).
    """
    slots = Slots()
    skeleton = with_slots(context, slots)
    fillable = not any(bad in v for v in slots.values for bad in NOT_FILLABLE)
    key = repr(skeleton) if fillable else ""
    shapes = _SHAPES.setdefault(env, {})
    done = []
    for name, finish in templates.items():
        template = env.get_template(name)
        own = (template.filename or "").startswith(os.path.join(own_templates, ""))
        shape = shapes.get((name, key), False) if own and fillable else None
        if shape is False:  # not seen yet: render in full, and the shape
            whole = finish(template.render(context))
            shape = shape_of(finish(template.render(skeleton)), name.endswith("html"))
            if shape is not None and shape.fill(slots.values) != whole:
                shape = None  # this shape is rendered in full for every reader
            if len(shapes) >= MAX_SHAPES:
                shapes.clear()  # one call: safe if another thread renders too
            shapes[name, key] = shape
            done.append(whole)
        elif shape is None:
            done.append(finish(template.render(context)))
        else:
            done.append(shape.fill(slots.values))
    return done
