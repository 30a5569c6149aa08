"""POST /api/conversion: purchases from a shop, authenticated with an API key."""

import pytest

from tracker.db import get_storage

AUTH = {"Authorization": "Bearer test-api-key"}


def post(client, body, headers=AUTH):
    return client.post("/api/conversion", json=body, headers=headers)


def stored(app):
    with app.app_context():
        storage = get_storage()
        return list(storage.iter_contacts()), storage


def test_purchase_makes_a_customer(client, app):
    response = post(
        client, {"email": "Buyer@Example.com", "value": 290, "order_id": "A-1"}
    )
    assert response.status_code == 201
    (contact,), storage = stored(app)
    assert contact["email"] == "buyer@example.com" and contact["customer_at"]
    with app.app_context():
        (event,) = get_storage().timeline(contact["id"])
    assert event["type"] == "purchase" and event["value"] == 290
    assert event["currency"] == "EUR" and event["order_id"] == "A-1"


def test_order_id_is_an_idempotency_key(client, app):
    body = {"email": "b@example.com", "value": 10.5, "order_id": "A-2"}
    assert post(client, body).status_code == 201
    again = post(client, body)
    assert again.status_code == 200 and again.json["duplicate"] is True
    (contact,), _ = stored(app)
    with app.app_context():
        assert len(get_storage().timeline(contact["id"])) == 1


def test_quote_makes_a_lead_not_a_customer(client, app):
    post(client, {"email": "q@example.com", "kind": "quote"})
    (contact,), _ = stored(app)
    assert contact["lead_at"] and not contact["customer_at"]


@pytest.mark.parametrize(
    "body, headers, status",
    [
        ({"email": "b@example.com"}, {}, 401),
        ({"email": "b@example.com"}, {"Authorization": "Bearer wrong"}, 401),
        ({"email": "nope", "value": 1}, AUTH, 400),
        ({"email": "b@example.com", "value": -1}, AUTH, 400),
        ({"email": "b@example.com", "value": "10"}, AUTH, 400),
        ({"email": "b@example.com", "kind": "gift"}, AUTH, 400),
        ({"email": "b@example.com", "currency": "euro", "value": 1}, AUTH, 400),
        ({"value": 1}, AUTH, 400),
        ({"contact": "unknown-id", "value": 1}, AUTH, 404),
    ],
)
def test_bad_conversions_store_nothing(client, app, body, headers, status):
    response = post(client, body, headers)
    assert response.status_code == status
    assert response.json["ok"] is False
    assert stored(app)[0] == []


def test_api_off_without_a_key(app_factory):
    app = app_factory(API_KEY="")
    response = post(app.test_client(), {"email": "b@example.com"})
    assert response.status_code == 404 and "POLKU_API_KEY" in response.json["error"]


def test_non_json_body(client, app):
    response = client.post("/api/conversion", data="x", headers=AUTH)
    assert response.status_code == 400


def test_json_nested_past_the_recursion_limit(client, app):
    """A body of 5,000 `[` made json.loads raise RecursionError: a 500."""
    headers = {**AUTH, "Content-Type": "application/json"}
    response = client.post("/api/conversion", data=b"[" * 5000, headers=headers)
    assert response.status_code == 400
    assert stored(app)[0] == []


def test_json_with_half_a_surrogate_pair(client, app):
    """`"order_id": "\\ud800"` could not be written: a 500."""
    headers = {**AUTH, "Content-Type": "application/json"}
    body = b'{"email": "b@example.com", "order_id": "\\ud800"}'
    response = client.post("/api/conversion", data=body, headers=headers)
    assert response.status_code == 400
    assert stored(app)[0] == []


@pytest.mark.parametrize(
    "value",
    ["1e400", "-1e400", "NaN", "Infinity", str(2**64), str(10**400), "1e13", "-0.5"],
)
def test_a_value_no_store_can_hold_is_refused(client, app, value):
    """`"value": 1e400` reads as infinity; 2**64 made orjson raise and 10**400
    made math.isfinite raise (both a 500)."""
    headers = {**AUTH, "Content-Type": "application/json"}
    body = '{"email": "b@example.com", "value": VALUE, "order_id": "A-9"}'
    body = body.replace("VALUE", value)
    response = client.post("/api/conversion", data=body, headers=headers)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.json["ok"] is False and "'value'" in response.json["error"]
    assert stored(app)[0] == []


def test_the_largest_value_is_kept(client, app):
    assert post(client, {"email": "b@example.com", "value": 10**12}).status_code == 201
    (contact,), _ = stored(app)
    with app.app_context():
        (event,) = get_storage().timeline(contact["id"])
    assert event["value"] == 10**12
