"""POST /api/bounces/<provider>: the webhooks of Amazon SES (through SNS),
Postmark and Mailgun, on the real app and both backends.

The payloads are the providers' documented formats (tests/web/fixtures/).
SNS messages are signed with a key whose certificate a local HTTPS server
serves, as SNS serves its own (fixtures/senders.py).
"""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tracker import clock
from tracker.db import get_storage
from tracker.mail import digest

from . import stored
from .fixtures.senders import (
    HOST,
    MAILGUN_KEY,
    POSTMARK_SECRET,
    SNS,
    TOPIC,
    fixture,
    mailgun_body,
    post_mailgun,
    post_postmark,
    post_ses,
)

NOW = "2026-03-02T09:15:00+00:00"


@pytest.fixture
def sns(tmp_path, monkeypatch):
    served = SNS(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(served.ca_file))
    yield served
    served.stop()


@pytest.fixture
def hooks(app_factory, set_clock):
    set_clock(NOW)
    return app_factory(
        SES_TOPIC_ARN=TOPIC,
        SNS_EXTRA_HOSTS=HOST,
        BOUNCE_SECRET=POSTMARK_SECRET,
        MAILGUN_SIGNING_KEY=MAILGUN_KEY,
    )


@pytest.fixture
def people(hooks):
    """Two confirmed subscribers, through the real forms and emails."""
    from ..conftest import Reader

    reader = Reader(hooks.test_client(), hooks)
    for email in ("reader@example.com", "other@example.com"):
        assert reader.confirm(email).status_code in (200, 302, 303)
    return reader


def snapshot(app) -> list:
    """Every contact and its timeline: what a refused request must not change."""
    with app.app_context():
        storage = get_storage()
        return [(c, storage.timeline(c["id"])) for c in storage.iter_contacts()]


def kinds(app, email="reader@example.com") -> list[str]:
    return [
        e["type"]
        for e in stored.timeline(app, email)
        if e["type"] in {"bounce", "complaint"}
    ]


def recipients(app) -> list[str]:
    with app.app_context():
        return [c["email"] for c in digest.recipients(get_storage())]


def polku_ref(reader, email="reader@example.com") -> str:
    """The X-Polku-Ref of the last email the person was sent."""
    return str([m for m in reader.outbox() if m["To"] == email][-1]["X-Polku-Ref"])


# --- what the owner depends on -------------------------------------------------


def test_an_ses_hard_bounce_suppresses_and_the_next_digest_leaves_it_out(
    hooks, people, sns
):
    assert recipients(hooks) == ["reader@example.com", "other@example.com"]
    ses = fixture("ses-bounce.json")
    ses["mail"]["headers"].append({"name": "X-Polku-Ref", "value": polku_ref(people)})
    response = post_ses(hooks, sns.notification(ses))
    assert response.status_code == 200 and response.json["applied"] == 1
    suppressed = stored.contact(hooks)["suppressed"]
    assert suppressed["reason"] == "hard_bounce"
    assert "5.1.1" in suppressed["evidence"][0]["status"]
    assert suppressed["evidence"][0]["send"] == "confirm"  # from the signed header
    assert recipients(hooks) == ["other@example.com"]
    assert "suppressed" not in stored.contact(hooks, "other@example.com")


def test_an_ses_complaint_signed_with_version_2_suppresses(hooks, people, sns):
    envelope = sns.notification(fixture("ses-complaint.json"))
    response = post_ses(hooks, sns.sign(envelope, version="2"))
    assert response.status_code == 200 and response.json["applied"] == 1
    assert stored.contact(hooks)["suppressed"]["reason"] == "complaint"


def test_sns_certificates_are_fetched_once(hooks, people, sns):
    for n, email in enumerate(["reader@example.com", "other@example.com"]):
        ses = fixture("ses-bounce.json", email)
        ses["bounce"]["feedbackId"] = f"feedback-{n}"
        assert post_ses(hooks, sns.notification(ses, f"n-{n}")).status_code == 200
    assert [p for p in sns.gets if p.endswith(".pem")] == [sns.cert_path]
    assert recipients(hooks) == []


def test_ses_subscription_confirmation_gets_the_subscribe_url(hooks, sns):
    message = fixture("sns-subscription-confirmation.json")
    path = "/?Action=ConfirmSubscription&TopicArn=" + TOPIC + "&Token=abc123"
    message.update(
        SubscribeURL=sns.base + path,
        SigningCertURL=sns.cert_url,
    )
    response = post_ses(hooks, sns.sign(message))
    assert response.status_code == 200 and response.json["confirmed"] is True
    assert path in sns.gets


def test_a_subscribe_url_off_sns_is_never_fetched(hooks, sns):
    message = fixture("sns-subscription-confirmation.json")
    message.update(
        SubscribeURL="https://attacker.example/?Action=ConfirmSubscription",
        SigningCertURL=sns.cert_url,
    )
    assert post_ses(hooks, sns.sign(message)).status_code == 401


def test_a_postmark_spam_complaint_suppresses(hooks, people):
    body = fixture("postmark-spam-complaint.json")
    response = post_postmark(hooks, body)
    assert response.status_code == 200 and response.json["applied"] == 1
    assert stored.contact(hooks)["suppressed"]["reason"] == "complaint"
    assert kinds(hooks) == ["complaint"]
    assert recipients(hooks) == ["other@example.com"]


def test_a_postmark_hard_bounce_is_found_by_the_header_in_its_content(hooks, people):
    body = fixture("postmark-bounce.json", "someone-else@example.net")
    body["Content"] = f"Received: ...\r\nX-Polku-Ref: {polku_ref(people)}\r\n\r\n"
    assert post_postmark(hooks, body).json["applied"] == 1
    assert stored.contact(hooks)["suppressed"]["reason"] == "hard_bounce"


def test_mailgun_temporary_failures_suppress_on_the_third_distinct_send(hooks, people):
    for n in (1, 2):
        body = mailgun_body(
            event_id=f"ev-{n}", message_id=f"<digest-{n}@kettu.example>"
        )
        assert post_mailgun(hooks, body).json["applied"] == 1
    # Mailgun's own retries of one message are one send, however many there are
    for n in (3, 4):
        body = mailgun_body(event_id=f"ev-{n}", message_id="<digest-2@kettu.example>")
        assert post_mailgun(hooks, body).json["applied"] == 1
    assert "suppressed" not in stored.contact(hooks)
    assert recipients(hooks) == ["reader@example.com", "other@example.com"]
    body = mailgun_body(event_id="ev-5", message_id="<digest-3@kettu.example>")
    assert post_mailgun(hooks, body).json["applied"] == 1
    assert stored.contact(hooks)["suppressed"]["reason"] == "soft_bounces"
    assert recipients(hooks) == ["other@example.com"]


def test_a_mailgun_permanent_failure_suppresses_at_once(hooks, people):
    body = mailgun_body()
    body["event-data"]["severity"] = "permanent"
    body["event-data"]["delivery-status"].update(code=550, message="5.1.1 No such user")
    assert post_mailgun(hooks, body).json["applied"] == 1
    assert stored.contact(hooks)["suppressed"]["reason"] == "hard_bounce"


def test_a_policy_block_suppresses_no_one(hooks, people):
    body = mailgun_body()
    body["event-data"]["severity"] = "permanent"
    body["event-data"]["delivery-status"].update(
        code=550, message="5.7.1 Message rejected due to local policy"
    )
    response = post_mailgun(hooks, body)
    assert response.status_code == 200 and response.json["applied"] == 0
    assert "suppressed" not in stored.contact(hooks) and kinds(hooks) == []


# --- replays: each event once, and 200 every time ---------------------------


def ses_twice(app, sns):
    message = sns.notification(fixture("ses-bounce.json"))
    return [post_ses(app, message) for _ in range(2)]


def postmark_twice(app, sns):
    body = fixture("postmark-bounce.json")
    return [post_postmark(app, body) for _ in range(2)]


def mailgun_twice(app, sns):
    """The same signed request again, then the same event signed anew."""
    again = mailgun_body(token="a-new-token-for-the-same-event")
    body = mailgun_body()
    body["event-data"]["severity"] = again["event-data"]["severity"] = "permanent"
    return [post_mailgun(app, b) for b in (body, body, again)]


@pytest.mark.parametrize("send", [ses_twice, postmark_twice, mailgun_twice])
def test_the_same_event_twice_makes_one_suppression_and_one_event(
    hooks, people, sns, send
):
    first, *again = send(hooks, sns)
    assert first.status_code == 200 and first.json["applied"] == 1
    assert all(r.status_code == 200 and not r.json.get("applied") for r in again)
    assert stored.contact(hooks)["suppressed"]["reason"] == "hard_bounce"
    assert kinds(hooks) == ["bounce"]


# --- refusals: 401, 400, 404, 413, and nothing changes --------------------------


def forged_key(app, sns):
    other = rsa.generate_private_key(65537, 2048)
    message = sns.notification(fixture("ses-bounce.json"))
    return post_ses(app, sns.sign(message, key=other))


def changed_message(app, sns):
    message = sns.notification(fixture("ses-bounce.json"))
    message["Message"] = message["Message"].replace("reader@", "other@")
    return post_ses(app, message)


def certificate_off_sns(app, sns):
    return post_ses(
        app,
        sns.notification(
            fixture("ses-bounce.json"),
            SigningCertURL=("https://attacker.example/SimpleNotificationService-x.pem"),
        ),
    )


def certificate_over_http(app, sns):
    url = sns.cert_url.replace("https", "http")
    return post_ses(
        app, sns.notification(fixture("ses-bounce.json"), SigningCertURL=url)
    )


def another_topic(app, sns):
    other = TOPIC.replace("polku-bounces", "someone-elses")
    return post_ses(app, sns.notification(fixture("ses-bounce.json"), TopicArn=other))


def unsigned(app, sns):
    message = sns.notification(fixture("ses-bounce.json"))
    del message["Signature"]
    return post_ses(app, message)


def postmark_wrong_password(app, sns):
    return post_postmark(app, fixture("postmark-bounce.json"), "guess")


def postmark_without_auth(app, sns):
    return app.test_client().post(
        "/api/bounces/postmark", json=fixture("postmark-bounce.json")
    )


def mailgun_wrong_key(app, sns):
    return post_mailgun(app, mailgun_body(key="key-someone-elses"))


def mailgun_stale(app, sns):
    an_hour_ago = clock.now().timestamp() - 3600
    return post_mailgun(app, mailgun_body(timestamp=an_hour_ago))


def mailgun_without_signature(app, sns):
    body = mailgun_body()
    del body["signature"]
    return post_mailgun(app, body)


@pytest.mark.parametrize(
    "attempt",
    [
        forged_key,
        changed_message,
        certificate_off_sns,
        certificate_over_http,
        another_topic,
        unsigned,
        postmark_wrong_password,
        postmark_without_auth,
        mailgun_wrong_key,
        mailgun_stale,
        mailgun_without_signature,
    ],
)
def test_a_request_that_fails_authentication_answers_401_and_changes_nothing(
    hooks, people, sns, attempt
):
    before = snapshot(hooks)
    response = attempt(hooks, sns)
    assert response.status_code == 401, response.json
    assert response.json["ok"] is False and response.json["error"]
    assert snapshot(hooks) == before
    assert not [p for p in sns.gets if "attacker" in p]


def test_a_replayed_mailgun_token_with_another_body_applies_nothing(hooks, people):
    first = mailgun_body(event_id="ev-1")
    assert post_mailgun(hooks, first).json["applied"] == 1
    before = snapshot(hooks)
    forged = mailgun_body(event_id="ev-1")  # the captured signature ...
    forged["event-data"].update(id="ev-2", recipient="other@example.com")
    forged["event-data"]["severity"] = "permanent"  # ... on a body of one's own
    response = post_mailgun(hooks, forged)
    assert response.status_code == 200 and not response.json.get("applied")
    assert snapshot(hooks) == before


@pytest.mark.parametrize(
    "path, body, status",
    [
        ("/api/bounces/sendgrid", {}, 404),
        ("/api/bounces/postmark", "{not json", 400),
        ("/api/bounces/postmark", "[1, 2]", 400),
        (
            "/api/bounces/postmark",
            '{"RecordType": "Bounce", "Type": "HardBounce"}',
            400,
        ),
        ("/api/bounces/postmark", '{"RecordType": "Bounce", "ID": 1, "Email": 5}', 400),
        ("/api/bounces/postmark", '{"a": "\\ud800"}', 400),
        ("/api/bounces/postmark", '{"a": "' + "x" * 600_000 + '"}', 413),
        ("/api/bounces/mailgun", "{not json", 400),
        ("/api/bounces/ses", '{"Type": "Gossip"}', 400),
        ("/api/bounces/ses", '{"Type": ["Notification"]}', 400),
        ("/api/bounces/ses", '{"Type": "Notification", "TopicArn": [1]}', 401),
    ],
)
def test_bad_requests_answer_with_a_reason_and_store_nothing(
    hooks, people, path, body, status
):
    before = snapshot(hooks)
    headers = {"Content-Type": "application/json"}
    if "postmark" in path:
        token = base64.b64encode(f"polku:{POSTMARK_SECRET}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    data = body if isinstance(body, str) else json.dumps(body)
    response = hooks.test_client().post(path, data=data, headers=headers)
    assert response.status_code == status
    assert response.json["ok"] is False and response.json["error"]
    assert snapshot(hooks) == before


def test_a_malformed_ses_message_signed_by_sns_is_a_400(hooks, people, sns):
    before = snapshot(hooks)
    message = sns.notification({"notificationType": "Bounce", "bounce": {}})
    response = post_ses(hooks, message)
    assert response.status_code == 400 and response.json["error"]
    assert snapshot(hooks) == before


@pytest.mark.parametrize(
    "provider, setting",
    [
        ("ses", "SES_TOPIC_ARN"),
        ("postmark", "BOUNCE_SECRET"),
        ("mailgun", "MAILGUN_SIGNING_KEY"),
    ],
)
def test_a_provider_without_its_setting_is_off(app_factory, provider, setting):
    response = app_factory().test_client().post(f"/api/bounces/{provider}", json={})
    assert response.status_code == 404
    assert f"POLKU_{setting}" in response.json["error"]


def test_events_about_no_address_change_nothing(hooks, people, sns):
    before = snapshot(hooks)
    delivery = fixture("ses-complaint.json")
    delivery["complaint"]["complaintFeedbackType"] = "not-spam"
    assert post_ses(hooks, sns.notification(delivery)).json["applied"] == 0
    auto_reply = fixture("postmark-bounce.json")
    auto_reply["Type"] = "AutoResponder"
    assert post_postmark(hooks, auto_reply).json["applied"] == 0
    nobody = fixture("postmark-bounce.json", "stranger@example.net")
    assert post_postmark(hooks, nobody).json["unknown"] == 1
    assert snapshot(hooks) == before
