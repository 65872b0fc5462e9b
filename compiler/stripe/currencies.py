"""Stripe's currency facts: which codes exist, and how many minor units each has.

Used by the currency rules and by the quote calculator to format amounts.

`SUPPORTED` is the union of Stripe's presentment currencies (docs.stripe.com/currencies, and the list in
Stripe's own "Invalid currency: … Stripe currently supports these currencies: …" error). Which of them an
account may actually charge in depends on its country (a US account cannot use `tnd`); that is only known
online, so a code outside this set is an error while a code inside it is not a promise.
"""

from __future__ import annotations

from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal

_SUPPORTED_CODES = """
    usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl bsd bwp byn bzd
    cad cdf chf clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel gip gmd gnf gtq gyd
    hkd hnl htg huf idr ils inr isk jmd jod jpy kes kgs khr kmf krw kwd kyd kzt lak lbp lkr lrd lsl mad
    mdl mga mkd mmk mnt mop mur mvr mwk mxn myr mzn nad ngn nio nok npr nzd omr pab pen pgk php pkr pln
    pyg qar ron rsd rub rwf sar sbd scr sek sgd shp sle sos srd std szl thb tjs tnd top try ttd twd tzs
    uah ugx uyu uzs vnd vuv wst xaf xcd xcg xof xpf yer zar zmw
"""
SUPPORTED: frozenset[str] = frozenset(_SUPPORTED_CODES.split())

#: amounts are whole units, no ×100 (docs.stripe.com/currencies#zero-decimal)
ZERO_DECIMAL: frozenset[str] = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)

#: three minor digits; Stripe requires the last one to be 0 (docs.stripe.com/currencies#three-decimal)
THREE_DECIMAL: frozenset[str] = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})

#: two-decimal in the API, but amounts "must be evenly divisible by 100", Products and Prices included
DIVISIBLE_BY_100: frozenset[str] = frozenset({"isk"})

#: charge or payout special cases in Stripe's docs: amounts not divisible by 100 may be refused somewhere
SPECIAL_CASE_100: frozenset[str] = frozenset({"huf", "twd", "ugx"})


def minor_digits(currency: str) -> int:
    """How many digits of an API amount are below the major unit (`usd` 2, `jpy` 0, `kwd` 3)."""
    code = currency.lower()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


#: where arithmetic on amounts is exact: Decimal's default context keeps 28 digits and rounds (or raises
#: InvalidOperation) beyond them, which a quote at a large quantity with a sub-cent price goes past
EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


def to_major(amount: int | Decimal, currency: str) -> Decimal:
    """An amount in minor units as a Decimal in major units: `to_major(1000, "usd") == Decimal("10.00")`."""
    return Decimal(amount).scaleb(-minor_digits(currency), EXACT)
