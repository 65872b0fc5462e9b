"""The plan renderers on hand-built ChangeSets: what a reviewer must be able to read in each view."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from compiler.changes.changeset import (
    Action,
    Change,
    ChangeSet,
    FieldChange,
    MassArchive,
    MoneyWarning,
    Note,
    NoteTopic,
    Problem,
)
from compiler.changes.model import Resource
from compiler.errors import Diagnostic, Location, Severity
from compiler.render import json as json_view
from compiler.render.color import should_color
from compiler.render.json import CatalogJson, render_json
from compiler.render.markdown import (
    blocked_marker,
    code,
    escape_text,
    fenced,
    hash_marker,
    render_markdown,
    size,
    sticky_marker,
)
from compiler.render.text import render_text
from compiler.stripe.calls import ApiCall, CallAction
from compiler.stripe.kinds import Kind

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _tier(up_to: int | str, unit: int) -> dict[str, object]:
    return {"up_to": up_to, "unit_amount": unit, "unit_amount_decimal": None, "flat_amount": None,
            "flat_amount_decimal": None}


def _changeset(
    *, problems: tuple[Problem, ...] = (), livemode: bool = False, warnings: tuple[Diagnostic, ...] = ()
) -> ChangeSet:
    return ChangeSet(
        changes=(
            Change(Kind.PRODUCT, "suite", Action.CREATE, "new in the catalog",
                   after={"id": "suite", "name": "Suite | Pro", "description": None, "images": []}),
            Change(Kind.PRICE, "suite_monthly", Action.CREATE, "new in the catalog",
                   fields=(FieldChange("currency", None, "usd"), FieldChange("unit_amount", None, 1000)),
                   impact=({"quantity": 1, "before": None, "after": "$10.00", "currency": "usd"},)),
            Change(Kind.PRICE, "seat", Action.UPDATE, "nickname differs", live_id="price_1",
                   fields=(FieldChange("nickname", "Old", "New"),)),
            Change(Kind.PRICE, "team", Action.REPLACE, "unit_amount cannot change in place", live_id="price_2",
                   fields=(FieldChange("unit_amount", 1000, 1200, True), FieldChange("nickname", "Team", "Team+")),
                   notes=(Note("subscriptions on the old price keep it"),),
                   impact=({"quantity": 6, "before": "$20.00", "after": "$24.00", "currency": "usd"},
                           {"quantity": 10, "before": "$100.00", "after": "$100.00", "currency": "usd"})),
            Change(Kind.PRICE, "old", Action.ARCHIVE, "no longer in the catalog", live_id="price_4",
                   fields=(FieldChange("active", True, False),)),
            Change(Kind.PRICE, "same", Action.NOOP, "matches the catalog", live_id="price_5"),
        ),
        calls=(
            ApiCall("POST", "/v1/products", {"id": "suite", "name": "Suite | Pro"}, "product.suite", CallAction.CREATE,
                    "product.suite"),
            ApiCall("POST", "/v1/prices", {"product": "suite", "currency": "usd", "unit_amount": 1000},
                    "price.suite_monthly", CallAction.CREATE, "price.suite_monthly", ("product.suite",)),
            ApiCall("POST", "/v1/prices/price_1", {"nickname": "New"}, "price.seat", CallAction.UPDATE),
            ApiCall("POST", "/v1/prices/price_4", {"active": False}, "price.old", CallAction.ARCHIVE),
        ),
        problems=problems,
        api_version="2026-10-28.endive",
        fingerprint="sha256:0123abcd",
        livemode=livemode,
        warnings=warnings,
        account="acct_1R",
    )


HUF = Diagnostic(
    Location("plans/prices.yaml", 12, 18),
    "currency-special-case",
    "unit_amount of price 'seats_huf' is 12345 huf, not divisible by 100",
    "prefer amounts divisible by 100",
    Severity.WARNING,
)
EMPTY = Diagnostic(Location("plans/empty.yaml", 1, 1), "empty-file", "the file holds no catalog objects", None,
                   Severity.WARNING)

HELD = Problem("price.held", "lookup-key-held-by-unmanaged-price",
               'lookup_key "held" belongs to price_9, which pricebook does not manage',
               "mark price_9 as managed, or choose another lookup_key")


# -- text -------------------------------------------------------------------------------------------------


def test_text_uses_terraform_symbols_per_action() -> None:
    text = render_text(_changeset(), color=False)
    assert '  + product "suite" {' in text
    assert '  ~ price "seat" {' in text
    assert '-/+ price "team" {' in text
    assert '  - price "old" {' in text
    assert "# price.team must be replaced" in text
    # a no-op is counted, not shown
    assert '"same"' not in text


def test_text_marks_only_the_fields_that_force_replacement() -> None:
    lines = render_text(_changeset(), color=False).splitlines()
    forcing = [line for line in lines if "# forces replacement" in line]
    assert forcing == ["      ~ unit_amount = 1000 -> 1200 # forces replacement"]
    assert '      ~ nickname    = "Team" -> "Team+"' in lines
    # the replacement gets a new id, which Stripe makes up when it is created
    assert '      ~ id          = "price_2" -> (known after apply)' in lines


def test_text_summary_line() -> None:
    text = render_text(_changeset(), color=False)
    assert "Plan: 2 to create, 1 to update, 1 to replace, 1 to archive.\n" in text
    assert text.rstrip().endswith("Plan: 2 to create, 1 to update, 1 to replace, 1 to archive.")


def test_text_header_names_account_mode_api_version_and_fingerprint() -> None:
    text = render_text(_changeset(), color=False)
    assert text.splitlines()[0] == "pricebook plan: test mode account acct_1R, Stripe API version 2026-10-28.endive"
    assert "sha256:0123abcd" in text
    assert "LIVE mode" in render_text(_changeset(livemode=True), color=False)
    unnamed = render_text(dataclasses.replace(_changeset(), account=None), color=False).splitlines()[0]
    assert unnamed.startswith("pricebook plan: test mode account (id not readable with this key), ")


def test_text_shows_price_impact_and_notes() -> None:
    text = render_text(_changeset(), color=False)
    assert "quantity  6: $20.00 -> $24.00" in text
    assert "quantity 10: $100.00 (unchanged)" in text
    assert "quantity 1: $10.00" in text  # a new price has no before
    assert "# note: subscriptions on the old price keep it" in text


def test_text_create_without_fields_lists_the_set_attributes() -> None:
    text = render_text(_changeset(), color=False)
    assert '      + name = "Suite | Pro"' in text
    assert "description" not in text and "images" not in text  # unset attributes are left out


def test_text_lists_calls_in_order() -> None:
    text = render_text(_changeset(), color=False)
    listing = text[text.index("API calls") :].splitlines()[1:5]
    assert [line.split()[2] for line in listing] == ["/v1/products", "/v1/prices", "/v1/prices/price_1",
                                                      "/v1/prices/price_4"]
    assert listing[3].endswith("archive price.old")


def test_text_shows_problems_and_that_they_block_apply() -> None:
    text = render_text(_changeset(problems=(HELD,)), color=False)
    assert "Error: price.held: lookup_key" in text
    assert "[lookup-key-held-by-unmanaged-price]" in text
    assert "  hint: mark price_9 as managed" in text
    assert "1 problem blocks the apply" in text
    assert "blocks the apply" not in render_text(_changeset(), color=False)


def test_text_shows_the_catalogs_warnings_before_the_problems_and_the_summary() -> None:
    text = render_text(_changeset(problems=(HELD,), warnings=(HUF, EMPTY)), color=False)
    lines = text.splitlines()
    first = lines.index(
        "Warning: plans/prices.yaml:12:18: unit_amount of price 'seats_huf' is 12345 huf, not divisible by 100 "
        "[currency-special-case]"
    )
    assert lines[first + 1 : first + 4] == [
        "  hint: prefer amounts divisible by 100",
        "",
        "Warning: plans/empty.yaml:1:1: the file holds no catalog objects [empty-file]",
    ]
    assert first > lines.index("API calls, in the order apply sends them (4):")
    assert first < next(i for i, line in enumerate(lines) if line.startswith("Error: price.held"))
    assert "Warning:" not in render_text(_changeset(), color=False)


def test_text_shows_the_warnings_when_there_is_nothing_to_do() -> None:
    text = render_text(ChangeSet(api_version="v", fingerprint="f", warnings=(EMPTY,)), color=False)
    assert "Warning: plans/empty.yaml:1:1: the file holds no catalog objects [empty-file]\n\nNo changes." in text
    coloured = render_text(ChangeSet(warnings=(EMPTY,)), color=True)
    assert "\x1b[33m\x1b[1mWarning:\x1b[0m plans/empty.yaml:1:1" in coloured


def test_text_colour_only_when_asked() -> None:
    plain = render_text(_changeset(problems=(HELD,)), color=False)
    coloured = render_text(_changeset(problems=(HELD,)), color=True)
    assert "\x1b[" not in plain
    assert "\x1b[32m+\x1b[0m" in coloured  # a green create
    assert ANSI.sub("", coloured) == plain  # colour adds codes, never changes the words or the layout


def test_text_tiers_one_per_line() -> None:
    change = Change(Kind.PRICE, "tiered", Action.REPLACE, "tiers changed", live_id="price_3",
                    fields=(FieldChange("tiers", [_tier(5, 1000), _tier("inf", 800)],
                                        [_tier(10, 1000), _tier("inf", 800)], True),))
    lines = render_text(ChangeSet((change,)), color=False).splitlines()
    start = lines.index("      ~ tiers = [ # forces replacement")
    assert lines[start + 1 : start + 5] == [
        "          - {up_to: 5, unit_amount: 1000}",
        "          + {up_to: 10, unit_amount: 1000}",
        "            {up_to: inf, unit_amount: 800}",
        "        ]",
    ]


def test_text_none_and_removed_values() -> None:
    change = Change(Kind.PRODUCT, "suite", Action.UPDATE, "description removed", live_id="prod_1",
                    fields=(FieldChange("description", "Old text", None), FieldChange("unit_label", None, "seat")))
    text = render_text(ChangeSet((change,)), color=False)
    assert '      - description = "Old text" -> (none)' in text
    assert '      + unit_label  = "seat"' in text


def test_text_no_changes() -> None:
    noop = Change(Kind.PRICE, "same", Action.NOOP, "matches the catalog", live_id="price_5")
    text = render_text(ChangeSet((noop,), api_version="v", fingerprint="f"), color=False)
    assert "No changes." in text
    assert "Plan:" not in text and "API calls" not in text


MULTI = Change(Kind.PRICE, "team", Action.REPLACE, "tiers cannot change in place", live_id="price_2",
               notes=(Note("price impact assumes half a minor unit is rounded up", NoteTopic.ASSUMPTION, "half-up"),),
               impact=({"quantity": 1, "before": "$10.00", "after": "$10.01", "currency": "usd",
                        "change_percent": 0.1, "note": "assumes half-up"},
                       {"quantity": 10, "before": "$100.00", "after": "$120.00", "currency": "usd",
                        "change_percent": 20.0},
                       {"quantity": 10, "before": "€90.00", "after": "€110.00", "currency": "eur",
                        "change_percent": 22.2}))


def test_text_groups_price_impact_by_currency_and_marks_assumed_amounts() -> None:
    lines = render_text(ChangeSet((MULTI,)), color=False).splitlines()
    start = lines.index("    price impact (usd):")
    assert lines[start : start + 5] == [
        "    price impact (usd):",
        "      quantity  1: $10.00 -> $10.01 (+0.1%)  (assumes half-up)",
        "      quantity 10: $100.00 -> $120.00 (+20%)",
        "    price impact (eur):",
        "      quantity 10: €90.00 -> €110.00 (+22.2%)",
    ]
    assert "    # note: price impact assumes half a minor unit is rounded up" in "\n".join(lines)


LEFT_ALONE = ("meter.mtr_2", "product.other", "price.price_a", "price.price_b", "plan.gold-2019")


def test_text_counts_what_it_leaves_alone_after_the_summary() -> None:
    cs = _changeset()
    text = render_text(ChangeSet(cs.changes, cs.calls, api_version="v", left_alone=LEFT_ALONE), color=False)
    lines = text.splitlines()
    summary = lines.index("Plan: 2 to create, 1 to update, 1 to replace, 1 to archive.")
    assert lines[summary + 1] == (
        "Left alone: 1 product, 2 prices, 1 plan not managed by pricebook, 1 meter not in the catalog."
    )
    noop = Change(Kind.PRICE, "same", Action.NOOP, "matches the catalog", live_id="price_5")
    quiet = render_text(ChangeSet((noop,), left_alone=("price.price_a",)), color=False)
    assert quiet.endswith("nothing to do.\nLeft alone: 1 price not managed by pricebook.\n")
    only_meters = render_text(ChangeSet((noop,), left_alone=("meter.a", "meter.b")), color=False)
    assert "Left alone: 2 meters not in the catalog.\n" in only_meters
    assert "Left alone" not in render_text(_changeset(), color=False)


# -- colour decision --------------------------------------------------------------------------------------


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_without_no_color() -> None:
    assert should_color(_Tty(), {})
    assert not should_color(io.StringIO(), {})
    assert not should_color(_Tty(), {"NO_COLOR": "1"})
    assert should_color(_Tty(), {"NO_COLOR": ""})  # no-color.org: an empty value does not count
    assert not should_color(_Tty(), {"TERM": "dumb"})


# -- markdown ---------------------------------------------------------------------------------------------


def test_markdown_first_line_says_where_what_and_whether_anything_is_destructive() -> None:
    first = render_markdown(_changeset()).splitlines()[0]
    assert first == (
        "### pricebook plan · test mode · 2 to create, 1 to update, 1 to replace, 1 to archive · "
        "⚠️ destructive: 1 archived, 1 replaced (old version archived)"
    )
    live = render_markdown(_changeset(problems=(HELD,), livemode=True), environment="production").splitlines()[0]
    assert live.startswith("### pricebook plan · production (LIVE mode) · ❌ 1 problem blocks the apply · 2 to create")
    create = Change(Kind.PRICE, "p", Action.CREATE, "new in the catalog")
    assert render_markdown(ChangeSet((create,))).splitlines()[0] == (
        "### pricebook plan · test mode · 1 to create · nothing destructive"
    )


def test_markdown_counts_as_destructive_what_takes_something_away() -> None:
    off = Change(Kind.PRICE, "p", Action.UPDATE, "active differs", live_id="price_1",
                 fields=(FieldChange("active", True, False),))
    meter = Change(Kind.METER, "m", Action.UPDATE, "status differs", live_id="mtr_1",
                   fields=(FieldChange("status", "active", "inactive"),))
    repriced = Change(Kind.PRICE, "r", Action.UPDATE, "currency_options differ", live_id="price_2",
                      impact=({"quantity": 1, "before": "€9.00", "after": "€10.00", "currency": "eur",
                               "change_percent": 11.1},))
    first = render_markdown(ChangeSet((off, meter, repriced))).splitlines()[0]
    assert first.endswith(
        "3 to update · ⚠️ destructive: 1 archived, 1 meter deactivated, "
        "1 repriced in place (existing subscriptions pay the new amount)"
    )


def test_markdown_money_table_comes_first_with_before_after_and_change() -> None:
    md = render_markdown(ChangeSet((MULTI, *_changeset().changes[:2])))
    money = md[md.index("#### Price changes") : md.index("#### Other changes")]
    assert md.index("#### Other changes") < md.index("<details>")
    assert "**`-/+` 1 price to replace** (tiers cannot change in place). New subscriptions pay the new price" in money
    # the telling quantity: the one whose amount changes the most; each other currency that changes on its own row
    assert "| `team` | 10 | $100.00 | $120.00 | +20% |\n|  | 10 | €90.00 | €110.00 | +22.2% |" in money
    assert "| `suite_monthly` | 1 | $10.00 |" in money
    assert "- **`+` 1 product to create** (new in the catalog): `suite`" in md


def test_markdown_says_a_shared_reason_forcing_field_and_note_once_per_group() -> None:
    shared = Note("subscriptions on the old price keep it")
    changes = tuple(
        Change(Kind.PRICE, f"p{n}", Action.REPLACE, "unit_amount cannot change in place", live_id=f"price_{n}",
               fields=(FieldChange("unit_amount", 1000, 1200, True),),
               notes=(shared, Note(f"product.x{n}'s default price moves to the new price")),
               impact=({"quantity": 1, "before": "$10.00", "after": "$12.00", "currency": "usd",
                        "change_percent": 20.0},))
        for n in range(3)
    )
    md = render_markdown(ChangeSet(changes))
    assert md.count("unit_amount cannot change in place") == 2  # the money group and the details group
    assert md.count("subscriptions on the old price keep it") == 1
    assert md.count("Each one's replacement is forced by `unit_amount`.") == 1
    assert "Forces replacement" not in md
    assert all(f"- product.x{n}'s default price moves to the new price" in md for n in range(3))
    assert md.count("<details><summary><code>price.p") == 3


def test_markdown_details_fold_each_object() -> None:
    md = render_markdown(_changeset())
    assert "<details><summary><code>price.team</code>: $20.00 → $24.00 at 6</summary>" in md
    assert "+ unit_amount = 1200  # forces replacement" in md
    assert "- **Forces replacement:** `unit_amount`" in md
    assert "| 6 | $20.00 | $24.00 |  |" in md
    assert "- subscriptions on the old price keep it\n" in md
    assert "<details><summary><code>product.suite</code>: 2 fields to set</summary>" in md
    assert md.count("<details>") == md.count("</details>") == 6  # 5 changes + the calls


def test_markdown_has_one_price_impact_table_per_currency() -> None:
    md = render_markdown(ChangeSet((MULTI,)))
    usd, eur = md.index("**Price impact (usd)**"), md.index("**Price impact (eur)**")
    assert usd < eur
    assert "| 1 | $10.00 | $10.01 (assumes half-up) | +0.1% |" in md[usd:eur]
    assert "| 10 | €90.00 | €110.00 | +22.2% |" in md[eur:]
    assert "- price impact assumes half a minor unit is rounded up" in md


def test_markdown_folds_the_ids_it_leaves_alone() -> None:
    cs = _changeset()
    md = render_markdown(ChangeSet(cs.changes, cs.calls, api_version="v", left_alone=LEFT_ALONE))
    assert ("<details><summary>Left alone: 1 product, 2 prices, 1 plan not managed by pricebook, "
            "1 meter not in the catalog.</summary>") in md
    assert "- Prices not managed by pricebook: `price_a`, `price_b`\n" in md
    assert "- Meters not in the catalog: `mtr_2`\n" in md
    many = tuple(f"price.price_{n:03}" for n in range(25))
    long = render_markdown(ChangeSet(cs.changes, left_alone=many))
    assert "`price_019` and 5 more\n" in long and "price_020" not in long
    assert "Left alone" not in render_markdown(_changeset())


def test_markdown_lists_calls_with_params_in_order() -> None:
    md = render_markdown(_changeset())
    calls = md[md.index("API calls, in the order apply sends them (4)") :]
    order = [calls.index(f"{n}. `POST") for n in range(1, 5)]
    assert order == sorted(order)
    assert '     "unit_amount": 1000' in calls  # params as an indented JSON block under the item


def test_markdown_escapes_what_the_catalog_and_the_account_write() -> None:
    change = Change(Kind.PRODUCT, "p<b>", Action.UPDATE, "name `a|b` <b>changed</b>", live_id="prod_1",
                    fields=(FieldChange("name", "a|b", "c"),))
    md = render_markdown(ChangeSet((change,)))
    assert "- **`~` 1 product to update in place** (name \\`a\\|b\\` \\<b\\>changed\\</b\\>): `p<b>`" in md
    assert "<summary><code>product.p&lt;b&gt;</code>: 1 field changed</summary>" in md
    price = Change(Kind.PRICE, "x|y", Action.CREATE, "new", impact=({"quantity": 1, "before": None,
                                                                       "after": "$1.00", "currency": "usd"},))
    row = next(line for line in render_markdown(ChangeSet((price,))).splitlines() if line.startswith("| `x"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 4  # three cells: the pipe in the key must not open a fourth


def test_markdown_shows_the_plan_hash_and_the_short_fingerprint_json_keeps_it_whole() -> None:
    digest = "sha256:" + "ab" * 32
    changeset = ChangeSet(api_version="v", fingerprint=digest)
    md = render_markdown(changeset)
    where = "test mode (id not readable with this key)"  # a ChangeSet of no account
    assert f"| {where} | `v` | `sha256:abababababab` | `{changeset.plan_hash}` |" in md
    assert digest in render_json(changeset) and digest in render_text(changeset, color=False)


def test_markdown_ends_with_the_sticky_marker_and_the_plan_hash() -> None:
    changeset = _changeset()
    md = render_markdown(changeset)
    ending = f"<!-- pricebook-plan environment=test -->\n<!-- pricebook-plan-hash {changeset.plan_hash} -->\n"
    assert md.endswith(ending)
    assert sticky_marker("production") == "<!-- pricebook-plan environment=production -->"
    # one comment per environment: test and live plans never overwrite each other
    assert "<!-- pricebook-plan environment=live -->" in render_markdown(_changeset(livemode=True))
    assert "environment=eu-prod -->" in render_markdown(changeset, environment="eu-prod")
    # no name can end the HTML comment early
    assert sticky_marker("a -->b c") == "<!-- pricebook-plan environment=a%20--%3Eb%20c -->"
    assert changeset.plan_hash is not None
    assert re.fullmatch(r"<!-- pricebook-plan-hash sha256:[0-9a-f]{64} -->", hash_marker(changeset.plan_hash))


def test_markdown_filters() -> None:
    assert code("a`b") == "`` a`b ``"
    assert code("x|y") == "`x\\|y`"
    assert escape_text("a | b\nc") == "a \\| b c"
    assert escape_text("_legacy_ price_key") == "\\_legacy\\_ price_key"
    assert fenced("```\nx", "diff").startswith("````diff\n")


def test_markdown_problems() -> None:
    md = render_markdown(_changeset(problems=(HELD,)))
    assert "> [!CAUTION]" in md
    assert "#### Problems" in md
    assert "- **`price.held`** `lookup-key-held-by-unmanaged-price`: lookup_key \"held\" belongs" in md
    assert "  - Hint: mark price_9 as managed" in md
    assert "[!CAUTION]" not in render_markdown(_changeset())


def test_markdown_lists_the_catalogs_warnings_before_the_problems() -> None:
    md = render_markdown(_changeset(problems=(HELD,), warnings=(HUF, EMPTY)))
    section = md.index("#### Catalog warnings")
    assert section < md.index("#### Problems")
    assert (
        "- **`plans/prices.yaml:12:18`** `currency-special-case`: unit_amount of price 'seats_huf' is 12345 huf, "
        "not divisible by 100\n  - Hint: prefer amounts divisible by 100\n"
        "- **`plans/empty.yaml:1:1`** `empty-file`: the file holds no catalog objects\n"
    ) in md[section:]
    assert "Catalog warnings" not in render_markdown(_changeset())
    nothing = render_markdown(ChangeSet(warnings=(EMPTY,)))
    assert nothing.splitlines()[0].endswith("· no changes") and "`empty-file`" in nothing


def test_markdown_warns_about_live_mode() -> None:
    md = render_markdown(_changeset(livemode=True))
    assert "| **LIVE mode** `acct_1R` |" in md
    assert "> [!WARNING]\n> This plan was computed against the **live-mode** account" in md
    assert "[!WARNING]" not in render_markdown(_changeset())


def test_markdown_no_changes() -> None:
    changeset = ChangeSet(api_version="v", fingerprint="f")
    md = render_markdown(changeset)
    assert md.splitlines()[0] == "### pricebook plan · test mode · no changes"
    assert "<details>" not in md and "Price changes" not in md
    assert changeset.plan_hash is not None
    assert md.endswith(hash_marker(changeset.plan_hash) + "\n")


# -- json -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("problems", "warnings"), [((), ()), ((HELD,), ()), ((), (HUF, EMPTY))])
def test_json_round_trips_through_from_json(problems: tuple[Problem, ...], warnings: tuple[Diagnostic, ...]) -> None:
    changeset = _changeset(problems=problems, warnings=warnings)
    text = render_json(changeset)
    assert ChangeSet.from_json(json.loads(text)) == changeset
    assert render_json(ChangeSet.from_json(json.loads(text))) == text


def test_json_is_stable_and_starts_with_the_format_version() -> None:
    text = render_json(_changeset())
    assert text == render_json(_changeset())
    assert text.startswith('{"format_version":"2","api_version":"2026-10-28.endive",')
    data = json.loads(text)
    assert data["summary"] == {"adopt": 0, "create": 2, "update": 1, "replace": 1, "archive": 1, "no-op": 1}


# -- the plan hash ----------------------------------------------------------------------------------------


def test_a_blocked_plan_presents_no_hash_to_approve() -> None:
    # its calls leave out what is blocked: its digest would be that of a plan with nothing to do
    problem = Problem("plan.legacy", "plan-immutable-field", "Stripe cannot change amount", "give it a new id")
    blocked = _changeset(problems=(problem,))
    assert blocked.plan_hash is None
    text = render_text(blocked, color=False)
    assert "Plan hash: none: 1 problem blocks this plan, so there is nothing to approve until fixed\n" in text
    digest = _changeset().plan_hash  # the same plan unblocked
    assert digest is not None and digest not in text
    markdown = render_markdown(blocked)
    assert "pricebook-plan-hash" not in markdown and digest not in markdown
    assert markdown.endswith(sticky_marker("test") + "\n" + blocked_marker(1) + "\n")
    assert blocked_marker(1) == "<!-- pricebook-plan-blocked problems=1 -->"
    assert "none: blocked by a problem" in markdown
    data = json.loads(render_json(blocked))
    assert data["plan_hash"] is None
    assert ChangeSet.from_json(data).plan_hash is None


def test_the_plan_hash_is_in_json_text_and_markdown_and_survives_a_saved_plan() -> None:
    changeset = _changeset()
    digest = changeset.plan_hash
    assert digest is not None
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest)
    data = json.loads(render_json(changeset))
    assert data["plan_hash"] == digest
    assert ChangeSet.from_json(data).plan_hash == digest  # `apply --plan FILE` sees the hash that was approved
    assert f"Plan hash: {digest}\n" in render_text(changeset, color=False)
    assert f"`{digest}`" in render_markdown(changeset)


_SENT = _changeset()


@pytest.mark.parametrize(
    ("edit", "same"),
    [
        # what apply would send, and what it rests on: another hash
        (lambda cs: dataclasses.replace(cs, calls=(*cs.calls[:-1], dataclasses.replace(
            cs.calls[-1], params={"active": True}))), False),
        (lambda cs: dataclasses.replace(cs, calls=cs.calls[:-1]), False),
        (lambda cs: dataclasses.replace(cs, changes=(*cs.changes[:2], dataclasses.replace(cs.changes[2], fields=(
            FieldChange("nickname", "Older", "New"),)), *cs.changes[3:])), False),  # someone edited it by hand
        (lambda cs: dataclasses.replace(cs, livemode=True), False),
        (lambda cs: dataclasses.replace(cs, api_version="2099-01-01.x"), False),
        # what explains it, or the rest of the account: the same hash
        (lambda cs: dataclasses.replace(cs, fingerprint="sha256:other"), True),
        (lambda cs: dataclasses.replace(cs, changes=tuple(
            dataclasses.replace(c, reason="reworded", notes=(), impact=()) for c in cs.changes)), True),
        (lambda cs: dataclasses.replace(cs, left_alone=LEFT_ALONE, warnings=(HUF,)), True),
        (lambda cs: dataclasses.replace(cs, changes=cs.changes[:-1]), True),  # an object that needs nothing
    ],
)
def test_the_plan_hash_covers_what_is_sent_not_how_it_is_explained(
    edit: Callable[[ChangeSet], ChangeSet], same: bool
) -> None:
    assert (edit(_SENT).plan_hash == _SENT.plan_hash) is same


# -- the JSON schema --------------------------------------------------------------------------------------

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "changeset.schema.json"


def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)  # the schema itself is valid against the metaschema
    return jsonschema.Draft202012Validator(schema)


def test_schema_accepts_rendered_json() -> None:
    validator = _validator()
    mass = dataclasses.replace(_changeset(), mass_archive=MASS)
    for changeset in (_changeset(), _changeset(problems=(HELD,)), _changeset(warnings=(HUF, EMPTY)), ChangeSet(), mass):
        validator.validate(json.loads(render_json(changeset)))


# -- many archives at once: every view says so first --------------------------------------------------------------

MASS = MassArchive(12, 10, (Kind.PRICE,), allowed=False)
MASS_PROBLEM = Problem("catalog", "mass-archive", "this plan archives 12 objects ...", "... --allow-mass-archive")


@pytest.mark.parametrize("allowed", [False, True])
def test_every_view_states_a_mass_archive_before_the_changes(allowed: bool) -> None:
    problems = () if allowed else (MASS_PROBLEM,)
    changeset = dataclasses.replace(
        _changeset(problems=problems), mass_archive=dataclasses.replace(MASS, allowed=allowed)
    )
    said = "12 objects the catalog no longer lists (more than 10; every managed price)"
    text = render_text(changeset, color=False)
    header = text.split("\n\n", 1)[0]  # the lines before the first blank one
    expected = "allowed by --allow-mass-archive." if allowed else "blocked unless --allow-mass-archive is given."
    assert f"Mass archive: this plan archives {said}" in header and header.endswith(expected)
    markdown = render_markdown(changeset)
    line = next(n for n, text in enumerate(markdown.splitlines()) if "**Mass archive:**" in text)
    first_section = next(n for n, text in enumerate(markdown.splitlines()) if text.startswith("#### "))
    assert line < first_section
    assert markdown.splitlines()[line - 1] == ("> [!WARNING]" if allowed else "> [!CAUTION]")
    assert said in markdown.splitlines()[line]
    data = json.loads(render_json(changeset))
    assert list(data).index("mass_archive") < list(data).index("changes")
    assert data["mass_archive"] == {"count": 12, "limit": 10, "every_managed": ["price"], "allowed": allowed}


def test_no_view_mentions_a_mass_archive_when_there_is_none() -> None:
    changeset = _changeset()
    assert "Mass archive" not in render_text(changeset, color=False)
    assert "Mass archive" not in render_markdown(changeset)
    assert json.loads(render_json(changeset))["mass_archive"] is None


def test_json_warnings_are_what_validate_prints() -> None:
    data = json.loads(render_json(_changeset(warnings=(HUF,))))
    assert data["warnings"] == [HUF.to_json()]
    assert data["warnings"][0] == {
        "file": "plans/prices.yaml", "line": 12, "col": 18, "severity": "warning", "rule": "currency-special-case",
        "message": "unit_amount of price 'seats_huf' is 12345 huf, not divisible by 100",
        "hint": "prefer amounts divisible by 100",
    }


@pytest.mark.parametrize(
    "spoil",
    [
        lambda d: d.pop("fingerprint"),
        lambda d: d.update(format_version="1"),
        lambda d: d["changes"][0].update(action="delete"),
        lambda d: d["changes"][2].update(live_id=None),  # an update without the object it updates
        lambda d: d["changes"][3]["fields"][0].pop("forces_replacement"),
        lambda d: d["calls"][0].update(path="v1/products"),
        lambda d: d["calls"][0].update(action="move default price"),
        lambda d: d["calls"][0].pop("stage"),
        lambda d: d["summary"].pop("no-op"),
    ],
)
def test_schema_rejects_broken_json(spoil: Callable[[dict[str, Any]], object]) -> None:
    data = json.loads(render_json(_changeset()))
    spoil(data)
    assert not _validator().is_valid(data)


def _big_changeset(count: int) -> ChangeSet:
    changes = tuple(
        Change(Kind.PRICE, f"price_{n:04}", Action.REPLACE, "unit_amount cannot change", live_id=f"price_{n:04}x",
               fields=(FieldChange("unit_amount", 1000, 1200, True),),
               impact=({"quantity": 1, "before": "$10.00", "after": "$12.00", "currency": "usd",
                        "change_percent": 20.0},))
        for n in range(count)
    )
    calls = tuple(
        ApiCall("POST", "/v1/prices", {"lookup_key": c.key, "unit_amount": 1200, "transfer_lookup_key": True},
                c.address, CallAction.CREATE, c.address)
        for c in changes
    )
    return ChangeSet(changes, calls, (HELD,), "v", "f")


def test_markdown_sheds_detail_to_fit_a_pull_request_comment() -> None:
    changeset = _big_changeset(400)
    whole = render_markdown(changeset, limit=None)
    assert len(whole) > 60_000 and "Shortened" not in whole
    short = render_markdown(changeset)
    assert size(short) <= 60_000
    assert "> Shortened to fit in a pull-request comment: left out the details of " in short
    assert "the API calls and the field diffs. `pricebook plan --format markdown --max-bytes 0`" in short
    assert "| `price_0399` | 1 | $10.00 | $12.00 | +20% |" in short  # the money table keeps every price
    assert re.search(r"Details of \d+ of these 400 below; the others are left out of this comment\.", short)
    assert "#### Problems" in short and "lookup-key-held-by-unmanaged-price" in short  # never shed
    assert short.splitlines()[0] == whole.splitlines()[0]


def test_markdown_drops_call_parameters_first() -> None:
    changeset = _changeset()
    whole = render_markdown(changeset, limit=None)
    shorter = render_markdown(changeset, limit=size(whole) - 1)
    assert "left out the call parameters." in shorter
    assert '"unit_amount": 1000' not in shorter  # the parameters went
    assert "+ unit_amount = 1200  # forces replacement" in shorter  # the field diffs stayed
    assert "1. `POST /v1/products`" in shorter  # and so did the call list


def test_markdown_small_plan_is_not_shortened() -> None:
    assert "Shortened" not in render_markdown(_changeset())


def test_thousands_of_warnings_are_listed_up_to_a_number_before_the_money_table_shrinks() -> None:
    warnings = tuple(
        Diagnostic(Location("plans/a.yaml", n, 1), "currency-special-case", f"warning {n}: " + "x" * 60, None,
                   Severity.WARNING)
        for n in range(1, 1501)
    )
    raised = tuple(
        MoneyWarning(f"price.p{n}", "existing-subscribers-pay-more", "2 pay more " + "y" * 60, "tell them")
        for n in range(1500)
    )
    md = render_markdown(dataclasses.replace(_changeset(), warnings=warnings, money_warnings=raised))
    assert size(md) <= 60_000
    assert "| `team` | 6 | $20.00 | $24.00 |  |" in md  # the money table as a table
    assert "**1,500 warnings about what existing subscribers pay**" in md
    assert re.search(r"> - … and [\d,]+ more, left out of this comment\.", md)
    assert re.search(r"- … and [\d,]+ more warnings, left out of this comment\.", md)
    assert re.search(r"left out .*[\d,]+ warnings and problems", md)


def test_json_is_compact_unless_asked_pretty_and_both_read_the_same() -> None:
    changeset = _changeset()
    compact, pretty = render_json(changeset), render_json(changeset, pretty=True)
    assert compact.count("\n") == 1 and compact.endswith("}\n") and ", " not in compact.split('"')[0]
    assert pretty.startswith('{\n  "format_version": "2"')
    assert json.loads(compact) == json.loads(pretty)


def test_a_catalog_encoded_ahead_is_written_as_encoding_it_there_would(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_view, "CHUNK", 2)  # several chunks, the last one short
    params = {"lookup_key": "", "nickname": "Café – “pro” \u2028", "unit_amount_decimal": Decimal("1.50")}
    resources = tuple(Resource(Kind.PRICE, f"p{i}", {**params, "lookup_key": f"p{i}"}, {}) for i in range(5))
    changeset = dataclasses.replace(_changeset(), catalog=resources)
    expected = render_json(changeset)
    encoded = CatalogJson()
    encoded.start(resources)
    assert encoded.wait(10)
    assert render_json(changeset, catalog=encoded) == expected
    text = encoded.text(resources)
    assert text is not None and f'"catalog":{text},' in expected and json.loads(text)[4]["key"] == "p4"
    # another catalog, even an equal one, is encoded with the rest
    assert encoded.text(tuple(list(resources))) is None
    assert render_json(dataclasses.replace(changeset, catalog=tuple(list(resources))), catalog=encoded) == expected
    empty = CatalogJson()
    empty.start(())
    assert empty.wait(10) and empty.text(()) == "[]"


def test_a_catalog_not_encoded_in_time_is_encoded_with_the_rest() -> None:
    resources = tuple(Resource(Kind.PRODUCT, f"p{i}", {"id": f"p{i}", "name": "P"}, {}) for i in range(3))
    changeset = dataclasses.replace(_changeset(), catalog=resources)
    late = CatalogJson()
    assert render_json(changeset, catalog=late) == render_json(changeset)  # never started
    late.start(resources)  # asked for before it started: it stops at once
    assert late.wait(10) and late.text(resources) is None
