"""`export`: an account state as catalog files that read back as that account (plan: no changes), written as a
person would write them (defaults left out, decimals quoted, `up_to: inf`, prices nested under products)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.catalog.check import CheckResult, check_documents
from compiler.catalog.source import Document
from compiler.catalog.yaml_reader import load_text
from compiler.changes.changeset import ChangeSet
from compiler.changes.diff import diff
from compiler.changes.model import Catalog, build_catalog
from compiler.export import (
    ARCHIVED,
    METERS_FILE,
    NO_IDENTITY,
    PLANS_FILE,
    PRODUCTS_FILE,
    UNMANAGED,
    UNMANAGED_FILE,
    UNREFERENCED,
    Export,
    ExportFile,
    export_account,
    export_objects,
)
from compiler.stripe.kinds import Kind
from compiler.stripe.state import AccountState
from tests.stripe_objects import MANAGED, build_state, stripe_meter, stripe_price, stripe_product

TIERS = [
    {"up_to": 10000, "flat_amount": 1000, "flat_amount_decimal": "1000", "unit_amount": 0, "unit_amount_decimal": "0"},
    {
        "up_to": None,
        "flat_amount": None,
        "flat_amount_decimal": None,
        "unit_amount": None,
        "unit_amount_decimal": "0.05",
    },
]


def usd_only(amount: int | None, decimal: str | None = None) -> dict[str, Any]:
    return {
        "usd": {
            "custom_unit_amount": None,
            "tax_behavior": "unspecified",
            "unit_amount": amount,
            "unit_amount_decimal": decimal if decimal is not None else (str(amount) if amount is not None else None),
        }
    }


def stripe_plan(**fields: Any) -> dict[str, Any]:
    """A legacy plan as the price list shows it: recurring, without a lookup_key."""
    return stripe_price(**{"id": "legacy-plan", "lookup_key": None, **fields})


def file(export: Export, name: str) -> ExportFile:
    found = export.file(name)
    assert found is not None, f"{name} not written (files: {[f.name for f in export.files]})"
    return found


def checked(export: Export) -> CheckResult:
    """The files checked as `validate` checks them."""
    documents: list[Document] = []
    diagnostics = []
    for exported in export.files:
        document, found = load_text(exported.text, exported.name)
        assert document is not None, found
        documents.append(document)
        diagnostics += found
    return check_documents(documents, diagnostics, files=len(documents))


def catalog_of(export: Export) -> Catalog:
    """The files as `validate` and `plan` read them; they must be valid."""
    result = checked(export)
    assert result.ok, [d.format() for d in result.diagnostics]
    return build_catalog(result.entries)


def plan_of(export: Export, state: AccountState) -> ChangeSet:
    return diff(catalog_of(export), state)


def assert_no_changes(export: Export, state: AccountState) -> None:
    changeset = plan_of(export, state)
    changed = [(c.kind.value, c.key, c.action.value, c.reason) for c in changeset.changes if c.action.value != "no-op"]
    assert changed == [] and changeset.calls == () and changeset.problems == ()


def test_a_plain_price_is_written_without_its_defaults_nested_under_its_product() -> None:
    state = build_state(
        [], [stripe_product(metadata={**MANAGED, "team": "growth"})], [stripe_price(nickname="Seats")], []
    )
    export = export_account(state)
    assert [f.name for f in export.files] == [PRODUCTS_FILE]
    text = file(export, PRODUCTS_FILE).text
    assert text.startswith("# yaml-language-server: $schema=../schemas/catalog.schema.json\n")
    assert text.endswith(
        "products:\n"
        "  - id: suite\n"
        "    name: Suite\n"
        "    metadata:\n"
        "      team: growth\n"
        "    prices:\n"
        "      - lookup_key: seats\n"
        "        nickname: Seats\n"
        "        currency: usd\n"
        "        unit_amount: 1000\n"
        "        recurring: {interval: month}\n"
    )
    for default in ("active", "managed_by", "interval_count", "usage_type", "tax_behavior", "billing_scheme"):
        assert default not in text.split("\n", 3)[3]  # below the header
    assert file(export, PRODUCTS_FILE).counts == {Kind.PRODUCT: 1, Kind.PRICE: 1}
    assert_no_changes(export, state)


def test_decimals_are_quoted_strings_and_the_last_tier_is_up_to_inf() -> None:
    tiered = stripe_price(
        id="price_t",
        lookup_key="api_usage",
        billing_scheme="tiered",
        tiers_mode="graduated",
        tiers=TIERS,
        unit_amount=None,
        unit_amount_decimal=None,
        currency_options=usd_only(None),
    )
    half_cent = stripe_price(
        id="price_h", lookup_key="half_cent", unit_amount=None, unit_amount_decimal="0.5", currency_options={}
    )
    state = build_state([], [stripe_product()], [tiered, half_cent], [])
    export = export_account(state)
    text = file(export, PRODUCTS_FILE).text
    assert (
        "        billing_scheme: tiered\n"
        "        tiers_mode: graduated\n"
        "        tiers:\n"
        "          - {up_to: 10000, flat_amount: 1000, unit_amount: 0}\n"
        '          - {up_to: inf, unit_amount_decimal: "0.05"}\n'
    ) in text
    assert '        unit_amount_decimal: "0.5"\n' in text
    assert "null" not in text and "unit_amount: null" not in text
    assert_no_changes(export, state)


def test_currency_options_keep_only_a_tax_behavior_that_differs_from_the_prices() -> None:
    options = {
        **usd_only(10000),
        "eur": {"custom_unit_amount": None, "tax_behavior": "exclusive", "unit_amount": 9500},
        "gbp": {"custom_unit_amount": None, "tax_behavior": "inclusive", "unit_amount": 8500},
    }
    price = stripe_price(
        unit_amount=10000, unit_amount_decimal="10000", tax_behavior="exclusive", currency_options=options
    )
    tiered = stripe_price(
        id="price_t",
        lookup_key="tiered",
        billing_scheme="tiered",
        tiers_mode="volume",
        tiers=TIERS,
        unit_amount=None,
        unit_amount_decimal=None,
        currency_options={
            "jpy": {
                "custom_unit_amount": None,
                "tax_behavior": "unspecified",
                "unit_amount": None,
                "tiers": [{"up_to": 10, "unit_amount": 1500}, {"up_to": None, "unit_amount_decimal": "1000"}],
            }
        },
    )
    state = build_state([], [stripe_product()], [price, tiered], [])
    export = export_account(state)
    text = file(export, PRODUCTS_FILE).text
    assert (
        "        currency_options:\n"
        "          eur: {unit_amount: 9500}\n"
        "          gbp: {unit_amount: 8500, tax_behavior: inclusive}\n"
    ) in text
    assert (
        "        currency_options:\n"
        "          jpy:\n"
        "            tiers:\n"
        "              - {up_to: 10, unit_amount: 1500}\n"
        "              - {up_to: inf, unit_amount: 1000}\n"
    ) in text
    assert "        tax_behavior: exclusive\n" in text
    assert "usd:" not in text  # Stripe adds the price's own currency; the catalog never lists it
    assert_no_changes(export, state)


def test_a_metered_price_names_its_meter_and_only_meters_in_use_are_written() -> None:
    meters = [
        stripe_meter(),
        stripe_meter(
            id="mtr_2",
            event_name="api_requests",
            display_name="API requests",
            value_settings={"event_payload_key": "requests"},
        ),
        stripe_meter(id="mtr_3", event_name="unused", display_name="Unused"),
        stripe_meter(id="mtr_4", event_name="retired", display_name="Retired", status="inactive"),
    ]
    metered = stripe_price(
        lookup_key="emails",
        recurring={"interval": "month", "interval_count": 1, "meter": "mtr_1", "usage_type": "metered"},
        transform_quantity={"divide_by": 1000, "round": "down"},
    )
    plan = stripe_plan(
        id="requests-plan",
        recurring={"interval": "month", "interval_count": 3, "meter": "mtr_2", "usage_type": "metered"},
    )
    state = build_state(meters, [stripe_product()], [metered, plan], [])
    export = export_account(state)
    assert file(export, METERS_FILE).text.endswith(
        "meters:\n"
        "  - event_name: api_requests\n"
        "    display_name: API requests\n"
        "    default_aggregation: {formula: sum}\n"
        "    value_settings: {event_payload_key: requests}\n"
        "\n"
        "  - event_name: emails_sent\n"
        "    display_name: Emails sent\n"
        "    default_aggregation: {formula: sum}\n"
    )
    assert "        recurring: {interval: month, usage_type: metered, meter: emails_sent}\n" in export.files[1].text
    assert "        transform_quantity: {divide_by: 1000, round: down}\n" in export.files[1].text
    assert export.left_out == {UNREFERENCED: {Kind.METER: 1}, ARCHIVED: {Kind.METER: 1}}
    assert "# Not imported: 1 inactive meter." in file(export, METERS_FILE).text
    assert_no_changes(export, state)

    everything = export_account(state, all_meters=True)
    assert "event_name: unused" in file(everything, METERS_FILE).text
    assert "retired" not in file(everything, METERS_FILE).text
    assert_no_changes(everything, state)


def test_an_inactive_meter_a_price_still_bills_from_is_written_valid_with_a_warning() -> None:
    # A catalog cannot keep a meter inactive (no `status` field): the file must still validate, and say that
    # plan will reactivate the meter.
    meter = stripe_meter(status="inactive")
    metered = stripe_price(
        lookup_key="emails",
        recurring={"interval": "month", "interval_count": 1, "meter": "mtr_1", "usage_type": "metered"},
    )
    state = build_state([meter], [stripe_product()], [metered], [])
    export = export_account(state)
    assert "status" not in file(export, METERS_FILE).text
    assert any("emails_sent is inactive" in w and "reactivate" in w for w in export.warnings)
    catalog_of(export)  # reads back through the reader, schema and rules without a diagnostic


def test_plans_are_written_in_the_plans_api_shape_at_top_level() -> None:
    plan = stripe_plan(
        nickname="Standard Cost Per 5 Users",
        recurring={"interval": "month", "interval_count": 3, "meter": None, "usage_type": "licensed"},
        transform_quantity={"divide_by": 5, "round": "up"},
    )
    tiered_plan = stripe_plan(
        id="tiered-plan",
        billing_scheme="tiered",
        tiers_mode="volume",
        tiers=[{"up_to": 5, "unit_amount": 700}, {"up_to": None, "unit_amount": 600}],
        unit_amount=None,
        unit_amount_decimal=None,
    )
    state = build_state([], [stripe_product()], [plan, tiered_plan], [])
    export = export_account(state)
    assert file(export, PLANS_FILE).text.endswith(
        "plans:\n"
        "  - id: legacy-plan\n"
        "    product: suite\n"
        "    nickname: Standard Cost Per 5 Users\n"
        "    currency: usd\n"
        "    amount: 1000\n"
        "    interval: month\n"
        "    interval_count: 3\n"
        "    transform_usage: {divide_by: 5, round: up}\n"
        "\n"
        "  - id: tiered-plan\n"
        "    product: suite\n"
        "    currency: usd\n"
        "    billing_scheme: tiered\n"
        "    tiers_mode: volume\n"
        "    tiers:\n"
        "      - {up_to: 5, unit_amount: 700}\n"
        "      - {up_to: inf, unit_amount: 600}\n"
        "    interval: month\n"
    )
    assert file(export, PRODUCTS_FILE).counts == {Kind.PRODUCT: 1}  # the plans' product, without prices
    assert_no_changes(export, state)


def test_archived_objects_are_skipped_and_counted_in_the_header() -> None:
    products = [
        stripe_product(default_price="price_old"),
        stripe_product(id="retired", name="Retired", active=False),
        # archived, but an active price still sells under it: written as it is, so plan leaves it alone
        stripe_product(id="paused", name="Paused", active=False),
    ]
    prices = [
        stripe_price(),
        stripe_price(id="price_old", lookup_key="seats_2023", active=False),
        stripe_price(id="price_p", lookup_key="paused_monthly", product="paused"),
        stripe_plan(active=False),
    ]
    state = build_state([], products, prices, [])
    export = export_account(state)
    assert export.left_out == {ARCHIVED: {Kind.PRODUCT: 1, Kind.PRICE: 1, Kind.PLAN: 1}}
    products_text = file(export, PRODUCTS_FILE).text
    assert "# Not imported: 1 archived product, 2 archived prices and plans." in products_text
    assert "seats_2023" not in products_text and "retired" not in products_text
    assert "  - id: paused\n    name: Paused\n    active: false\n" in products_text
    assert "default_price" not in products_text  # it names an archived price, which the catalog does not hold
    assert export.file(PLANS_FILE) is None
    assert_no_changes(export, state)


def test_a_default_price_is_named_by_its_lookup_key() -> None:
    state = build_state([], [stripe_product(default_price="price_1")], [stripe_price()], [])
    export = export_account(state)
    assert "    default_price: seats\n" in file(export, PRODUCTS_FILE).text
    assert catalog_of(export).get(Kind.PRODUCT, "suite") is not None
    assert_no_changes(export, state)


UNMANAGED_OBJECTS = (
    [
        stripe_product(id="hand_made", name="Made in the Dashboard", metadata={}),
        stripe_product(id="old_hand_made", name="Old", metadata={}, active=False),
    ],
    [
        stripe_price(id="price_u", lookup_key="hand_made_monthly", product="hand_made", metadata={}),
        # unmanaged, on pricebook's product
        stripe_price(id="price_v", lookup_key="suite_by_hand", metadata={"owner": "sales"}),
        stripe_plan(id="hand-plan", product="hand_made", metadata={}),
        stripe_price(id="price_w", lookup_key=None, recurring=None, type="one_time", metadata={}),
    ],
)


def test_unmanaged_objects_are_left_out_and_counted() -> None:
    products, prices = UNMANAGED_OBJECTS
    state = build_state([], [stripe_product(), *products], [stripe_price(), *prices], [])
    export = export_account(state)
    assert [f.name for f in export.files] == [PRODUCTS_FILE]
    text = file(export, PRODUCTS_FILE).text
    assert "hand" not in text and "Old" not in text
    assert export.left_out == {UNMANAGED: {Kind.PRODUCT: 2, Kind.PRICE: 3, Kind.PLAN: 1}}
    assert_no_changes(export, state)


def test_include_unmanaged_writes_them_apart_and_plan_refuses_them_until_adopted() -> None:
    products, prices = UNMANAGED_OBJECTS
    state = build_state([], [stripe_product(), *products], [stripe_price(), *prices], [])
    export = export_account(state, include_unmanaged=True)
    assert [f.name for f in export.files] == [PRODUCTS_FILE, UNMANAGED_FILE]
    unmanaged = file(export, UNMANAGED_FILE)
    assert "plan` refuses every one of them until it is adopted" in unmanaged.text
    assert "`pricebook\n# adopt` writes the record that lets plan adopt them" in unmanaged.text
    assert unmanaged.counts == {Kind.PRODUCT: 1, Kind.PRICE: 2, Kind.PLAN: 1}
    assert (
        "products:\n"
        "  - id: hand_made\n"
        "    name: Made in the Dashboard\n"
        "    prices:\n"
        "      - lookup_key: hand_made_monthly\n"
    ) in unmanaged.text
    # pricebook's product stays in products.yaml; the unmanaged price on it names it
    assert "prices:\n  - lookup_key: suite_by_hand\n    product: suite\n" in unmanaged.text
    assert "metadata:\n      owner: sales\n" in unmanaged.text
    assert "old_hand_made" not in unmanaged.text  # archived
    assert export.left_out == {ARCHIVED: {Kind.PRODUCT: 1}, NO_IDENTITY: {Kind.PRICE: 1}}
    assert export.warnings == ()  # an unmanaged price without identity is no loss to pricebook
    changeset = plan_of(export, state)
    assert {p.rule for p in changeset.problems} == {
        "product-id-held-by-unmanaged-product",
        "lookup-key-held-by-unmanaged-price",
        "plan-id-held-by-unmanaged-plan",
    }
    assert all("managed_by=pricebook" in p.hint for p in changeset.problems)


def test_a_managed_price_on_an_unmanaged_product_brings_the_product_with_a_warning() -> None:
    state = build_state([], [stripe_product(metadata={})], [stripe_price()], [])
    export = export_account(state)
    assert "  - id: suite\n" in file(export, PRODUCTS_FILE).text
    (warning,) = export.warnings
    assert "product suite is not pricebook's" in warning and "managed_by=pricebook" in warning


def test_a_managed_price_without_lookup_key_cannot_be_written_and_says_so() -> None:
    one_time = stripe_price(id="price_x", lookup_key=None, recurring=None, type="one_time")
    state = build_state([], [stripe_product()], [stripe_price(), one_time], [])
    export = export_account(state)
    assert export.left_out == {NO_IDENTITY: {Kind.PRICE: 1}}
    (warning,) = export.warnings
    assert "price_x" in warning and "never archives it" in warning and "plan reports it as a problem" in warning


@pytest.mark.parametrize(
    "text",
    [
        "yes",
        "no",
        "null",
        "~",
        "true",
        "0123",
        "08",
        "1e3",
        "0.5",
        "2024-01-01",
        "a: b",
        "- x",
        "#x",
        "a\nb",
        "¥ 100",
        "tab\there",
        "line\u2028sep",
        "x\x85y",
        "'quoted'",
        '"dq"',
        "@at",
        "%pct",
        "{x}",
        "[x]",
        "*star",
        "&amp",
        " pad ",
    ],
)
def test_any_string_reads_back_unchanged(text: str) -> None:
    product = stripe_product(
        name=f"P {text}", description=text, metadata={**MANAGED, "note": text, (text.strip(" []") or "k"): "v"}
    )
    price = stripe_price(nickname=text)
    state = build_state([], [product], [price], [])
    export = export_account(state)  # reads every file back itself; a difference raises ExportError
    assert_no_changes(export, state)


def test_the_output_is_deterministic_whatever_the_order_of_the_account() -> None:
    prices = [stripe_price(id=f"price_{n}", lookup_key=f"key_{n}") for n in range(5)]
    products = [stripe_product(), stripe_product(id="another", name="Another")]
    one = export_account(build_state([], products, prices, []))
    two = export_account(build_state([], products[::-1], prices[::-1], []))
    assert one == two
    keys = [line.strip() for line in file(one, PRODUCTS_FILE).text.splitlines() if "lookup_key" in line]
    assert keys == sorted(keys)


def test_an_empty_account_writes_no_file() -> None:
    export = export_account(build_state([], [], [], []))
    assert export.files == () and export.left_out == {}


# Stripe's strings are JSON strings: any character but a lone surrogate. NEL, LS, PS and CR included.
_stripe_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=_stripe_text.filter(lambda s: s.strip() != ""),  # Stripe refuses a blank name
    # Stripe refuses "" on create and clears the field with "" on update: no account holds an empty one
    description=_stripe_text.filter(lambda s: s != ""),
    nickname=_stripe_text.filter(lambda s: s != ""),
    note=_stripe_text.filter(lambda s: s != ""),  # metadata[note]="" deletes the key: no account holds one
    amount=st.integers(min_value=0, max_value=99_999_999),
    decimal=st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False, allow_infinity=False),
)
def test_any_account_text_and_amount_round_trip(
    name: str, description: str, nickname: str, note: str, amount: int, decimal: Any
) -> None:
    product = stripe_product(name=name, description=description, metadata={**MANAGED, "note": note})
    whole = stripe_price(nickname=nickname, unit_amount=amount, unit_amount_decimal=str(amount))
    fractional = stripe_price(
        id="price_2", lookup_key="fractional", unit_amount=None, unit_amount_decimal=str(decimal), currency_options={}
    )
    state = build_state([], [product], [whole, fractional], [])
    assert_no_changes(export_account(state), state)


def test_every_product_field_custom_amounts_and_plan_extras_round_trip() -> None:
    product = stripe_product(
        type="good",
        description="Boxed",
        images=["https://example.com/a.png"],
        marketing_features=[{"name": "Fast"}, {"name": "Cheap"}],
        package_dimensions={"height": 1.5, "length": 2.0, "weight": 3.25, "width": 4.0},
        shippable=True,
        statement_descriptor="BOXED GOODS",
        tax_code="txcd_99999999",
        unit_label="box",
        url="https://example.com",
    )
    pay_what_you_want = stripe_price(
        id="price_c",
        lookup_key="donation",
        recurring=None,
        type="one_time",
        unit_amount=None,
        unit_amount_decimal=None,
        custom_unit_amount={"maximum": 100000, "minimum": 500, "preset": 2500},
        currency_options={},
    )
    plan = stripe_plan(nickname="Trial", unit_amount=None, unit_amount_decimal="12.5")
    state = build_state([], [product], [pay_what_you_want, plan], [])
    state = AccountState.of(
        [
            o if o.kind is not Kind.PLAN else replace(o, attrs={**o.attrs, "trial_period_days": 14})
            for o in state.objects
        ]
    )
    export = export_account(state)
    products = file(export, PRODUCTS_FILE).text
    assert "    marketing_features:\n      - {name: Fast}\n      - {name: Cheap}\n" in products
    assert "    package_dimensions: {height: 1.5, length: 2.0, weight: 3.25, width: 4.0}\n" in products
    assert "        custom_unit_amount: {enabled: true, minimum: 500, maximum: 100000, preset: 2500}\n" in products
    plans = file(export, PLANS_FILE).text
    assert '    amount_decimal: "12.5"\n' in plans and "    trial_period_days: 14\n" in plans
    assert_no_changes(export, state)


def test_a_price_trial_is_written_under_recurring() -> None:
    recurring = {
        "interval": "month",
        "interval_count": 1,
        "meter": None,
        "trial_period_days": 14,
        "usage_type": "licensed",
    }
    state = build_state([], [stripe_product()], [stripe_price(recurring=recurring)], [])
    export = export_account(state)
    assert "        recurring: {interval: month, trial_period_days: 14}\n" in file(export, PRODUCTS_FILE).text
    assert_no_changes(export, state)


def test_fields_a_catalog_cannot_state_are_named_and_left_as_they_are() -> None:
    recurring = {"interval": "month", "interval_count": 1, "meter": None, "trial_period_days": None}
    state = build_state(
        [],
        [stripe_product(tax_details={"tax_code": "txcd_10000000"})],
        [stripe_price(recurring={**recurring, "usage_type": "licensed", "aggregate_usage": "max"})],
        [],
    )
    export = export_account(state)
    assert export.warnings == (
        "product suite has tax_details, which a catalog cannot state: pricebook leaves it as in Stripe",
        "price price_1 has recurring.aggregate_usage, which a catalog cannot state: pricebook leaves it as in "
        "Stripe, but a price that replaces it will not have it",
    )
    assert "tax_details" not in file(export, PRODUCTS_FILE).text
    assert_no_changes(export, state)


# -- metadata a catalog entry has no room for --------------------------------------------------------------------

#: the most metadata keys validate lets a catalog entry have (Stripe's 50, less the 2 pricebook writes itself)
CATALOG_MOST = 48


def _own_keys(count: int) -> dict[str, str]:
    return {f"k{n:02}": "v" for n in range(count)}


def _validate(export: Export) -> list[str]:
    """`validate`'s errors on the files, as `rule: message` (nothing raised: the files may be refused)."""
    return [f"{d.rule}: {d.message}" for d in checked(export).diagnostics if d.is_error]


def test_an_object_with_more_metadata_than_an_entry_takes_is_written_and_said_per_object() -> None:
    # pricebook's own objects: the mark plus keys added by hand in the Dashboard, 50 in all
    count = CATALOG_MOST + 1
    product = stripe_product(metadata={**MANAGED, **_own_keys(count)})
    price = stripe_price(metadata={**MANAGED, **_own_keys(count)})
    state = build_state([], [product], [price], [])
    export = export_account(state)
    # written as the account has it: an entry without some of its keys would make plan remove them in Stripe
    assert file(export, PRODUCTS_FILE).text.count(": v\n") == 2 * count
    refused = _validate(export)
    assert [line.split(":")[0] for line in refused] == ["metadata-invalid", "metadata-invalid"]
    assert export.warnings == ()
    assert export.refused == (  # one per entry validate refuses
        "product suite has 49 metadata keys besides pricebook's, and a catalog entry may have at most 48: "
        "Stripe allows 50, and pricebook writes up to 2 keys of its own on one object (managed_by, and "
        "pricebook_replaces on a price that replaced another or pricebook_id on an adopted product or plan). Its "
        f"entry (product 'suite' in {PRODUCTS_FILE}) has them all, so validate refuses it (metadata-invalid) until "
        "you remove 1 of them there; plan then removes them from the Stripe object too",
        f"price price_1 has 49 metadata keys besides pricebook's, and a catalog entry may have at most 48: "
        "Stripe allows 50, and pricebook writes up to 2 keys of its own on one object (managed_by, and "
        "pricebook_replaces on a price that replaced another or pricebook_id on an adopted product or plan). Its "
        f"entry (price 'seats' in {PRODUCTS_FILE}) has them all, so validate refuses it (metadata-invalid) "
        "until you remove 1 of them there; plan then removes them from the Stripe object too",
    )


def test_an_object_with_as_much_metadata_as_an_entry_takes_is_written_without_a_word() -> None:
    state = build_state([], [stripe_product(metadata={**MANAGED, **_own_keys(CATALOG_MOST)})], [stripe_price()], [])
    export = export_account(state)
    assert export.warnings == () and export.refused == ()
    assert_no_changes(export, state)


def test_adopt_says_which_object_its_entry_validate_refuses() -> None:
    # not pricebook's yet: all 50 keys are the object's own
    product = stripe_product(id="prod_E9aWj8Nap9i0Ub", metadata=_own_keys(50))
    state = build_state([], [product], [], [])
    export = export_objects(state.objects, single_file="adopted.yaml")
    assert [line.split(":")[0] for line in _validate(export)] == ["metadata-invalid"]
    (said,) = export.refused
    assert said.startswith("product prod_E9aWj8Nap9i0Ub has 50 metadata keys besides pricebook's")
    assert "(product 'prod_E9aWj8Nap9i0Ub' in adopted.yaml)" in said and "remove 2 of them" in said
