"""Twitch Helix: the client (`client.py`, app token in `auth.py`), its wire models
(`models.py`), what users type for a channel (`refs.py`) and its registry entry
(`spec.py`). The monitor polls it with the generic `BatchFetcher`.
"""

from shared.platforms.twitch.client import TwitchClient
from shared.platforms.twitch.spec import SPEC

__all__ = ["SPEC", "TwitchClient"]
