"""Metadata rules: Stripe's limits on metadata, and the key pricebook keeps for itself."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.catalog.rules.reading import PRICED, as_map, show
from compiler.catalog.rules.registry import OWN, Basis, Cover, Finding, entry_rule
from compiler.catalog.schema.messages import LENGTH, PATTERN, RESERVED, SIZE, TYPE, UNKNOWN_FIELD
from compiler.catalog.source import Entry
from compiler.stripe.facts import METADATA_KEY_FORBIDDEN, METADATA_KEY_LENGTH, METADATA_KEYS, METADATA_VALUE_LENGTH
from compiler.stripe.fields import (
    MANAGED_BY_KEY,
    PRICEBOOK_ID_KEY,
    REPLACES_KEY,
    RESERVED_METADATA_KEYS,
    RESERVED_ON_ONE_OBJECT,
    RESERVED_ROOM,
)
from compiler.stripe.kinds import Kind

#: the metadata keys a catalog object may have: Stripe's limit less the ones pricebook writes on one object
CATALOG_METADATA_KEYS = METADATA_KEYS.value - RESERVED_ON_ONE_OBJECT
_RESERVED_LIST = ", ".join(RESERVED_METADATA_KEYS[:-1]) + " and " + RESERVED_METADATA_KEYS[-1]


@entry_rule(
    "reserved-metadata-key",
    f"{_RESERVED_LIST} are pricebook's own metadata keys",
    OWN,
    (Kind.PRODUCT, *PRICED),
    when=("metadata",),
    covers=tuple(Cover(RESERVED, ("metadata", key)) for key in RESERVED_METADATA_KEYS),
)
def reserved_metadata_key(entry: Entry) -> Iterator[Finding]:
    metadata = as_map(entry.data.get("metadata"))
    if MANAGED_BY_KEY in metadata:
        yield Finding(
            entry.where("metadata", MANAGED_BY_KEY, key=True),
            f"{entry.label()} sets metadata {MANAGED_BY_KEY}, which pricebook writes itself to mark what it owns",
            f"remove metadata.{MANAGED_BY_KEY}; pricebook sets it to 'pricebook' on every object it creates",
        )
    # what each of pricebook's other keys holds, for the hint
    writes = {
        REPLACES_KEY: "on a price that replaces another, to the replaced price's id",
        PRICEBOOK_ID_KEY: "on an adopted product or plan whose Stripe id is not its catalog id, to the catalog id",
    }
    for key in (k for k in RESERVED_METADATA_KEYS if k != MANAGED_BY_KEY and k in metadata):
        yield Finding(
            entry.where("metadata", key, key=True),
            f"{entry.label()} sets metadata {key}, which pricebook writes itself",
            f"remove metadata.{key}; pricebook sets it {writes[key]}",
        )


@entry_rule(
    "metadata-invalid",
    "Stripe's metadata limits; no metadata on a meter",
    Basis.of(METADATA_KEYS),
    tuple(Kind),
    when=("metadata",),
    covers=(
        Cover(SIZE, ("metadata",)),
        Cover(LENGTH, ("metadata", "*")),
        Cover(PATTERN, ("metadata", "*")),
        Cover(TYPE, ("metadata", "*")),
        Cover(UNKNOWN_FIELD, ("metadata",)),
    ),
)
def metadata_invalid(entry: Entry) -> Iterator[Finding]:
    if "metadata" not in entry.data:
        return
    metadata = entry.data.get("metadata")
    if entry.kind is Kind.METER:
        yield Finding(
            entry.where("metadata", key=True),
            f"{entry.label()} has metadata, but Stripe meters have none",
            "remove metadata from the meter (pricebook knows its meters by event_name)",
        )
        return
    if not isinstance(metadata, dict):
        return  # the schema reports the type
    if len(metadata) > CATALOG_METADATA_KEYS:
        yield Finding(
            entry.where("metadata", key=True),
            f"{entry.label()} has {len(metadata)} metadata keys, and a catalog entry may have at most "
            f"{CATALOG_METADATA_KEYS}: Stripe allows {METADATA_KEYS.value}, and {RESERVED_ROOM}",
            f"keep at most {CATALOG_METADATA_KEYS} keys (remove {len(metadata) - CATALOG_METADATA_KEYS})",
        )
    for key, value in metadata.items():
        text = str(key)
        problem = None
        if not text:
            problem = "a key is empty"
        elif len(text) > METADATA_KEY_LENGTH.value:
            problem = f"key {text[:20]!r}... is longer than {METADATA_KEY_LENGTH.value} characters"
        elif any(c in text for c in METADATA_KEY_FORBIDDEN):
            problem = f"key {text!r} contains [ or ]"
        elif not isinstance(value, str):
            problem = f"value of {text!r} is {show(value)}, not a string"
        elif len(value) > METADATA_VALUE_LENGTH.value:
            problem = f"value of {text!r} is longer than {METADATA_VALUE_LENGTH.value} characters"
        if problem:
            yield Finding(
                entry.where("metadata", key) if isinstance(key, str) else entry.where("metadata"),
                f"metadata of {entry.label()}: {problem}",
                f"Stripe metadata takes string values up to {METADATA_VALUE_LENGTH.value} characters, keys up to "
                f'{METADATA_KEY_LENGTH.value} without [ or ]; quote numbers ("3")',
            )
