"""Rumble's Livestream API (beta): one owner key per channel.

client.py   the client: one cached GET per key serves live status and followers
models.py   the answer's wire models
fetcher.py  the monitor's fetcher, taking followers from the live request
refs.py     what users type: the key, optionally the channel's URL or name
spec.py     its registry entry (owner credential, one channel per request)
"""

from shared.platforms.rumble.client import RumbleClient
from shared.platforms.rumble.fetcher import PairedFetcher
from shared.platforms.rumble.models import RumbleData
from shared.platforms.rumble.spec import SPEC

__all__ = ["SPEC", "PairedFetcher", "RumbleClient", "RumbleData"]
