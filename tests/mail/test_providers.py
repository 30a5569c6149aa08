"""The mail services' webhook payloads read as reports: the documented formats
(tests/web/fixtures/) mapped to hard, soft and complaint, and any payload
twisted anywhere inside read as reports or refused as Malformed, never an
error of another kind, and never a report holding what cannot be stored."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.mail import providers
from tracker.mail.bounces import Report

from ..security.strategies import hostile_text, json_values
from ..web.fixtures.senders import fixture


def ses(name: str, **changes) -> dict:
    message = fixture(name)
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = message
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        node[last] = value
    return {"Type": "Notification", "MessageId": "m-1", "Message": json.dumps(message)}


@pytest.mark.parametrize(
    "envelope, kind",
    [
        (ses("ses-bounce.json"), "hard"),
        (ses("ses-bounce.json", bounce__bounceType="Transient"), "soft"),
        (ses("ses-bounce.json", bounce__bounceType="Undetermined"), "soft"),
        (ses("ses-complaint.json"), "complaint"),
        (ses("ses-complaint.json", complaint__complaintFeedbackType="not-spam"), None),
        (ses("ses-bounce.json", notificationType="Delivery"), None),
        (
            ses(
                "ses-bounce.json",
                bounce__bouncedRecipients__0__status="5.7.1",
                bounce__bouncedRecipients__0__diagnosticCode="smtp; 550 5.7.1 policy",
            ),
            None,
        ),
    ],
)
def test_ses_kinds(envelope, kind):
    reports = providers.ses(envelope)
    assert [r.kind for r in reports] == ([kind] if kind else [])


@pytest.mark.parametrize(
    "type_, kind",
    [
        ("HardBounce", "hard"),
        ("SoftBounce", "soft"),
        ("Transient", "soft"),
        ("SpamComplaint", "complaint"),
        ("AutoResponder", None),
        ("SpamNotification", None),
        ("Blocked", None),
    ],
)
def test_postmark_kinds(type_, kind):
    body = {**fixture("postmark-bounce.json"), "Type": type_}
    assert [r.kind for r in providers.postmark(body)] == ([kind] if kind else [])


def test_one_ses_bounce_names_each_recipient_and_no_reference_is_shared():
    message = fixture("ses-bounce.json")
    first = message["bounce"]["bouncedRecipients"][0]
    second = {**first, "emailAddress": "other@example.com"}
    message["bounce"]["bouncedRecipients"].append(second)
    message["mail"]["headers"].append({"name": "X-Polku-Ref", "value": "c1/s/mac"})
    reports = providers.ses({"MessageId": "m", "Message": json.dumps(message)})
    assert [r.email for r in reports] == ["reader@example.com", "other@example.com"]
    assert len({r.id for r in reports}) == 2 and all(r.ref is None for r in reports)


def paths(value, prefix=()):
    """Every place inside a JSON value: a key's value, a list's item."""
    yield prefix
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for n, inner in enumerate(value):
            yield from paths(inner, (*prefix, n))


def put(value, path, new):
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = put(value[path[0]], path[1:], new)
    return copy


def twisted(base: dict) -> st.SearchStrategy:
    places = sorted(paths(base), key=repr)
    shapes = st.sampled_from([None, 0, True, [], {}, [{}], ""])  # each a wrong type
    one = st.tuples(st.sampled_from(places), shapes | hostile_text() | json_values())
    return st.lists(one, min_size=1, max_size=3).map(
        lambda changes: _apply(base, changes)
    )


def _apply(base, changes):
    for path, value in changes:
        try:
            base = put(base, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # the place went away with an earlier change
    return base


def ses_envelope(message) -> dict:
    text = message if isinstance(message, str) else json.dumps(message)
    return {"Type": "Notification", "MessageId": "m-1", "Message": text}


def as_posted(body):
    return body


PAYLOADS = [
    (providers.ses, fixture("ses-bounce.json"), ses_envelope),
    (providers.ses, fixture("ses-complaint.json"), ses_envelope),
    (providers.postmark, fixture("postmark-bounce.json"), as_posted),
    (providers.postmark, fixture("postmark-spam-complaint.json"), as_posted),
    (providers.mailgun, fixture("mailgun-failed.json"), as_posted),
]


def storable(text) -> bool:
    return text is None or (isinstance(text, str) and text.isprintable())


@pytest.mark.parametrize("read, base, wrap", PAYLOADS, ids=lambda p: "")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_twisted_payload_is_read_or_refused(read, base, wrap, data):
    payload = wrap(data.draw(twisted(base)))
    try:
        reports = read(payload) if isinstance(payload, dict) else []
    except providers.Malformed:
        return
    for report in reports:
        assert isinstance(report, Report)
        assert report.kind in ("hard", "soft", "complaint")
        for text in (report.id, report.email, report.ref, report.status, report.send):
            assert storable(text), text
