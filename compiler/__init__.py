"""pricebook: Stripe pricing as code."""
