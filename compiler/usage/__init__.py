"""Recording usage as billing meter events, exactly once.

rows (read a CSV / JSON Lines file a row at a time) -> events (check a row against the meters, derive its
identifier) -> send (v1 or the v2 stream, through the gateway) with the journal (what Stripe has) -> importer (the
pipeline, `--dry-run`) -> verify (totals against event summaries); summary and cancel beside it.
"""
