"""The catalog side: files and templates, read with positions, checked against the schema and Stripe's rules."""
