"""The names the dashboard gives to stored values (stages, segments, devices...).

English message ids, translated when shown (`label(table, key)` in the
templates); a value without a name shows as it is stored.
"""

from __future__ import annotations

from ..i18n import N_

# Tables whose names take a message context: one person's stage ("Engaged",
# Finnish "Sitoutunut") is not the funnel's stage of many ("Sitoutuneet").
CONTEXTS = {"stage": "one person's stage"}

LABELS: dict[str, dict[str, str]] = {
    "periods": {
        "today": N_("Today"),
        "7d": N_("7 days"),
        "30d": N_("30 days"),
        "month": N_("This month"),
        "custom": N_("Custom"),
    },
    "touches": {"first": N_("First touch"), "last": N_("Last touch")},
    "dimensions": {
        "source": N_("Source"),
        "campaign": N_("Campaign"),
        "landing": N_("Landing page"),
        "page": N_("Page"),
        "device": N_("Device"),
    },
    "kpis": {
        "visitors": N_("Visitors"),
        "pageviews": N_("Pageviews"),
        "engaged": N_("Engaged"),
        "leads": N_("Leads"),
        "customers": N_("Customers"),
        "advocates": N_("Advocates"),
    },
    "panels": {
        "sources": N_("Sources"),
        "campaigns": N_("Campaigns"),
        "posts": N_("Posts and pages"),
        "landings": N_("Landing pages"),
        "guides": N_("Guides"),
        "events": N_("Events"),
    },
    "chart_title": {
        "visitors": N_("Visitors per day"),
        "pageviews": N_("Pageviews per day"),
    },
    "stages": {
        "visitor": N_("Visitors"),
        "engaged": N_("Engaged"),
        "lead": N_("Leads"),
        "customer": N_("Customers"),
        "advocate": N_("Advocates"),
    },
    "stage": {
        "visitor": N_("Visitor"),
        "engaged": N_("Engaged"),
        "lead": N_("Lead"),
        "customer": N_("Customer"),
        "advocate": N_("Advocate"),
    },
    "devices": {
        "desktop": N_("Desktop"),
        "mobile": N_("Mobile"),
        "tablet": N_("Tablet"),
        "other": N_("Other"),
    },
    "statuses": {
        "none": N_("not subscribed"),
        "pending": N_("waiting for confirmation"),
        "confirmed": N_("subscribed"),
        "unsubscribed": N_("unsubscribed"),
    },
    "segments": {
        "champions": N_("Champions"),
        "loyal": N_("Loyal"),
        "new": N_("New"),
        "promising": N_("Promising"),
        "at risk": N_("At risk"),
        "hibernating": N_("Hibernating"),
        "needs attention": N_("Needs attention"),
    },
    "timeline": {
        "signup": N_("Signed up for the newsletter"),
        "confirm": N_("Confirmed the newsletter"),
        "download": N_("Downloaded a guide"),
        "purchase": N_("Purchase"),
        "booking": N_("Booking"),
        "quote": N_("Asked for a quote"),
        "quote_request": N_("Sent a quote request (address not verified)"),
        "quote_answered": N_("The quote request was marked answered"),
        "unsubscribe": N_("Unsubscribed"),
        "feedback": N_("Answered the recommend-us question"),
        "click": N_("Clicked a link in an email"),
        "import": N_("Imported"),
        "referral": N_("Referred someone"),
        "event": N_("Event"),
        "bounce": N_("An email bounced"),
        "complaint": N_("Reported an email as spam"),
        "delivered": N_("An email was delivered again"),
        "signup_suppressed": N_("Signup refused: the address is suppressed"),
    },
    "bounces": {"hard": N_("hard"), "soft": N_("soft")},
    "suppressed": {
        "hard_bounce": N_("a hard bounce"),
        "soft_bounces": N_("soft bounces"),
        "complaint": N_("a spam complaint"),
    },
    "sends": {  # what kind of mail a send is (journey.deliverability.kind_of)
        "digest": N_("Digest"),
        "sequence": N_("Sequence step"),
        "confirm": N_("Confirmation emails"),
        "download": N_("Guide emails"),
        "report": N_("The owner's report"),
        "preferences": N_("Links to the reader's own page"),
    },
}
