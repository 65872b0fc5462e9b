"""Runs the rules: every per-entry rule over each entry, then every catalog rule over all of them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from compiler.catalog.rules import (
    amounts,
    currency,
    custom_amount,
    identities,
    metadata,
    products,
    recurring,
    subscriptions,
    tiers,
    transform,
)
from compiler.catalog.rules.reading import Parsed, parse
from compiler.catalog.rules.registry import REGISTRY, CatalogCheck, EntryCheck, ParsedCheck, Rule
from compiler.catalog.source import Entry, NodePath
from compiler.errors import Diagnostic, sort_diagnostics
from compiler.stripe.kinds import Kind

#: the topic modules, which register their rules when imported; `RULES` lists them in this order
TOPICS = (amounts, tiers, transform, recurring, custom_amount, currency, metadata, products, identities, subscriptions)
_TOPIC_ORDER = [module.__name__.rsplit(".", 1)[-1] for module in TOPICS]
#: every rule, by topic
RULES: tuple[Rule, ...] = tuple(sorted(REGISTRY, key=lambda rule: _TOPIC_ORDER.index(rule.topic)))
RULES_BY_ID: Mapping[str, Rule] = {rule.id: rule for rule in RULES}
#: per kind, each per-entry rule with its check: (rule, check_entry, check_parsed or None)
_ENTRY_CHECKS: Mapping[Kind, tuple[tuple[Rule, EntryCheck, ParsedCheck | None], ...]] = {
    kind: tuple((r, r.check_entry, r.check_parsed) for r in RULES if r.check_entry is not None and kind in r.kinds)
    for kind in Kind
}
_CATALOG_CHECKS: tuple[tuple[Rule, CatalogCheck], ...] = tuple(
    (r, r.check_catalog) for r in RULES if r.check_catalog is not None
)


#: the rules that explain some schema error better, by the schema's rule id
_COVERING: Mapping[str, tuple[Rule, ...]] = {
    schema_rule: tuple(rule for rule in RULES if any(cover.schema_rule == schema_rule for cover in rule.covers))
    for schema_rule in {cover.schema_rule for rule in RULES for cover in rule.covers}
}


def covering_rules(entry: Entry, schema_rule: str, path: NodePath) -> frozenset[str]:
    """The ids of the rules that explain the schema error `schema_rule` at `path` (relative to `entry`) better
    than the schema does (empty: the schema's own message is the one to show)."""
    return frozenset(rule.id for rule in _COVERING.get(schema_rule, ()) if rule.covers_error(entry, schema_rule, path))


@dataclass(frozen=True)
class RulesReport:
    """What the rules found, sorted by place, and which rule reported at which entry."""

    diagnostics: list[Diagnostic]
    #: (rule id, file, entry path) for each per-entry rule that reported at an entry
    reported: frozenset[tuple[str, str, NodePath]]


def run_rules(entries: Sequence[Entry]) -> list[Diagnostic]:
    """Every rule over the catalog's entries; diagnostics sorted by place."""
    return check_entries(entries).diagnostics


def check_entries(entries: Sequence[Entry]) -> RulesReport:
    """Every rule over the catalog's entries, saying which rule reported at which entry."""
    entries = list(entries)
    found: list[Diagnostic] = []
    reported: set[tuple[str, str, NodePath]] = set()
    # plain loops: this runs ~40 checks per entry, so per-call overhead is most of the cost
    for entry in entries:
        parsed: Parsed | None = None  # read at the first rule that needs it, then shared by the others
        for rule, check, check_parsed in _ENTRY_CHECKS.get(entry.kind, ()):
            if rule.when and rule.when.isdisjoint(entry.data):
                continue
            if check_parsed is not None:
                if parsed is None:
                    parsed = parse(entry)
                findings = check_parsed(entry, parsed)
            else:
                findings = check(entry)
            for finding in findings:
                found.append(rule.diagnostic(finding))
                reported.add((rule.id, entry.doc.file, entry.path))
    for rule, catalog_check in _CATALOG_CHECKS:
        for finding in catalog_check(entries):
            found.append(rule.diagnostic(finding))
    return RulesReport(sort_diagnostics(found), frozenset(reported))
