"""Scorecards: evaluation forms as data, versioned, and their scoring."""
