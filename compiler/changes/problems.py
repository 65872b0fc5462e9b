"""The problems a plan can find that no offline check can: each needs the account to see. Any one of them blocks
the apply before anything is sent. The diff reports them only through these rules, so this is the whole list
(each `Problem` also carries a message and a hint about the objects at hand).
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.stripe.facts import METADATA_DOC, METADATA_KEYS
from compiler.stripe.fields import MANAGED_BY_KEY, MANAGED_BY_VALUE, PRICEBOOK_ID_KEY, REPLACES_KEY, SPECS
from compiler.stripe.kinds import Kind


@dataclass(frozen=True)
class ProblemRule:
    id: str  # stable: `Problem.rule`, in every view of the plan and in its JSON
    means: str  # what was found, in general terms
    way_out: str  # what the user can do about it


_ADOPT = (
    "to take it over, run `pricebook adopt`, which records it in the catalog for this account (plan then adopts "
    f"it, and apply marks it with metadata {MANAGED_BY_KEY}={MANAGED_BY_VALUE}); otherwise choose another "
    "{what} in the catalog"
)
_RECORD = "the catalog's `adopt:` record for this account (adoptions.yaml, written by `pricebook adopt`)"

LOOKUP_KEY_HELD_BY_UNMANAGED_PRICE = ProblemRule(
    "lookup-key-held-by-unmanaged-price",
    "a price pricebook does not manage already has the lookup_key a catalog price names",
    _ADOPT.format(what="lookup_key"),
)
PLAN_ID_HELD_BY_PRICE = ProblemRule(
    "plan-id-held-by-price",
    "the id of a catalog plan belongs to a price in the account (prices and plans share one set of ids)",
    "choose another plan id in the catalog",
)
PLAN_ID_HELD_BY_UNMANAGED_PLAN = ProblemRule(
    "plan-id-held-by-unmanaged-plan",
    "a plan pricebook does not manage already has the id a catalog plan names",
    _ADOPT.format(what="plan id"),
)
PRODUCT_ID_HELD_BY_UNMANAGED_PRODUCT = ProblemRule(
    "product-id-held-by-unmanaged-product",
    "a product pricebook does not manage already has the id a catalog product names",
    _ADOPT.format(what="product id"),
)
PLAN_IMMUTABLE_FIELD = ProblemRule(
    "plan-immutable-field",
    "a catalog plan changes a field Stripe cannot change on an existing plan (its amount, currency, interval, "
    "usage type, tiers, ...): https://docs.stripe.com/api/plans/update",
    SPECS[Kind.PLAN].way_out,
)
METER_IMMUTABLE_FIELD = ProblemRule(
    "meter-immutable-field",
    "a catalog meter changes a field Stripe cannot change on an existing meter (anything but its display_name): "
    "https://docs.stripe.com/api/billing/meter/update",
    SPECS[Kind.METER].way_out,
)
DEFAULT_PRICE_BLOCKS_REPLACE = ProblemRule(
    "default-price-blocks-replace",
    "a replaced price would have to be archived, but it stays the default price of a product the catalog does "
    "not move to the new one, and Stripe cannot archive a product's default price",
    "give the product another default_price (in the catalog if pricebook manages it, otherwise in the "
    "Dashboard), or remove the product from the catalog to archive it",
)
DEFAULT_PRICE_REMOVED = ProblemRule(
    "default-price-removed",
    "a price or plan removed from the catalog would be archived, but it is still the default price of a product, "
    "and Stripe cannot archive a product's default price",
    "give the product another default_price (in the catalog if pricebook manages it, otherwise in the "
    "Dashboard), or remove the product from the catalog to archive it",
)
MANAGED_PRICE_WITHOUT_LOOKUP_KEY = ProblemRule(
    "managed-price-without-lookup-key",
    f"an active price carries metadata {MANAGED_BY_KEY}={MANAGED_BY_VALUE} but has no lookup_key, so no catalog "
    "entry can name it; pricebook never archives what the catalog never named (the old version of a price "
    f"pricebook replaced is its own: the new price names it in metadata {REPLACES_KEY}, and the plan archives it)",
    "adopt it (`pricebook adopt` writes a catalog entry for it), or give it a lookup_key in the Dashboard and add "
    f"it to the catalog; if nobody should use it, archive it in the Dashboard or remove its {MANAGED_BY_KEY} metadata",
)
FIELD_KEPT = ProblemRule(
    "field-kept",
    "a catalog product names no default_price, but the product in the account has one that the catalog could "
    "name (one of its catalog prices): Stripe cannot unset a product's default price (its update takes no empty "
    "value), so deleting `default_price:` from the entry changes nothing; the plan keeps the account's, and moves "
    "it with its price through a replace. A warning: it does not block the apply",
    "write `default_price:` with the price the warning names to say so, or name another of the product's prices",
)
#: what a plan warns about without blocking the apply (shown with the catalog's warnings, at the entry)
PLAN_WARNING_RULES: tuple[ProblemRule, ...] = (FIELD_KEPT,)
#: the flag of plan and apply by which the user says that many archives at once are meant
ALLOW_MASS_ARCHIVE = "--allow-mass-archive"
#: a plan may archive this many objects the catalog no longer lists (and not every managed one of a kind) unless
#: the user says ALLOW_MASS_ARCHIVE
MASS_ARCHIVE_LIMIT = 10

MASS_ARCHIVE = ProblemRule(
    "mass-archive",
    f"the plan archives many objects because the catalog no longer lists them: more than {MASS_ARCHIVE_LIMIT}, "
    "or every managed object of a kind. An empty, partial or mistyped catalog looks exactly like that",
    "check the catalog path and that every file is there; if you do mean to archive them, run plan (or apply) "
    f"again with {ALLOW_MASS_ARCHIVE}",
)

FIELD_CANNOT_BE_UNSET = ProblemRule(
    "field-cannot-be-unset",
    "the catalog no longer gives a field the account has, and Stripe cannot unset that field once it is set "
    "(a nickname, for one): it refuses the empty value with 400 parameter_invalid_empty",
    "give the field a value again (the plan shows the account's, which keeps things as they are), or the explicit "
    '"none" the plan names where Stripe has one (such as shippable: false)',
)
TOO_MANY_METADATA_KEYS = ProblemRule(
    "too-many-metadata-keys",
    f"an update or adoption would leave an object with more than {METADATA_KEYS.value} metadata keys, which Stripe "
    f"refuses ({METADATA_DOC}): it counts the object's keys after the update, the catalog's, pricebook's own "
    f"({MANAGED_BY_KEY}, {PRICEBOOK_ID_KEY} on an adopted product or plan) and those it keeps, such as a "
    f"{REPLACES_KEY} set by hand on a product",
    "keep fewer metadata keys in the catalog entry, or remove the keys the problem names from the object in the "
    "Dashboard (pricebook leaves its own keys as they are)",
)
ADOPT_TARGET_MISSING = ProblemRule(
    "adopt-target-missing",
    "the catalog takes over an object that the account does not have (or not of the entry's kind)",
    f"correct the Stripe id in {_RECORD}, or remove the line to create the object instead",
)
ADOPT_TARGET_OWNED = ProblemRule(
    "adopt-target-owned",
    "the catalog takes over an object that is already pricebook's under another catalog id",
    f"remove the line from {_RECORD}: the object is pricebook's already, as the catalog entry the message names",
)
ADOPT_IDENTITY_TAKEN = ProblemRule(
    "adopt-identity-taken",
    "the catalog takes over an object under an identity (a lookup_key, a product or plan id) that another object "
    "of the account holds",
    "give the catalog entry another identity (in its file and in the record alike), or take the identity off the "
    "other object in the Dashboard",
)
ADOPT_CHANGES_FIXED_FIELD = ProblemRule(
    "adopt-changes-fixed-field",
    "an adopted object differs from its catalog entry in a field Stripe cannot change on an existing object (a "
    "price's amount, currency or interval, a plan's amount, ...)",
    "adopt it as it is: make the entry match the account (as `pricebook adopt` wrote it) and apply; then change "
    "the field in a later plan, which replaces the price",
)
ADOPT_ACCOUNT_UNKNOWN = ProblemRule(
    "adopt-account-unknown",
    "the catalog's record takes over objects of this account, but the key cannot read which account it is (a "
    "restricted key without the permission: GET /v1/account answers 403), so the record cannot be applied",
    "plan with a secret key, or a restricted key allowed to read the account "
    "(https://docs.stripe.com/keys/restricted-api-keys); once the objects are adopted the record changes nothing, "
    "and its items may be deleted",
)
CATALOG_ID_AMBIGUOUS = ProblemRule(
    "catalog-id-ambiguous",
    "two objects of the account answer to one catalog product or plan id: one has it as its Stripe id, another in "
    "its metadata pricebook_id",
    "remove metadata pricebook_id from the one the catalog does not mean (Dashboard or API), or give the catalog "
    "entry another id",
)
ACCOUNT_CHANGED_WHILE_APPLYING = ProblemRule(
    "account-changed-while-applying",
    "while `apply --plan` carried out a saved plan, the account changed in a way the plan did not show (another "
    "apply at the same time, or a change by hand): an object a call left to do is about is gone or no longer "
    "pricebook's, a lookup key a replace moves is held by another price, or a price of pricebook's lost its "
    "lookup key while still active; apply sends nothing the saved plan did not show, so it stops there",
    "run `pricebook plan` to see the account as it is now, then `pricebook apply` the catalog (or save and review "
    "a new plan): it archives a price of pricebook's left without a lookup key",
)

#: the problem of changing a field Stripe cannot change, by kind (a price's such fields mean a replace instead)
IMMUTABLE_FIELD: dict[Kind, ProblemRule] = {Kind.PLAN: PLAN_IMMUTABLE_FIELD, Kind.METER: METER_IMMUTABLE_FIELD}

#: every rule a plan can report, in the order the reference lists them
PROBLEM_RULES: tuple[ProblemRule, ...] = (
    LOOKUP_KEY_HELD_BY_UNMANAGED_PRICE,
    PLAN_ID_HELD_BY_PRICE,
    PLAN_ID_HELD_BY_UNMANAGED_PLAN,
    PRODUCT_ID_HELD_BY_UNMANAGED_PRODUCT,
    PLAN_IMMUTABLE_FIELD,
    METER_IMMUTABLE_FIELD,
    DEFAULT_PRICE_BLOCKS_REPLACE,
    DEFAULT_PRICE_REMOVED,
    FIELD_CANNOT_BE_UNSET,
    TOO_MANY_METADATA_KEYS,
    MANAGED_PRICE_WITHOUT_LOOKUP_KEY,
    MASS_ARCHIVE,
    ADOPT_TARGET_MISSING,
    ADOPT_TARGET_OWNED,
    ADOPT_IDENTITY_TAKEN,
    ADOPT_CHANGES_FIXED_FIELD,
    ADOPT_ACCOUNT_UNKNOWN,
    CATALOG_ID_AMBIGUOUS,
    ACCOUNT_CHANGED_WHILE_APPLYING,
)


__all__ = [
    "ACCOUNT_CHANGED_WHILE_APPLYING",
    "ADOPT_ACCOUNT_UNKNOWN",
    "ADOPT_CHANGES_FIXED_FIELD",
    "ADOPT_IDENTITY_TAKEN",
    "ADOPT_TARGET_MISSING",
    "ADOPT_TARGET_OWNED",
    "ALLOW_MASS_ARCHIVE",
    "CATALOG_ID_AMBIGUOUS",
    "DEFAULT_PRICE_BLOCKS_REPLACE",
    "DEFAULT_PRICE_REMOVED",
    "FIELD_CANNOT_BE_UNSET",
    "FIELD_KEPT",
    "IMMUTABLE_FIELD",
    "LOOKUP_KEY_HELD_BY_UNMANAGED_PRICE",
    "MANAGED_PRICE_WITHOUT_LOOKUP_KEY",
    "MASS_ARCHIVE",
    "MASS_ARCHIVE_LIMIT",
    "METER_IMMUTABLE_FIELD",
    "PLAN_ID_HELD_BY_PRICE",
    "PLAN_ID_HELD_BY_UNMANAGED_PLAN",
    "PLAN_IMMUTABLE_FIELD",
    "PLAN_WARNING_RULES",
    "PROBLEM_RULES",
    "PRODUCT_ID_HELD_BY_UNMANAGED_PRODUCT",
    "TOO_MANY_METADATA_KEYS",
    "ProblemRule",
]
