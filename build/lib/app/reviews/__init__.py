"""Root-cause reviews of bad survey ratings: cases, findings, actions, and the monthly review meeting."""
