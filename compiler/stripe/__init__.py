"""The Stripe side: what pricebook knows of Stripe (kinds, fields, limits, currencies, how amounts are computed,
the SDK's parameter types), the gateway that is the only caller of the SDK, and the account state read through it.
"""
