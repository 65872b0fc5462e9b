"""`GET /v1/account`: the account the key belongs to.

A secret key reads it; a restricted key is refused with Stripe's 403 (reading the account needs a permission a
restricted key is normally not given), which is how a client learns that it cannot tell which account it is in.
"""

from __future__ import annotations

from compiler.emulator.common import Ctx
from compiler.emulator.errors import ApiError
from compiler.emulator.store import Record
from compiler.stripe.facts import KEY_LACKS_PERMISSION


def retrieve_account(ctx: Ctx) -> Record:
    if ctx.restricted:
        raise ApiError(403, KEY_LACKS_PERMISSION.format(key=ctx.key, account=ctx.store.account_id))
    return {
        "id": ctx.store.account_id,
        "object": "account",
        "type": "standard",
        "country": "US",
        "default_currency": "usd",
        "charges_enabled": True,
        "payouts_enabled": True,
        "details_submitted": True,
        "metadata": {},
    }
