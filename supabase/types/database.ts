
export type Json = string | number | boolean | null | { [key: string]: Json | undefined } | Json[]

export type Database = {
  
  "public": {
          Tables: {
            "alert_deliveries": {
                  Row: {
                    "attempts": number,"channel_id": string,"created_at": string,"dedupe_key": string,"delivered_at": string | null,"destination_id": string | null,"event": Database["public"]['Enums']["alert_event"],"id": number,"last_error": string | null,"last_status_code": number | null,"next_attempt_at": string,"occurred_at": string,"payload": NonNullable<Json>,"rule_id": string | null,"status": string,"team_id": string,"template": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "attempts"?: number,"channel_id": string,"created_at"?: string,"dedupe_key": string,"delivered_at"?: string | null,"destination_id"?: string | null,"event": Database["public"]['Enums']["alert_event"],"id"?: never,"last_error"?: string | null,"last_status_code"?: number | null,"next_attempt_at"?: string,"occurred_at": string,"payload": NonNullable<Json>,"rule_id"?: string | null,"status"?: string,"team_id": string,"template"?: string | null
                  }
                  Update: {
                    "attempts"?: number,"channel_id"?: string,"created_at"?: string,"dedupe_key"?: string,"delivered_at"?: string | null,"destination_id"?: string | null,"event"?: Database["public"]['Enums']["alert_event"],"id"?: never,"last_error"?: string | null,"last_status_code"?: number | null,"next_attempt_at"?: string,"occurred_at"?: string,"payload"?: NonNullable<Json>,"rule_id"?: string | null,"status"?: string,"team_id"?: string,"template"?: string | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "alert_deliveries_channel_id_fkey"
      columns: ["channel_id"]
isOneToOne: false
      referencedRelation: "channels"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "alert_deliveries_destination_id_fkey"
      columns: ["destination_id"]
isOneToOne: false
      referencedRelation: "alert_destinations"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "alert_deliveries_rule_id_fkey"
      columns: ["rule_id"]
isOneToOne: false
      referencedRelation: "alert_rules"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "alert_deliveries_team_id_fkey"
      columns: ["team_id"]
isOneToOne: false
      referencedRelation: "teams"
      referencedColumns: ["id"]
    }
                  ]
                },"alert_destination_secrets": {
                  Row: {
                    "auth_failures": number,"ciphertext": string,"destination_id": string,"key_version": number,"lease_until": string | null,"nonce": string,"paused_until": string | null,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "auth_failures"?: number,"ciphertext": string,"destination_id": string,"key_version": number,"lease_until"?: string | null,"nonce": string,"paused_until"?: string | null,"updated_at"?: string
                  }
                  Update: {
                    "auth_failures"?: number,"ciphertext"?: string,"destination_id"?: string,"key_version"?: number,"lease_until"?: string | null,"nonce"?: string,"paused_until"?: string | null,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "alert_destination_secrets_destination_id_fkey"
      columns: ["destination_id"]
isOneToOne: true
      referencedRelation: "alert_destinations"
      referencedColumns: ["id"]
    }
                  ]
                },"alert_destinations": {
                  Row: {
                    "created_at": string,"created_by": string | null,"disabled_at": string | null,"disabled_reason": string | null,"enabled": boolean,"id": string,"kind": Database["public"]['Enums']["alert_destination_kind"],"name": string,"target_host": string,"team_id": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"created_by"?: string | null,"disabled_at"?: string | null,"disabled_reason"?: string | null,"enabled"?: boolean,"id"?: string,"kind": Database["public"]['Enums']["alert_destination_kind"],"name": string,"target_host": string,"team_id": string,"updated_at"?: string
                  }
                  Update: {
                    "created_at"?: string,"created_by"?: string | null,"disabled_at"?: string | null,"disabled_reason"?: string | null,"enabled"?: boolean,"id"?: string,"kind"?: Database["public"]['Enums']["alert_destination_kind"],"name"?: string,"target_host"?: string,"team_id"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "alert_destinations_team_id_fkey"
      columns: ["team_id"]
isOneToOne: false
      referencedRelation: "teams"
      referencedColumns: ["id"]
    }
                  ]
                },"alert_rules": {
                  Row: {
                    "channel_id": string | null,"created_at": string,"created_by": string | null,"destination_id": string,"enabled": boolean,"event": Database["public"]['Enums']["alert_event"],"id": string,"team_id": string,"template": string | null,"updated_at": string,"viewer_threshold": number | null
                  }
                  ComputedFields: never
                  Insert: {
                    "channel_id"?: string | null,"created_at"?: string,"created_by"?: string | null,"destination_id": string,"enabled"?: boolean,"event": Database["public"]['Enums']["alert_event"],"id"?: string,"team_id": string,"template"?: string | null,"updated_at"?: string,"viewer_threshold"?: number | null
                  }
                  Update: {
                    "channel_id"?: string | null,"created_at"?: string,"created_by"?: string | null,"destination_id"?: string,"enabled"?: boolean,"event"?: Database["public"]['Enums']["alert_event"],"id"?: string,"team_id"?: string,"template"?: string | null,"updated_at"?: string,"viewer_threshold"?: number | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "alert_rules_channel_fkey"
      columns: ["team_id","channel_id"]
isOneToOne: false
      referencedRelation: "team_channels"
      referencedColumns: ["team_id","channel_id"]
    },{
      foreignKeyName: "alert_rules_destination_fkey"
      columns: ["team_id","destination_id"]
isOneToOne: false
      referencedRelation: "alert_destinations"
      referencedColumns: ["team_id","id"]
    },{
      foreignKeyName: "alert_rules_team_id_fkey"
      columns: ["team_id"]
isOneToOne: false
      referencedRelation: "teams"
      referencedColumns: ["id"]
    }
                  ]
                },"analytics_import_runs": {
                  Row: {
                    "channels": number,"days_written": number,"errors": NonNullable<Json>,"finished_at": string | null,"id": number,"requests": number,"started_at": string,"status": string,"videos_written": number
                  }
                  ComputedFields: never
                  Insert: {
                    "channels"?: number,"days_written"?: number,"errors"?: NonNullable<Json>,"finished_at"?: string | null,"id"?: never,"requests"?: number,"started_at"?: string,"status"?: string,"videos_written"?: number
                  }
                  Update: {
                    "channels"?: number,"days_written"?: number,"errors"?: NonNullable<Json>,"finished_at"?: string | null,"id"?: never,"requests"?: number,"started_at"?: string,"status"?: string,"videos_written"?: number
                  }
                  Relationships: [
                    
                  ]
                },"audit_log": {
                  Row: {
                    "action": string,"actor": string | null,"actor_id": string | null,"created_at": string,"details": NonNullable<Json>,"id": number,"target_id": string | null,"target_type": string | null,"team_id": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "action": string,"actor"?: string | null,"actor_id"?: string | null,"created_at"?: string,"details"?: NonNullable<Json>,"id"?: never,"target_id"?: string | null,"target_type"?: string | null,"team_id"?: string | null
                  }
                  Update: {
                    "action"?: string,"actor"?: string | null,"actor_id"?: string | null,"created_at"?: string,"details"?: NonNullable<Json>,"id"?: never,"target_id"?: string | null,"target_type"?: string | null,"team_id"?: string | null
                  }
                  Relationships: [
                    
                  ]
                },"billing_customers": {
                  Row: {
                    "created_at": string,"stripe_customer_id": string,"team_id": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"stripe_customer_id": string,"team_id": string,"updated_at"?: string
                  }
                  Update: {
                    "created_at"?: string,"stripe_customer_id"?: string,"team_id"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "billing_customers_team_id_fkey"
      columns: ["team_id"]
isOneToOne: true
      referencedRelation: "teams"
      referencedColumns: ["id"]
    }
                  ]
                },"billing_subscriptions": {
                  Row: {
                    "cancel_at_period_end": boolean,"canceled_at": string | null,"created_at": string,"current_period_end": string | null,"current_period_start": string | null,"grace_until": string | null,"plan_id": string | null,"price_id": string | null,"status": string,"stripe_subscription_id": string,"stripe_updated_at": string | null,"team_id": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "cancel_at_period_end"?: boolean,"canceled_at"?: string | null,"created_at"?: string,"current_period_end"?: string | null,"current_period_start"?: string | null,"grace_until"?: string | null,"plan_id"?: string | null,"price_id"?: string | null,"status": string,"stripe_subscription_id": string,"stripe_updated_at"?: string | null,"team_id": string,"updated_at"?: string
                  }
                  Update: {
                    "cancel_at_period_end"?: boolean,"canceled_at"?: string | null,"created_at"?: string,"current_period_end"?: string | null,"current_period_start"?: string | null,"grace_until"?: string | null,"plan_id"?: string | null,"price_id"?: string | null,"status"?: string,"stripe_subscription_id"?: string,"stripe_updated_at"?: string | null,"team_id"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "billing_subscriptions_plan_id_fkey"
      columns: ["plan_id"]
isOneToOne: false
      referencedRelation: "plans"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "billing_subscriptions_team_id_fkey"
      columns: ["team_id"]
isOneToOne: false
      referencedRelation: "teams"
      referencedColumns: ["id"]
    }
                  ]
                },"channel_analytics_daily": {
                  Row: {
                    "average_view_duration": number,"channel_id": string,"day": string,"estimated_minutes_watched": number,"fetched_at": string,"subscribers_gained": number,"subscribers_lost": number,"updated_at": string,"views": number
                  }
                  ComputedFields: never
                  Insert: {
                    "average_view_duration": number,"channel_id": string,"day": string,"estimated_minutes_watched": number,"fetched_at": string,"subscribers_gained": number,"subscribers_lost": number,"updated_at"?: string,"views": number
                  }
                  Update: {
                    "average_view_duration"?: number,"channel_id"?: string,"day"?: string,"estimated_minutes_watched"?: number,"fetched_at"?: string,"subscribers_gained"?: number,"subscribers_lost"?: number,"updated_at"?: string,"views"?: number
                  }
                  Relationships: [
                    {
      foreignKeyName: "channel_analytics_daily_channel_id_fkey"
      columns: ["channel_id"]
isOneToOne: false
      referencedRelation: "channels"
      referencedColumns: ["id"]
    }
                  ]
                },"channel_analytics_videos": {
                  Row: {
                    "average_concurrent_viewers": number | null,"average_view_duration": number,"channel_id": string,"estimated_minutes_watched": number,"fetched_at": string,"first_day": string,"last_day": string,"peak_concurrent_viewers": number | null,"updated_at": string,"video_id": string,"views": number
                  }
                  ComputedFields: never
                  Insert: {
                    "average_concurrent_viewers"?: number | null,"average_view_duration": number,"channel_id": string,"estimated_minutes_watched": number,"fetched_at": string,"first_day": string,"last_day": string,"peak_concurrent_viewers"?: number | null,"updated_at"?: string,"video_id": string,"views": number
                  }
                  Update: {
                    "average_concurrent_viewers"?: number | null,"average_view_duration"?: number,"channel_id"?: string,"estimated_minutes_watched"?: number,"fetched_at"?: string,"first_day"?: string,"last_day"?: string,"peak_concurrent_viewers"?: number | null,"updated_at"?: string,"video_id"?: string,"views"?: number
                  }
                  Relationships: [
                    {
      foreignKeyName: "channel_analytics_videos_channel_id_fkey"
      columns: ["channel_id"]
isOneToOne: false
      referencedRelation: "channels"
      referencedColumns: ["id"]
    }
                  ]
                },"channel_connection_attempts": {
                  Row: {
                    "channel_id": string,"created_at": string,"expires_at": string,"id": string,"key_version": number,"platform": Database["public"]['Enums']["platform"],"team_id": string,"used_at": string | null,"user_id": string,"verifier_ciphertext": string,"verifier_nonce": string
                  }
                  ComputedFields: never
                  Insert: {
                    "channel_id": string,"created_at"?: string,"expires_at": string,"id": string,"key_version": number,"platform": Database["public"]['Enums']["platform"],"team_id": string,"used_at"?: string | null,"user_id": string,"verifier_ciphertext": string,"verifier_nonce": string
                  }
                  Update: {
                    "channel_id"?: string,"created_at"?: string,"expires_at"?: string,"id"?: string,"key_version"?: number,"platform"?: Database["public"]['Enums']["platform"],"team_id"?: string,"used_at"?: string | null,"user_id"?: string,"verifier_ciphertext"?: string,"verifier_nonce"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "channel_connection_attempts_channel_id_fkey"
      columns: ["channel_id"]
isOneToOne: false
      referencedRelation: "channels"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "channel_connection_attempts_team_id_fkey"
      columns: ["team_id"]
isOneToOne: false
      referencedRelation: "teams"
      referencedColumns: ["id"]
    }
                  ]
                },"channel_connection_tokens": {
                  Row: {
                    "access_ciphertext": string,"access_expires_at": string | null,"access_nonce": string,"connection_id": string,"failures": number,"key_version": number,"last_error": string | null,"refresh_ciphertext": string | null,"refresh_nonce": string | null,"refreshed_at": string | null,"updated_at": string,"validated_at": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "access_ciphertext": string,"access_expires_at"?: string | null,"access_nonce": string,"connection_id": string,"failures"?: number,"key_version": number,"last_error"?: string | null,"refresh_ciphertext"?: string | null,"refresh_nonce"?: string | null,"refreshed_at"?: string | null,"updated_at"?: string,"validated_at"?: string | null
                  }
                  Update: {
                    "access_ciphertext"?: string,"access_expires_at"?: string | null,"access_nonce"?: string,"connection_id"?: string,"failures"?: number,"key_version"?: number,"last_error"?: string | null,"refresh_ciphertext"?: string | null,"refresh_nonce"?: string | null,"refreshed_at"?: string | null,"updated_at"?: string,"validated_at"?: string | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "channel_connection_tokens_connection_id_fkey"
      columns: ["connection_id"]
isOneToOne: true
      referencedRelation: "channel_connections"
      referencedColumns: ["id"]
    }
                  ]
                },"channel_connections": {
                  Row: {
                    "account_id": string,"broken_at": string | null,"broken_reason": string | null,"channel_id": string,"connected_at": string,"connected_by": string | null,"id": string,"platform": Database["public"]['Enums']["platform"],"scopes": (string)[],"status": string,"team_id": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "account_id": string,"broken_at"?: string | null,"broken_reason"?: string | null,"channel_id": string,"connected_at"?: string,"connected_by"?: string | null,"id"?: string,"platform": Database["public"]['Enums']["platform"],"scopes"?: (string)[],"status"?: string,"team_id": string,"updated_at"?: string
                  }
                  Update: {
                    "account_id"?: string,"broken_at"?: string | null,"broken_reason"?: string | null,"channel_id"?: string,"connected_at"?: string,"connected_by"?: string | null,"id"?: string,"platform"?: Database["public"]['Enums']["platform"],"scopes"?: (string)[],"status"?: string,"team_id"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "channel_connections_tracking_fkey"
      columns: ["team_id","channel_id"]
isOneToOne: true
      referencedRelation: "team_channels"
      referencedColumns: ["team_id","channel_id"]
    }
                  ]
                },"channel_credentials": {
                  Row: {
                    "channel_id": string,"ciphertext": string,"created_at": string,"key_version": number,"kind": string,"nonce": string,"team_id": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "channel_id": string,"ciphertext": string,"created_at"?: string,"key_version": number,"kind": string,"nonce": string,"team_id": string,"updated_at"?: string
                  }
                  Update: {
                    "channel_id"?: string,"ciphertext"?: string,"created_at"?: string,"key_version"?: number,"kind"?: string,"nonce"?: string,"team_id"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "channel_credentials_tracking_fkey"
      columns: ["team_id","channel_id"]
isOneToOne: false
      referencedRelation: "team_channels"
      referencedColumns: ["team_id","channel_id"]
    }
                  ]
                },"channel_poll_state": {
                  Row: {
                    "candidate_video_ids": (string)[],"channel_id": string,"consecutive_failures": number,"feed_checked_at": string | null,"last_attempt_at": string | null,"last_error": string | null,"last_polled_at": string | null,"last_sample_at": string | null,"last_sample_live": boolean | null,"last_sample_viewers": number | null,"last_session_id": number | null,"settled_video_ids": (string)[],"stats_checked_at": string | null,"upcoming_start_at": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "candidate_video_ids"?: (string)[],"channel_id": string,"consecutive_failures"?: number,"feed_checked_at"?: string | null,"last_attempt_at"?: string | null,"last_error"?: string | null,"last_polled_at"?: string | null,"last_sample_at"?: string | null,"last_sample_live"?: boolean | null,"last_sample_viewers"?: number | null,"last_session_id"?: number | null,"settled_video_ids"?: (string)[],"stats_checked_at"?: string | null,"upcoming_start_at"?: string | null
                  }
                  Update: {
                    "candidate_video_ids"?: (string)[],"channel_id"?: string,"consecutive_failures"?: number,"feed_checked_at"?: string | null,"last_attempt_at"?: string | null,"last_error"?: string | null,"last_polled_at"?: string | null,"last_sample_at"?: string | null,"last_sample_live"?: boolean | null,"last_sample_viewers"?: number | null,"last_session_id"?: number | null,"settled_video_ids"?: (string)[],"stats_checked_at"?: string | null,"upcoming_start_at"?: string | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "channel_poll_state_channel_id_fkey"
      columns: ["channel_id"]
isOneToOne: true
      referencedRelation: "channels"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "channel_poll_state_last_session_id_fkey"
      columns: ["last_session_id"]
isOneToOne: false
      referencedRelation: "stream_sessions"
      referencedColumns: ["id"]
    }
                  ]
                },"channel_rollups_daily": {
                  Row: {
                    "channel_id": string,"day": string,"followers_gained": number | null,"known_viewer_sample_count": number,"live_sample_count": number,"live_seconds": number,"peak_viewers": number | null,"updated_at": string,"viewer_count_sum": number,"viewer_seconds": number
                  }
                  ComputedFields: never
                  Insert: {
                    "channel_id": string,"day": string,"followers_gained"?: number | null,"known_viewer_sample_count"?: number,"live_sample_count"?: number,"live_seconds"?: number,"peak_viewers"?: number | null,"updated_at"?: string,"viewer_count_sum"?: number,"viewer_seconds"?: number
                  }
                  Update: {
                    "channel_id"?: string,"day"?: string,"followers_gained"?: number | null,"known_viewer_sample_count"?: number,"live_sample_count"?: number,"live_seconds"?: number,"peak_viewers"?: number | null,"updated_at"?: string,"viewer_count_sum"?: number,"viewer_seconds"?: number
                  }
                  Relationships: [
                    {
      foreignKeyName: "channel_rollups_daily_channel_id_fkey"
      columns: ["channel_id"]
isOneToOne: false
      referencedRelation: "channels"
      referencedColumns: ["id"]
    }
                  ]
                },"channel_rollups_hourly": {
                  Row: {
                    "channel_id": string,"followers_gained": number | null,"hour": string,"known_viewer_sample_count": number,"live_sample_count": number,"live_seconds": number,"peak_viewers": number | null,"updated_at": string,"viewer_count_sum": number,"viewer_seconds": number
                  }
                  ComputedFields: never
                  Insert: {
                    "channel_id": string,"followers_gained"?: number | null,"hour": string,"known_viewer_sample_count"?: number,"live_sample_count"?: number,"live_seconds"?: number,"peak_viewers"?: number | null,"updated_at"?: string,"viewer_count_sum"?: number,"viewer_seconds"?: number
                  }
                  Update: {
                    "channel_id"?: string,"followers_gained"?: number | null,"hour"?: string,"known_viewer_sample_count"?: number,"live_sample_count"?: number,"live_seconds"?: number,"peak_viewers"?: number | null,"updated_at"?: string,"viewer_count_sum"?: number,"viewer_seconds"?: number
                  }
                  Relationships: [
                    {
      foreignKeyName: "channel_rollups_hourly_channel_id_fkey"
      columns: ["channel_id"]
isOneToOne: false
      referencedRelation: "channels"
      referencedColumns: ["id"]
    }
                  ]
                },"channel_stats": {
                  Row: {
                    "channel_id": string,"followers": number | null,"observed_at": string,"subscribers": number | null
                  }
                  ComputedFields: never
                  Insert: {
                    "channel_id": string,"followers"?: number | null,"observed_at": string,"subscribers"?: number | null
                  }
                  Update: {
                    "channel_id"?: string,"followers"?: number | null,"observed_at"?: string,"subscribers"?: number | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "channel_stats_channel_id_fkey"
      columns: ["channel_id"]
isOneToOne: false
      referencedRelation: "channels"
      referencedColumns: ["id"]
    }
                  ]
                },"channel_status": {
                  Row: {
                    "category": string | null,"changed_at": string,"channel_id": string,"is_live": boolean,"last_checked_at": string | null,"platform_stream_id": string | null,"session_id": number | null,"started_at": string | null,"title": string | null,"viewer_count": number | null
                  }
                  ComputedFields: never
                  Insert: {
                    "category"?: string | null,"changed_at"?: string,"channel_id": string,"is_live"?: boolean,"last_checked_at"?: string | null,"platform_stream_id"?: string | null,"session_id"?: number | null,"started_at"?: string | null,"title"?: string | null,"viewer_count"?: number | null
                  }
                  Update: {
                    "category"?: string | null,"changed_at"?: string,"channel_id"?: string,"is_live"?: boolean,"last_checked_at"?: string | null,"platform_stream_id"?: string | null,"session_id"?: number | null,"started_at"?: string | null,"title"?: string | null,"viewer_count"?: number | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "channel_status_channel_id_fkey"
      columns: ["channel_id"]
isOneToOne: true
      referencedRelation: "channels"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "channel_status_session_id_fkey"
      columns: ["session_id"]
isOneToOne: false
      referencedRelation: "stream_sessions"
      referencedColumns: ["id"]
    }
                  ]
                },"channels": {
                  Row: {
                    "avatar_url": string | null,"created_at": string,"display_name": string | null,"handle": string | null,"id": string,"platform": Database["public"]['Enums']["platform"],"platform_channel_id": string,"requires_credential": boolean,"updated_at": string,"url": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "avatar_url"?: string | null,"created_at"?: string,"display_name"?: string | null,"handle"?: string | null,"id"?: string,"platform": Database["public"]['Enums']["platform"],"platform_channel_id": string,"requires_credential"?: boolean,"updated_at"?: string,"url"?: string | null
                  }
                  Update: {
                    "avatar_url"?: string | null,"created_at"?: string,"display_name"?: string | null,"handle"?: string | null,"id"?: string,"platform"?: Database["public"]['Enums']["platform"],"platform_channel_id"?: string,"requires_credential"?: boolean,"updated_at"?: string,"url"?: string | null
                  }
                  Relationships: [
                    
                  ]
                },"directory_claim_attributes": {
                  Row: {
                    "claim": string,"provider": string,"source_path": (string)[]
                  }
                  ComputedFields: never
                  Insert: {
                    "claim": string,"provider": string,"source_path": (string)[]
                  }
                  Update: {
                    "claim"?: string,"provider"?: string,"source_path"?: (string)[]
                  }
                  Relationships: [
                    
                  ]
                },"directory_delta_links": {
                  Row: {
                    "delta_link": string,"full_sync_at": string,"group_ids": (string)[],"tenant": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "delta_link": string,"full_sync_at": string,"group_ids": (string)[],"tenant": string,"updated_at"?: string
                  }
                  Update: {
                    "delta_link"?: string,"full_sync_at"?: string,"group_ids"?: (string)[],"tenant"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    
                  ]
                },"directory_group_members": {
                  Row: {
                    "email": string | null,"group_id": string,"member_id": string,"provider": string,"tenant": string
                  }
                  ComputedFields: never
                  Insert: {
                    "email"?: string | null,"group_id": string,"member_id": string,"provider": string,"tenant": string
                  }
                  Update: {
                    "email"?: string | null,"group_id"?: string,"member_id"?: string,"provider"?: string,"tenant"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "directory_group_members_provider_tenant_group_id_fkey"
      columns: ["provider","tenant","group_id"]
isOneToOne: false
      referencedRelation: "directory_groups"
      referencedColumns: ["provider","tenant","group_id"]
    }
                  ]
                },"directory_groups": {
                  Row: {
                    "deleted": boolean,"group_id": string,"provider": string,"synced_at": string,"tenant": string
                  }
                  ComputedFields: never
                  Insert: {
                    "deleted"?: boolean,"group_id": string,"provider": string,"synced_at"?: string,"tenant": string
                  }
                  Update: {
                    "deleted"?: boolean,"group_id"?: string,"provider"?: string,"synced_at"?: string,"tenant"?: string
                  }
                  Relationships: [
                    
                  ]
                },"directory_mappings": {
                  Row: {
                    "created_at": string,"created_by": string | null,"group_id": string,"id": string,"provider": string,"role": Database["public"]['Enums']["team_role"],"team_id": string,"tenant": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"created_by"?: string | null,"group_id": string,"id"?: string,"provider": string,"role"?: Database["public"]['Enums']["team_role"],"team_id": string,"tenant": string,"updated_at"?: string
                  }
                  Update: {
                    "created_at"?: string,"created_by"?: string | null,"group_id"?: string,"id"?: string,"provider"?: string,"role"?: Database["public"]['Enums']["team_role"],"team_id"?: string,"tenant"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "directory_mappings_team_id_fkey"
      columns: ["team_id"]
isOneToOne: false
      referencedRelation: "teams"
      referencedColumns: ["id"]
    }
                  ]
                },"directory_members": {
                  Row: {
                    "mapping_ids": (string)[],"role": Database["public"]['Enums']["team_role"],"synced_at": string,"team_id": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "mapping_ids"?: (string)[],"role": Database["public"]['Enums']["team_role"],"synced_at"?: string,"team_id": string,"user_id": string
                  }
                  Update: {
                    "mapping_ids"?: (string)[],"role"?: Database["public"]['Enums']["team_role"],"synced_at"?: string,"team_id"?: string,"user_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "directory_members_team_id_user_id_fkey"
      columns: ["team_id","user_id"]
isOneToOne: true
      referencedRelation: "team_members"
      referencedColumns: ["team_id","user_id"]
    }
                  ]
                },"directory_pending": {
                  Row: {
                    "created_at": string,"email": string | null,"mapping_ids": (string)[],"member_id": string,"provider": string,"role": Database["public"]['Enums']["team_role"],"team_id": string,"tenant": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"email"?: string | null,"mapping_ids"?: (string)[],"member_id": string,"provider": string,"role": Database["public"]['Enums']["team_role"],"team_id": string,"tenant": string
                  }
                  Update: {
                    "created_at"?: string,"email"?: string | null,"mapping_ids"?: (string)[],"member_id"?: string,"provider"?: string,"role"?: Database["public"]['Enums']["team_role"],"team_id"?: string,"tenant"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "directory_pending_team_id_fkey"
      columns: ["team_id"]
isOneToOne: false
      referencedRelation: "teams"
      referencedColumns: ["id"]
    }
                  ]
                },"directory_sync_runs": {
                  Row: {
                    "dry_run": boolean,"finished_at": string,"id": string,"plan": NonNullable<Json>,"problems": NonNullable<Json>,"requested_by": string | null,"started_at": string,"status": string,"summary": NonNullable<Json>,"team_id": string,"trigger": string
                  }
                  ComputedFields: never
                  Insert: {
                    "dry_run"?: boolean,"finished_at"?: string,"id"?: string,"plan"?: NonNullable<Json>,"problems"?: NonNullable<Json>,"requested_by"?: string | null,"started_at": string,"status": string,"summary"?: NonNullable<Json>,"team_id": string,"trigger": string
                  }
                  Update: {
                    "dry_run"?: boolean,"finished_at"?: string,"id"?: string,"plan"?: NonNullable<Json>,"problems"?: NonNullable<Json>,"requested_by"?: string | null,"started_at"?: string,"status"?: string,"summary"?: NonNullable<Json>,"team_id"?: string,"trigger"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "directory_sync_runs_team_id_fkey"
      columns: ["team_id"]
isOneToOne: false
      referencedRelation: "teams"
      referencedColumns: ["id"]
    }
                  ]
                },"monitor_runs": {
                  Row: {
                    "channels_checked": number,"cycle_id": string | null,"duration_ms": number | null,"errors": NonNullable<Json>,"finished_at": string | null,"id": number,"past_due": boolean,"quota_units": NonNullable<Json>,"requests": NonNullable<Json>,"samples_written": number,"shard_count": number | null,"shard_index": number | null,"started_at": string,"status": string,"trigger": string,"units_per_live_sample": NonNullable<Json>
                  }
                  ComputedFields: never
                  Insert: {
                    "channels_checked"?: number,"cycle_id"?: string | null,"duration_ms"?: number | null,"errors"?: NonNullable<Json>,"finished_at"?: string | null,"id"?: never,"past_due"?: boolean,"quota_units"?: NonNullable<Json>,"requests"?: NonNullable<Json>,"samples_written"?: number,"shard_count"?: number | null,"shard_index"?: number | null,"started_at"?: string,"status"?: string,"trigger"?: string,"units_per_live_sample"?: NonNullable<Json>
                  }
                  Update: {
                    "channels_checked"?: number,"cycle_id"?: string | null,"duration_ms"?: number | null,"errors"?: NonNullable<Json>,"finished_at"?: string | null,"id"?: never,"past_due"?: boolean,"quota_units"?: NonNullable<Json>,"requests"?: NonNullable<Json>,"samples_written"?: number,"shard_count"?: number | null,"shard_index"?: number | null,"started_at"?: string,"status"?: string,"trigger"?: string,"units_per_live_sample"?: NonNullable<Json>
                  }
                  Relationships: [
                    
                  ]
                },"plans": {
                  Row: {
                    "created_at": string,"features": NonNullable<Json>,"id": string,"is_public": boolean,"max_channels": number,"min_sample_interval_seconds": number,"name": string,"retention_days": number,"sort_order": number,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"features"?: NonNullable<Json>,"id": string,"is_public"?: boolean,"max_channels": number,"min_sample_interval_seconds": number,"name": string,"retention_days": number,"sort_order"?: number,"updated_at"?: string
                  }
                  Update: {
                    "created_at"?: string,"features"?: NonNullable<Json>,"id"?: string,"is_public"?: boolean,"max_channels"?: number,"min_sample_interval_seconds"?: number,"name"?: string,"retention_days"?: number,"sort_order"?: number,"updated_at"?: string
                  }
                  Relationships: [
                    
                  ]
                },"platform_quota_usage": {
                  Row: {
                    "platform": Database["public"]['Enums']["platform"],"quota_day": string,"requests": number,"units": number,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "platform": Database["public"]['Enums']["platform"],"quota_day": string,"requests"?: number,"units"?: number,"updated_at"?: string
                  }
                  Update: {
                    "platform"?: Database["public"]['Enums']["platform"],"quota_day"?: string,"requests"?: number,"units"?: number,"updated_at"?: string
                  }
                  Relationships: [
                    
                  ]
                },"push_deliveries": {
                  Row: {
                    "attempts": number,"kind": string,"last_error": string | null,"message_id": string,"payload": NonNullable<Json>,"platform": Database["public"]['Enums']["platform"],"processed_at": string | null,"received_at": string,"sent_at": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "attempts"?: number,"kind": string,"last_error"?: string | null,"message_id": string,"payload": NonNullable<Json>,"platform": Database["public"]['Enums']["platform"],"processed_at"?: string | null,"received_at"?: string,"sent_at"?: string | null
                  }
                  Update: {
                    "attempts"?: number,"kind"?: string,"last_error"?: string | null,"message_id"?: string,"payload"?: NonNullable<Json>,"platform"?: Database["public"]['Enums']["platform"],"processed_at"?: string | null,"received_at"?: string,"sent_at"?: string | null
                  }
                  Relationships: [
                    
                  ]
                },"push_subscriptions": {
                  Row: {
                    "channel_id": string,"cost": number,"created_at": string,"event_type": string,"id": number,"last_error": string | null,"lease_expires_at": string | null,"platform": Database["public"]['Enums']["platform"],"remote_id": string | null,"revoked_reason": string | null,"status": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "channel_id": string,"cost"?: number,"created_at"?: string,"event_type": string,"id"?: never,"last_error"?: string | null,"lease_expires_at"?: string | null,"platform": Database["public"]['Enums']["platform"],"remote_id"?: string | null,"revoked_reason"?: string | null,"status"?: string,"updated_at"?: string
                  }
                  Update: {
                    "channel_id"?: string,"cost"?: number,"created_at"?: string,"event_type"?: string,"id"?: never,"last_error"?: string | null,"lease_expires_at"?: string | null,"platform"?: Database["public"]['Enums']["platform"],"remote_id"?: string | null,"revoked_reason"?: string | null,"status"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "push_subscriptions_channel_id_fkey"
      columns: ["channel_id"]
isOneToOne: false
      referencedRelation: "channels"
      referencedColumns: ["id"]
    }
                  ]
                },"stream_sessions": {
                  Row: {
                    "avg_viewers": number | null,"category": string | null,"channel_id": string,"created_at": string,"ended_at": string | null,"hours_watched": number | null,"id": number,"known_viewer_sample_count": number,"last_seen_at": string,"peak_viewers": number | null,"platform_stream_id": string,"sample_count": number,"started_at": string,"title": string | null,"updated_at": string,"viewer_count_sum": number,"viewer_seconds": number
                  }
                  ComputedFields: never
                  Insert: {
                    "avg_viewers"?: number | null,"category"?: string | null,"channel_id": string,"created_at"?: string,"ended_at"?: string | null,"hours_watched"?: never,"id"?: never,"known_viewer_sample_count"?: number,"last_seen_at": string,"peak_viewers"?: number | null,"platform_stream_id": string,"sample_count"?: number,"started_at": string,"title"?: string | null,"updated_at"?: string,"viewer_count_sum"?: number,"viewer_seconds"?: number
                  }
                  Update: {
                    "avg_viewers"?: number | null,"category"?: string | null,"channel_id"?: string,"created_at"?: string,"ended_at"?: string | null,"hours_watched"?: never,"id"?: never,"known_viewer_sample_count"?: number,"last_seen_at"?: string,"peak_viewers"?: number | null,"platform_stream_id"?: string,"sample_count"?: number,"started_at"?: string,"title"?: string | null,"updated_at"?: string,"viewer_count_sum"?: number,"viewer_seconds"?: number
                  }
                  Relationships: [
                    {
      foreignKeyName: "stream_sessions_channel_id_fkey"
      columns: ["channel_id"]
isOneToOne: false
      referencedRelation: "channels"
      referencedColumns: ["id"]
    }
                  ]
                },"stripe_events": {
                  Row: {
                    "attempts": number,"id": string,"last_error": string | null,"livemode": boolean,"processed_at": string | null,"received_at": string,"stripe_created_at": string | null,"type": string
                  }
                  ComputedFields: never
                  Insert: {
                    "attempts"?: number,"id": string,"last_error"?: string | null,"livemode"?: boolean,"processed_at"?: string | null,"received_at"?: string,"stripe_created_at"?: string | null,"type": string
                  }
                  Update: {
                    "attempts"?: number,"id"?: string,"last_error"?: string | null,"livemode"?: boolean,"processed_at"?: string | null,"received_at"?: string,"stripe_created_at"?: string | null,"type"?: string
                  }
                  Relationships: [
                    
                  ]
                },"team_channels": {
                  Row: {
                    "added_at": string,"added_by": string | null,"channel_id": string,"paused_at": string | null,"paused_by_plan": boolean,"team_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "added_at"?: string,"added_by"?: string | null,"channel_id": string,"paused_at"?: string | null,"paused_by_plan"?: boolean,"team_id": string
                  }
                  Update: {
                    "added_at"?: string,"added_by"?: string | null,"channel_id"?: string,"paused_at"?: string | null,"paused_by_plan"?: boolean,"team_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "team_channels_channel_id_fkey"
      columns: ["channel_id"]
isOneToOne: false
      referencedRelation: "channels"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "team_channels_team_id_fkey"
      columns: ["team_id"]
isOneToOne: false
      referencedRelation: "teams"
      referencedColumns: ["id"]
    }
                  ]
                },"team_invitations": {
                  Row: {
                    "accepted_at": string | null,"accepted_by": string | null,"created_at": string,"email": string,"expires_at": string,"id": string,"invited_by": string | null,"role": Database["public"]['Enums']["team_role"],"team_id": string,"token_hash": string
                  }
                  ComputedFields: never
                  Insert: {
                    "accepted_at"?: string | null,"accepted_by"?: string | null,"created_at"?: string,"email": string,"expires_at"?: string,"id"?: string,"invited_by"?: string | null,"role"?: Database["public"]['Enums']["team_role"],"team_id": string,"token_hash": string
                  }
                  Update: {
                    "accepted_at"?: string | null,"accepted_by"?: string | null,"created_at"?: string,"email"?: string,"expires_at"?: string,"id"?: string,"invited_by"?: string | null,"role"?: Database["public"]['Enums']["team_role"],"team_id"?: string,"token_hash"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "team_invitations_team_id_fkey"
      columns: ["team_id"]
isOneToOne: false
      referencedRelation: "teams"
      referencedColumns: ["id"]
    }
                  ]
                },"team_members": {
                  Row: {
                    "created_at": string,"role": Database["public"]['Enums']["team_role"],"team_id": string,"updated_at": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"role"?: Database["public"]['Enums']["team_role"],"team_id": string,"updated_at"?: string,"user_id": string
                  }
                  Update: {
                    "created_at"?: string,"role"?: Database["public"]['Enums']["team_role"],"team_id"?: string,"updated_at"?: string,"user_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "team_members_team_id_fkey"
      columns: ["team_id"]
isOneToOne: false
      referencedRelation: "teams"
      referencedColumns: ["id"]
    }
                  ]
                },"teams": {
                  Row: {
                    "created_at": string,"created_by": string | null,"id": string,"name": string,"plan_id": string,"require_mfa": boolean,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"created_by"?: string | null,"id"?: string,"name": string,"plan_id"?: string,"require_mfa"?: boolean,"updated_at"?: string
                  }
                  Update: {
                    "created_at"?: string,"created_by"?: string | null,"id"?: string,"name"?: string,"plan_id"?: string,"require_mfa"?: boolean,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "teams_plan_id_fkey"
      columns: ["plan_id"]
isOneToOne: false
      referencedRelation: "plans"
      referencedColumns: ["id"]
    }
                  ]
                },"viewer_samples": {
                  Row: {
                    "channel_id": string,"holds_from": string | null,"is_live": boolean,"max_gap_s": number,"observed_at": string,"session_id": number | null,"viewer_count": number | null
                  }
                  ComputedFields: never
                  Insert: {
                    "channel_id": string,"holds_from"?: string | null,"is_live": boolean,"max_gap_s"?: number,"observed_at": string,"session_id"?: number | null,"viewer_count"?: number | null
                  }
                  Update: {
                    "channel_id"?: string,"holds_from"?: string | null,"is_live"?: boolean,"max_gap_s"?: number,"observed_at"?: string,"session_id"?: number | null,"viewer_count"?: number | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "viewer_samples_channel_id_fkey"
      columns: ["channel_id"]
isOneToOne: false
      referencedRelation: "channels"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "viewer_samples_session_id_fkey"
      columns: ["session_id"]
isOneToOne: false
      referencedRelation: "stream_sessions"
      referencedColumns: ["id"]
    }
                  ]
                }
          }
          Views: {
            [_ in never]: never
          }
          Functions: {
            "accept_team_invitation":
{ Args: { "token": string }; Returns: string
                           },
"analytics_channel_sessions":
{ Args: { "channel_id": string,"range_from": string,"range_to": string }; Returns: {
              "avg_viewers": number,"category": string,"duration_seconds": number,"ended_at": string,"hours_watched": number,"known_viewer_sample_count": number,"last_seen_at": string,"peak_viewers": number,"platform_stream_id": string,"sample_count": number,"session_id": number,"started_at": string,"title": string,"viewer_count_sum": number,"viewer_seconds": number
            }[]
                           },
"analytics_channel_timeline":
{ Args: { "channel_id": string,"range_from": string,"range_to": string }; Returns: {
              "avg_viewers": number,"bucket_end": string,"bucket_start": string,"followers_gained": number,"known_viewer_sample_count": number,"live_sample_count": number,"live_seconds": number,"peak_viewers": number,"viewer_count_sum": number,"viewer_seconds": number
            }[]
                           },
"analytics_connected_daily":
{ Args: { "channel_id": string,"first_day": string,"last_day": string }; Returns: {
              "average_view_duration": number,"day": string,"estimated_minutes_watched": number,"fetched_at": string,"streamtrack_live_seconds": number,"streamtrack_minutes_watched": number,"streamtrack_peak_viewers": number,"subscribers_gained": number,"subscribers_lost": number,"views": number
            }[]
                           },
"analytics_leaderboard":
{ Args: { "max_rows"?: number,"metric"?: string,"period"?: string,"team_id": string }; Returns: {
              "avg_viewers": number,"channel_id": string,"followers_gained": number,"known_viewer_sample_count": number,"live_sample_count": number,"live_seconds": number,"peak_viewers": number,"rank": number,"viewer_count_sum": number,"viewer_seconds": number,"window_end": string,"window_start": string
            }[]
                           },
"analytics_team_daily_followers":
{ Args: { "first_day": string,"last_day": string,"team_id": string }; Returns: {
              "channel_id": string,"day": string,"followers_gained": number
            }[]
                           },
"analytics_team_overview":
{ Args: { "range_from": string,"range_to": string,"team_id": string }; Returns: {
              "avg_viewers": number,"channel_id": string,"followers_gained": number,"hours_streamed": number,"hours_watched": number,"known_viewer_sample_count": number,"live_sample_count": number,"live_seconds": number,"peak_viewers": number,"viewer_count_sum": number,"viewer_seconds": number
            }[]
                           },
"analytics_timeline_bucket":
{ Args: { "range_from": string,"range_to": string }; Returns: string
                           },
"apply_viewer_sample_retention":
{ Args: { "as_of"?: string }; Returns: {
              "action": string,"partition_name": string,"range_end": string,"range_start": string,"row_count": number
            }[]
                           },
"assert_team_role":
{ Args: { "action": string,"min_role": Database["public"]['Enums']["team_role"],"team_id": string }; Returns: Database["public"]['Enums']["team_role"]
                           },
"broadcast_channel_status_changes":
{ Args: { "channel_ids": (string)[] }; Returns: number
                           },
"can_read_channel":
{ Args: { "channel_id": string }; Returns: boolean
                           },
"channel_ids_with_feature":
{ Args: { "feature": string }; Returns: string[]
                           },
"connected_channel_ids":
{ Args: Record<PropertyKey, never>; Returns: string[]
                           },
"create_alert_destination":
{ Args: { "ciphertext": string,"destination_id": string,"key_version": number,"kind": Database["public"]['Enums']["alert_destination_kind"],"name": string,"nonce": string,"target_host": string,"team_id": string }; Returns: string
                           },
"create_team_invitation":
{ Args: { "email": string,"inviter_hourly_limit": number,"role": Database["public"]['Enums']["team_role"],"team_hourly_limit": number,"team_id": string,"token_hash": string,"valid_for": string }; Returns: {
              "accepted_at": string | null,
"accepted_by": string | null,
"created_at": string,
"email": string,
"expires_at": string,
"id": string,
"invited_by": string | null,
"role": Database["public"]['Enums']["team_role"],
"team_id": string,
"token_hash": string
            }
                          SetofOptions: {
        from: "*"
        to: "team_invitations"
        isOneToOne: true
        isSetofReturn: false
      } },
"custom_access_token_hook":
{ Args: { "event": Json }; Returns: Json
                           },
"directory_caller_in_tenant":
{ Args: { "provider": string,"tenant": string }; Returns: boolean
                           },
"directory_identity_keys":
{ Args: { "only_user"?: string }; Returns: {
              "email": string,"member_id": string,"provider": string,"tenant": string,"user_id": string
            }[]
                           },
"directory_join_pending":
{ Args: { "user_id": string }; Returns: number
                           },
"directory_token_claims":
{ Args: { "user_id": string }; Returns: Json
                           },
"email_address_key":
{ Args: { "address": string }; Returns: string
                           },
"enqueue_alerts":
{ Args: { "changes": Json }; Returns: number
                           },
"has_team_role":
{ Args: { "min_role": Database["public"]['Enums']["team_role"],"team_id": string }; Returns: boolean
                           },
"is_team_member":
{ Args: { "team_id": string }; Returns: boolean
                           },
"manage_viewer_sample_partitions":
{ Args: { "days_ahead"?: number,"retention_days"?: number }; Returns: {
              "action": string,"partition_name": string,"range_end": string,"range_start": string
            }[]
                           },
"mfa_satisfied":
{ Args: { "team_id": string }; Returns: boolean
                           },
"readable_channel_ids":
{ Args: Record<PropertyKey, never>; Returns: string[]
                           },
"service_actor":
{ Args: Record<PropertyKey, never>; Returns: string
                           },
"team_has_feature":
{ Args: { "feature": string,"team_id": string }; Returns: boolean
                           },
"team_id_from_export_path":
{ Args: { "name": string }; Returns: string
                           },
"team_id_from_status_topic":
{ Args: { "topic": string }; Returns: string
                           },
"team_member_list":
{ Args: { "team_id": string }; Returns: {
              "created_at": string,"email": string,"role": Database["public"]['Enums']["team_role"],"user_id": string
            }[]
                           },
"team_role_rank":
{ Args: { "role": Database["public"]['Enums']["team_role"] }; Returns: number
                           },
"track_team_channel":
{ Args: { "channel_id": string,"team_id": string }; Returns: boolean
                           }
          }
          Enums: {
            "alert_destination_kind": "discord"|"slack"|"teams"|"webhook","alert_event": "live"|"ended"|"title_changed"|"category_changed"|"viewers_above","platform": "twitch"|"youtube"|"kick"|"rumble","team_role": "owner"|"admin"|"member"|"viewer"
          }
          CompositeTypes: {
            [_ in never]: never
          }
        }
}

type DatabaseWithoutInternals = Omit<Database, '__InternalSupabase'>

type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, "public">]

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
        DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
      DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])[TableName] extends {
      Row: infer R
    }
    ? R
    : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
  ? (DefaultSchema["Tables"] & DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends {
      Row: infer R
    }
    ? R
    : never
  : never

export type TablesInsert<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Insert: infer I
    }
    ? I
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
  ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
      Insert: infer I
    }
    ? I
    : never
  : never

export type TablesUpdate<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Update: infer U
    }
    ? U
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
  ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
      Update: infer U
    }
    ? U
    : never
  : never

export type Enums<
  DefaultSchemaEnumNameOrOptions extends
    | keyof DefaultSchema["Enums"]
    | { schema: keyof DatabaseWithoutInternals },
  EnumName extends DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"]
    : never = never
> = DefaultSchemaEnumNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName]
  : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"]
  ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions]
  : never

export type CompositeTypes<
  PublicCompositeTypeNameOrOptions extends
    | keyof DefaultSchema["CompositeTypes"]
    | { schema: keyof DatabaseWithoutInternals },
  CompositeTypeName extends PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"]
    : never = never
> = PublicCompositeTypeNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName]
  : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"]
  ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions]
  : never

export const Constants = {
  "public": {
          Enums: {
            "alert_destination_kind": ["discord", "slack", "teams", "webhook"],"alert_event": ["live", "ended", "title_changed", "category_changed", "viewers_above"],"platform": ["twitch", "youtube", "kick", "rumble"],"team_role": ["owner", "admin", "member", "viewer"]
          }
        }
} as const
