"""Call transcription: channel split, talk metrics and PII redaction."""
