-- Issue 19 follow-up: the YouTube quota governor re-checks an upcoming
-- broadcast often from shortly before its scheduled start, so it must
-- remember that start between cycles (videos.list
-- liveStreamingDetails.scheduledStartTime). Backend only, like the rest of
-- channel_poll_state (RLS on, no policies, nothing granted).
alter table public.channel_poll_state
  add column upcoming_start_at timestamptz null;
comment on column public.channel_poll_state.upcoming_start_at is
  'YouTube: the earliest scheduled start of the channel''s upcoming candidate videos, as videos.list last reported it (null: none known).';
