-- Kick, the fourth platform (shared/platforms/kick/). Placed before 'rumble' so
-- the enum's order stays the registry's (shared.platforms.registry.Platform):
-- Twitch, YouTube, Kick, Rumble. Nothing else in the schema changes: a Kick
-- channel is polled with the server's app token, so it needs no credential.
alter type public.platform add value if not exists 'kick' before 'rumble';
