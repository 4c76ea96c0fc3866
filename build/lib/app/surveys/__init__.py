"""Customer satisfaction surveys: sources, CSV and webhook imports, rating bands, linking to interactions,
figures per period."""
