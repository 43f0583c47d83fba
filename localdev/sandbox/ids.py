"""Deterministic hashing and platform-style identifiers.

Nothing here is stored: every id is computed from the seed and the thing it
names, and YouTube video ids decode back to what they name, so any sandbox
started with the same seed answers for ids that another one handed out.
"""

import base64
import hashlib
from datetime import UTC, datetime

_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_MASK32 = 0xFFFFFFFF


def h64(*parts: object) -> int:
    """A stable 64-bit hash of the parts (unlike `hash()`, the same in every process)."""
    data = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def unit(*parts: object) -> float:
    """A stable pseudo-random number in [0, 1) for the parts."""
    return h64(*parts) / 2**64


def base36(value: int) -> str:
    digits = []
    while True:
        value, rem = divmod(value, 36)
        digits.append(_B36[rem])
        if value == 0:
            return "".join(reversed(digits))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def iso_z(ts: float) -> str:
    """`2025-03-01T18:04:05Z`, the form Twitch and YouTube use."""
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> float:
    """An ISO 8601 instant (a `Z` or an offset is required) as epoch seconds."""
    when = datetime.fromisoformat(text.strip().replace("z", "Z").replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return when.timestamp()


class VideoIds:
    """Packs (channel index, window, ordinal) into an 11-character YouTube-style video id.

    64 bits: 20 for the channel, 22 for the day window, 6 for the ordinal and 16
    of check, scrambled by a 4-round Feistel network keyed by the seed. Like a
    real id, the 11th character carries only 4 bits.
    """

    CHANNEL_BITS = 20
    WINDOW_BITS = 22
    ORDINAL_BITS = 6

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._keys = [h64("feistel", seed, r) for r in range(4)]

    def _check(self, payload: int) -> int:
        return h64("video-check", self._seed, payload) & 0xFFFF

    def encode(self, channel: int, window: int, ordinal: int) -> str:
        if not (
            0 <= channel < 1 << self.CHANNEL_BITS
            and 0 <= window < 1 << self.WINDOW_BITS
            and 0 <= ordinal < 1 << self.ORDINAL_BITS
        ):
            raise ValueError("video id field out of range")
        payload = (channel << 28) | (window << 6) | ordinal
        left, right = payload >> 16, ((payload & 0xFFFF) << 16) | self._check(payload)
        for key in self._keys:
            left, right = right, left ^ (h64(right, key) & _MASK32)
        raw = ((left << 32) | right).to_bytes(8, "big")
        return b64url(raw)[:11]

    def decode(self, video_id: str) -> tuple[int, int, int] | None:
        if len(video_id) != 11:
            return None
        try:
            raw = base64.urlsafe_b64decode(video_id + "=")
        except ValueError:
            return None
        if len(raw) != 8 or b64url(raw)[:11] != video_id:
            return None
        value = int.from_bytes(raw, "big")
        left, right = value >> 32, value & _MASK32
        for key in reversed(self._keys):
            left, right = right ^ (h64(left, key) & _MASK32), left
        payload = (left << 16) | (right >> 16)
        if right & 0xFFFF != self._check(payload):
            return None
        return payload >> 28, (payload >> 6) & ((1 << self.WINDOW_BITS) - 1), payload & 0x3F
