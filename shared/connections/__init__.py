"""Connected channels: a channel's owner connects the account by OAuth for a team.

models.py     request and response bodies of the connection endpoints
state.py      the signed, single-use `state` of an authorization (PyJWT, HS256)
providers.py  the platforms' OAuth providers and owner reports, from the registry
store.py      the SQL: attempts, connections, sealed tokens, runs
service.py    start, callback (exchange, ownership check, sealing), list, disconnect
tokens.py     a usable access token (refresh before expiry), the upkeep timer,
              broken connections
analytics.py  the daily import of owner reports (settling days upserted)
eventsub.py   the broadcasters whose push subscriptions are their own (cost 0)

What a platform offers is its spec's `connect` (`shared.platforms.oauth`);
nothing here names a platform.
"""
