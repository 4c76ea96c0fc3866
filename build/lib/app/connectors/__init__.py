"""Connectors: read what phone systems, help desks, mailboxes, social networks and survey tools already
export, convert it into the records app.ingest accepts, and send Earshot's events out (webhooks, exports)."""
