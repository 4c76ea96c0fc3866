"""Coaching: retraining assignments, sessions, automatic rules and whether coaching worked."""
