"""Personal data in text: finding it (the PII detector, `pii.py`) and redacting it. Below `interactions` in
the layer order, so the content gate redacts with it directly: redaction never depends on a hook being
registered, and fails closed."""
