"""Cookieless visitor ids and the daily salts behind them."""

from tracker.web import identity


def test_salts_rotate_and_old_ones_are_deleted(storage):
    a = identity.daily_salt(storage, "2026-11-20")
    assert identity.daily_salt(storage, "2026-11-20") == a
    identity.daily_salt(storage, "2026-11-21")
    identity.daily_salt(storage, "2026-11-22")
    assert set(storage.get_meta(identity.SALTS_KEY)) == {"2026-11-21", "2026-11-22"}


def test_visitor_hash_depends_on_every_part():
    base = identity.visitor_hash("s", "https://a.example", "1.2.3.4", "UA")
    assert len(base) == 32
    assert base != identity.visitor_hash("t", "https://a.example", "1.2.3.4", "UA")
    assert base != identity.visitor_hash("s", "https://b.example", "1.2.3.4", "UA")
    assert base != identity.visitor_hash("s", "https://a.example", "1.2.3.5", "UA")
    assert base != identity.visitor_hash("s", "https://a.example", "1.2.3.4", "UB")
    assert "1.2.3.4" not in base


def test_dnt_and_gpc_mean_no_persistent_id():
    assert identity.no_tracking({"DNT": "1"})
    assert identity.no_tracking({"Sec-GPC": "1"})
    assert not identity.no_tracking({})
