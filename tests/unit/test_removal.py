"""Dropping or emptying a catalog field: every field of the field table, held against the SDK's generated types.

Stripe unsets a field given `""` only where its spec offers that (the SDK's update params type it
`...|Literal[""]`), and returns an unset field as the SDK's resource type says (null, [] or {}). These tests
derive both facts from the SDK, for every field the table lets an update change, and check that the field table
and the diff agree with them: each removal is either a call Stripe takes or a plan problem that names the field
and what to write instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import stripe

from compiler.catalog.schema import schema_document
from compiler.changes.changeset import ChangeSet
from compiler.changes.diff import diff
from compiler.changes.model import Catalog, Resource
from compiler.stripe import sdkparams
from compiler.stripe.conformance import check_call
from compiler.stripe.fields import MANAGED_METADATA, SPECS, Field, Mutability, Removal, canonical, catalog_canonical
from compiler.stripe.kinds import IDENTITY_FIELD, Kind
from compiler.stripe.state import AccountState, LiveObject
from tests.stripe_objects import unset_value

#: the SDK's resource class of each kind: what Stripe returns
RESOURCES: Mapping[Kind, type] = {
    Kind.METER: stripe.billing.Meter,
    Kind.PRODUCT: stripe.Product,
    Kind.PRICE: stripe.Price,
    Kind.PLAN: stripe.Plan,
}
_SCHEMA_DEFS = {Kind.METER: "meter", Kind.PRODUCT: "product", Kind.PRICE: "price", Kind.PLAN: "plan"}

#: a catalog object of each kind with every field an update can change given a value other than its default
FULL: Mapping[Kind, dict[str, Any]] = {
    Kind.METER: {
        "event_name": "calls",
        "display_name": "Calls",
        "default_aggregation": {"formula": "sum"},
    },
    Kind.PRODUCT: {
        "id": "suite",
        "name": "Suite",
        "active": False,
        "description": "Docs and chat",
        "images": ["https://example.com/a.png"],
        "marketing_features": [{"name": "Fast"}],
        "package_dimensions": {"height": 1.5, "length": 2, "weight": 3.25, "width": 4},
        "shippable": True,
        "statement_descriptor": "SUITE",
        "tax_code": "txcd_10000000",
        "unit_label": "seat",
        "url": "https://example.com",
        "metadata": {"team": "growth"},
        "default_price": "seats",
    },
    Kind.PRICE: {
        "lookup_key": "seats",
        "product": "suite",
        "currency": "usd",
        "unit_amount": 1000,
        "active": False,
        "nickname": "Seats",
        "metadata": {"team": "growth"},
        "tax_behavior": "exclusive",
        "currency_options": {"eur": {"unit_amount": 900}},
        "recurring": {"interval": "month"},
    },
    Kind.PLAN: {
        "id": "gold",
        "product": "suite",
        "currency": "usd",
        "amount": 2000,
        "interval": "month",
        "active": False,
        "nickname": "Gold",
        "metadata": {"team": "growth"},
        "trial_period_days": 7,
    },
}
LIVE_IDS = {Kind.METER: "mtr_1", Kind.PRODUCT: "suite", Kind.PRICE: "price_1", Kind.PLAN: "gold"}


def _updatable(kind: Kind) -> list[Field]:
    return [f for f in SPECS[kind].fields if f.mutability == Mutability.UPDATE and f.in_catalog]


FIELDS = [(kind, f.name) for kind in SPECS for f in _updatable(kind)]
LISTS = [(kind, name) for kind, name in FIELDS if isinstance(FULL[kind].get(name), list)]


def _ids(cases: list[tuple[Kind, str]]) -> list[str]:
    return [f"{kind.value}.{name}" for kind, name in cases]


def _update_class(kind: Kind) -> type:
    """The SDK's update params of `kind` (POST /v1/<kind>/{id})."""
    cls = sdkparams.params_class("POST", f"{SPECS[kind].path}/x")
    assert cls is not None
    return cls


def _takes_empty(kind: Kind, name: str) -> bool:
    return sdkparams.spec_for(_update_class(kind)).fields[name].spec.empty_ok


def _required(kind: Kind, name: str) -> bool:
    return name in schema_document()["$defs"][_SCHEMA_DEFS[kind]].get("required", [])


def _resource(kind: Kind, params: Mapping[str, Any]) -> Resource:
    params = dict(params)
    if kind is not Kind.METER:
        params["metadata"] = {**params.get("metadata", {}), **MANAGED_METADATA}
    key = params[IDENTITY_FIELD[kind]]
    return Resource(kind, key, params, catalog_canonical(kind, params))


def _account() -> AccountState:
    """The account after applying FULL."""
    objects = []
    for kind, params in FULL.items():
        resource = _resource(kind, params)
        objects.append(LiveObject(kind, LIVE_IDS[kind], resource.key, True, resource.attrs))
    return AccountState.of(objects)


def _plan_without(kind: Kind, name: str, value: Any = None) -> ChangeSet:
    """The plan for FULL with one field dropped (`value` None) or given `value`, against the applied FULL."""
    edited = {k: v for k, v in FULL[kind].items() if k != name}
    if value is not None:
        edited[name] = value
    resources = [_resource(k, edited if k is kind else params) for k, params in FULL.items()]
    return diff(Catalog.of(resources), _account())


def _empty_lists(value: Any, path: str = "") -> Iterator[str]:
    if isinstance(value, list) and not value:
        yield path
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _empty_lists(item, f"{path}[{key}]" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _empty_lists(item, f"{path}[{index}]")


# -- the field table against the SDK ----------------------------------------------------------------------------


def test_every_field_an_update_changes_says_what_its_removal_sends_and_no_other_field_does() -> None:
    for spec in SPECS.values():
        for f in spec.fields:
            assert (f.removal is not None) == (f.mutability == Mutability.UPDATE), f"{spec.kind.value}.{f.name}"


def test_the_full_objects_give_every_updatable_field_a_value_other_than_its_default() -> None:
    for kind, name in FIELDS:
        assert name in FULL[kind], f"give {kind.value}.{name} a value in FULL"
        assert canonical(kind, {name: FULL[kind][name]})[name] != SPECS[kind].field(name).default


@pytest.mark.parametrize(("kind", "name"), FIELDS, ids=_ids(FIELDS))
def test_the_removal_agrees_with_the_sdk_update_params(kind: Kind, name: str) -> None:
    spec_field = SPECS[kind].field(name)
    takes_empty = _takes_empty(kind, name)
    if spec_field.removal in (Removal.UNSET, Removal.PER_KEY):
        assert takes_empty, "the table sends '' for a field Stripe cannot unset"
    elif spec_field.removal is Removal.REFUSED:
        assert not takes_empty, "the table refuses a removal Stripe can make"
    elif spec_field.removal is Removal.DEFAULT:
        default = {name: spec_field.default}
        assert sdkparams.check(_update_class(kind), default, form_encoded=False)[1] == []
    else:
        assert spec_field.removal is Removal.KEPT


CHOICES = [(kind, name) for kind, name in FIELDS if SPECS[kind].field(name).none_choice is not None]


@pytest.mark.parametrize(("kind", "name"), CHOICES, ids=_ids(CHOICES))
def test_a_none_choice_is_a_value_stripe_takes_for_a_field_it_cannot_unset(kind: Kind, name: str) -> None:
    choice = SPECS[kind].field(name).none_choice
    assert choice is not None
    assert SPECS[kind].field(name).removal is Removal.REFUSED
    assert sdkparams.check(_update_class(kind), {name: choice.value}, form_encoded=False)[1] == []


UNSETTABLE = [(kind, name) for kind, name in FIELDS if _takes_empty(kind, name)]


@pytest.mark.parametrize(("kind", "name"), UNSETTABLE, ids=_ids(UNSETTABLE))
def test_what_stripe_returns_for_an_unset_field_compares_equal_to_the_dropped_field(kind: Kind, name: str) -> None:
    # after an apply unsets a field, the next plan must see no change: Stripe's empty value and the catalog's
    # missing field have one canonical form
    returned = unset_value(RESOURCES[kind], name)
    assert canonical(kind, {name: returned})[name] == canonical(kind, {})[name]


# -- the diff, for every field: dropped, and emptied where it is a list ------------------------------------------


def _check_handled(kind: Kind, name: str, cs: ChangeSet) -> None:
    """No call Stripe refuses or that would not converge; a removal Stripe cannot make is a problem naming the
    field and what to write instead."""
    for call in cs.calls:
        assert check_call(call) == [], call
        assert list(_empty_lists(call.params)) == [], f"form encoding sends nothing for an empty list: {call}"
    address = f"{kind.value}.{FULL[kind][IDENTITY_FIELD[kind]]}"
    own = [call for call in cs.calls if call.address == address]
    # derived from the SDK: an update cannot send "" for this field, and there is no default to send back
    refused = not _takes_empty(kind, name) and SPECS[kind].field(name).default is None
    if refused and cs.problems:
        (problem,) = cs.problems
        assert (problem.address, problem.rule) == (address, "field-cannot-be-unset")
        assert f"`{name}`" in problem.message and f"`{name}:" in problem.hint
        assert own == []
    elif refused:
        # nothing to unset: the table keeps the account's value (a product's default_price)
        assert SPECS[kind].field(name).removal is Removal.KEPT
        assert own == [] and cs.problems == ()
    else:
        assert cs.problems == ()
        created = [call for call in own if call.creates == address]
        if created:  # a replace (a price's tax_behavior cannot go back): the new object has no such field
            assert all(name not in call.params for call in created)
        else:
            assert any(name in call.params for call in own), own


@pytest.mark.parametrize(("kind", "name"), FIELDS, ids=_ids(FIELDS))
def test_dropping_a_field_is_a_call_stripe_takes_or_a_problem_with_the_way_out(kind: Kind, name: str) -> None:
    cs = _plan_without(kind, name)
    _check_handled(kind, name, cs)
    if cs.problems and _required(kind, name):
        return  # the schema requires it too: validate says so before a plan is made
    if cs.problems:
        # the way out works: writing the hint's value makes a plan Stripe takes
        choice = SPECS[kind].field(name).none_choice
        for value in (FULL[kind][name], *([choice.value] if choice else [])):
            again = _plan_without(kind, name, value)
            assert again.problems == ()
            assert all(check_call(call) == [] for call in again.calls)


@pytest.mark.parametrize(("kind", "name"), LISTS, ids=_ids(LISTS))
def test_emptying_a_list_clears_it_the_way_stripe_clears_lists(kind: Kind, name: str) -> None:
    cs = _plan_without(kind, name, [])
    _check_handled(kind, name, cs)
    (call,) = [call for call in cs.calls if name in call.params]
    assert call.params[name] == ""


def test_the_derivation_finds_the_fields_stripe_cannot_unset() -> None:
    # guards the derivation itself: the fields behind the original bug reports are among those it finds
    refused = {(k, n) for k, n in FIELDS if not _takes_empty(k, n) and SPECS[k].field(n).default is None}
    assert {
        (Kind.PRICE, "nickname"),
        (Kind.PLAN, "nickname"),
        (Kind.PLAN, "trial_period_days"),
        (Kind.PRODUCT, "shippable"),
        (Kind.PRODUCT, "statement_descriptor"),
    } <= refused
    assert {(Kind.PRODUCT, "images"), (Kind.PRODUCT, "marketing_features")} <= set(LISTS)
