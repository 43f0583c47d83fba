"""The Rumble Livestream API's answer, as documented (v1.0 beta).

Rumble's PHP back end writes an empty object as `[]` and some ids as numbers;
both are read leniently. Times carry the account's UTC offset and become UTC.
Read with `parsing.parse_batch` over `livestreams`: a malformed livestream is
counted (`unreadable_livestreams`), not fatal to the answer.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, JsonValue, PrivateAttr

from shared.platforms.base import UtcDatetime


def _empty_as_none(value: object) -> object:
    # PHP writes an empty object as `[]`.
    return None if value == [] else value


def _id_text(value: object) -> object:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Id = Annotated[str, BeforeValidator(_id_text)]
Count = Annotated[int, Field(ge=0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Follower(_Model):
    """A recent follower."""

    username: str
    followed_on: UtcDatetime


class Followers(_Model):
    """The account's followers."""

    num_followers: Count
    """Followers of this user or channel."""
    num_followers_total: Count | None = None
    """Followers of all the owner's channels and profile together."""
    latest_follower: Annotated[Follower | None, BeforeValidator(_empty_as_none)] = None
    recent_followers: list[Follower] = []


class Subscriber(_Model):
    """A recent (paid) subscriber."""

    username: str = ""
    amount_cents: Count | None = None
    amount_dollars: float | None = None
    subscribed_on: UtcDatetime | None = None


class Subscribers(_Model):
    """The account's paid subscribers."""

    num_subscribers: Count | None = None
    num_subscribers_total: Count | None = None
    latest_subscriber: Annotated[Subscriber | None, BeforeValidator(_empty_as_none)] = None
    recent_subscribers: list[Subscriber] = []


class Category(_Model):
    """A stream category."""

    slug: str = ""
    title: str = ""


class Categories(_Model):
    """A livestream's primary and secondary category."""

    primary: Annotated[Category | None, BeforeValidator(_empty_as_none)] = None
    secondary: Annotated[Category | None, BeforeValidator(_empty_as_none)] = None


class ChatMessage(_Model):
    """A chat message (Rumble gives them no ids)."""

    username: str
    text: str = ""
    created_on: UtcDatetime
    badges: JsonValue = None


class Rant(ChatMessage):
    """A paid chat message."""

    amount_cents: Count | None = None
    amount_dollars: float | None = None
    expires_on: JsonValue = None


class Chat(_Model):
    """A livestream's recent chat."""

    latest_message: Annotated[ChatMessage | None, BeforeValidator(_empty_as_none)] = None
    recent_messages: list[ChatMessage] = []
    latest_rant: Annotated[Rant | None, BeforeValidator(_empty_as_none)] = None
    recent_rants: list[Rant] = []


class Livestream(_Model):
    """One of the account's livestreams, listed from creation until it ends."""

    id: Id
    """Base 36."""
    title: str = ""
    created_on: UtcDatetime
    """When the stream was created: for a stream set up ahead, earlier than it went live."""
    is_live: bool
    visibility: str = ""
    categories: Annotated[Categories | None, BeforeValidator(_empty_as_none)] = None
    likes: Count | None = None
    dislikes: Count | None = None
    watching_now: Count | None = None
    chat: Annotated[Chat | None, BeforeValidator(_empty_as_none)] = None


class RumbleData(_Model):
    """The whole answer for one key."""

    now: int | None = None
    """The answer's time, epoch seconds."""
    type: Literal["user", "channel"]
    user_id: Id
    username: str = ""
    channel_id: Id | None = None
    """Set when the key is a channel's."""
    channel_name: str | None = None
    since: JsonValue = None
    max_num_results: int | None = None
    followers: Followers
    subscribers: Annotated[Subscribers | None, BeforeValidator(_empty_as_none)] = None
    livestreams: list[Livestream] = []
    _unreadable: int = PrivateAttr(default=0)

    @property
    def unreadable_livestreams(self) -> int:
        """Entries of `livestreams` that were malformed and left out: while there are
        any, seeing no live stream does not mean offline."""
        return self._unreadable

    def with_unreadable(self, count: int) -> "RumbleData":
        self._unreadable = count
        return self

    @property
    def account_id(self) -> str:
        """The id StreamTrack tracks the account by: the channel's, else the user's."""
        return self.channel_id if self.type == "channel" and self.channel_id else self.user_id

    @property
    def account_name(self) -> str | None:
        """The name the account is known and linked by: a channel key's channel name,
        a user key's username; None when the answer carries neither (Rumble's own
        documented example has no `username`)."""
        name = self.channel_name if self.type == "channel" else self.username
        return (name.strip() or None) if name else None
