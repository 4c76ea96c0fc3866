"""Social-media care: response standards per platform, SLA clocks (business hours optional), follow-ups and
non-genuine complaints, public resolution, fairness by follower count, alerts (unattended posts, spikes) with a
webhook, similar complaints across every channel, topics, repeat contacts, and process maturity.

Entry point for importers: `service.refresh_thread(session=..., interaction_id=...)` after writing a thread.
"""
