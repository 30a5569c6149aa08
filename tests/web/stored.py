"""What the app stored about a reader, read back in its app context."""

from __future__ import annotations

from tracker.db import get_storage


def contacts(app):
    with app.app_context():
        return list(get_storage().iter_contacts())


def contact(app, email="reader@example.com"):
    with app.app_context():
        return get_storage().find_contact(email)


def timeline(app, email="reader@example.com"):
    with app.app_context():
        return get_storage().timeline(contact(app, email)["id"])
