"""Evaluations: scoring interactions, disputes, sampling and calibration."""
