"""The Stripe API version pricebook speaks, in a module of its own: commands that never talk to Stripe (compile,
`--version`) show it without loading the stripe SDK."""

from __future__ import annotations

#: pinned on every request, written into every saved plan and shown in every plan; the stripe SDK pinned in
#: pyproject.toml is the release generated for it
API_VERSION = "2026-10-28.endive"
