"""What a user agent says about itself: a crawler or not, and the device class.

Both libraries run big regular expressions; user agents repeat a lot, so the
answers are cached per user-agent string (`kind`: both in one look-up, for
every beacon).
"""

from __future__ import annotations

from functools import lru_cache

import user_agents
from crawlerdetect import CrawlerDetect

_detector = CrawlerDetect()


@lru_cache(maxsize=4096)
def is_bot(user_agent: str) -> bool:
    """True for crawlers, monitors and empty user agents, counted apart from people."""
    if not user_agent.strip():
        return True
    return bool(_detector.isCrawler(user_agent)) or user_agents.parse(user_agent).is_bot


@lru_cache(maxsize=4096)
def device_class(user_agent: str) -> str:
    """Return desktop, mobile, tablet or other."""
    agent = user_agents.parse(user_agent)
    if agent.is_tablet:
        return "tablet"
    if agent.is_mobile:
        return "mobile"
    if agent.is_pc:
        return "desktop"
    return "other"


@lru_cache(maxsize=4096)
def kind(user_agent: str) -> str:
    """Return "bot", or the device class of a person's browser."""
    return "bot" if is_bot(user_agent) else device_class(user_agent)
