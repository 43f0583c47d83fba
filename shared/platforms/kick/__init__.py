"""Kick's public API: the client (`client.py`, app token in `auth.py`, finding the
channel that makes Kick refuse a batch in `isolation.py`), what an answer says
(`live.py`), its wire models (`models.py`), what users type for a channel
(`refs.py`) and its registry entry (`spec.py`). The monitor polls it with the
generic `BatchFetcher`; Kick has no follower counts, so no stats are sampled.
"""

from shared.platforms.kick.client import KickClient
from shared.platforms.kick.live import stream_id
from shared.platforms.kick.spec import SPEC

__all__ = ["SPEC", "KickClient", "stream_id"]
