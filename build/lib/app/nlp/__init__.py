"""Interaction analytics: the spaCy pipeline, PII detection, sentiment, categories and explainable auto-QA."""
