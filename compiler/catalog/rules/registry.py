"""The rule registry: what a rule is, and the decorators the topic modules register their rules with."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from compiler.catalog.rules.reading import PRICED, Parsed, parse
from compiler.catalog.source import Entry, NodePath
from compiler.errors import Diagnostic, Location, Severity
from compiler.stripe.facts import Certainty, Limit
from compiler.stripe.kinds import Kind

ERROR, WARNING = Severity.ERROR, Severity.WARNING


@dataclass(frozen=True)
class Basis:
    """What a rule rests on: the Stripe page that states it and how sure we are, or (both None) nothing of
    Stripe's: a rule of pricebook's own about how a catalog is written."""

    doc: str | None = None
    certainty: Certainty | None = None

    @classmethod
    def of(cls, limit: Limit) -> Basis:
        return cls(limit.doc, limit.certainty)


#: a rule of pricebook's own (the catalog's structure, pricebook's ownership mark), not one of Stripe's
OWN = Basis()


@dataclass(frozen=True)
class Cover:
    """A schema error that a rule explains better, so the schema defers to the rule: the schema's rule id, and
    where in the object the error is, as a path pattern (`*` is one key or index, `**` any number of them)."""

    schema_rule: str
    path: tuple[str, ...]

    def matches(self, schema_rule: str, path: NodePath) -> bool:
        return schema_rule == self.schema_rule and _glob(self.path, path)


def _glob(pattern: Sequence[str], path: NodePath) -> bool:
    if not pattern:
        return not path
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_glob(rest, path[start:]) for start in range(len(path) + 1))
    return bool(path) and (head == "*" or head == path[0]) and _glob(rest, path[1:])


@dataclass(frozen=True)
class Finding:
    """What a check found; the rule adds its id and severity to make it a `Diagnostic`."""

    location: Location
    message: str
    hint: str | None = None


EntryCheck = Callable[[Entry], Iterable[Finding]]
#: a per-entry check that reads the entry's amounts, tier tables or currency options: `run_rules` reads those
#: once per entry (`parse`) and hands them to each such check
ParsedCheck = Callable[[Entry, Parsed], Iterable[Finding]]
CatalogCheck = Callable[[Sequence[Entry]], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """One rule: a stable id, what it checks, what it rests on, and its check.

    A per-entry rule (`check_entry`) sees one object of the `kinds` it applies to, and only when the object
    has one of the `when` fields (a shortcut that skips most rules for most prices; a test checks it loses
    nothing); a catalog rule (`check_catalog`) sees all entries at once and must stay linear in their number.
    """

    id: str
    severity: Severity
    summary: str
    basis: Basis
    kinds: tuple[Kind, ...] = ()
    check_entry: EntryCheck | None = None
    check_catalog: CatalogCheck | None = None
    #: the check behind `check_entry` when it takes the entry's parsed amounts (`run_rules` calls this one)
    check_parsed: ParsedCheck | None = None
    #: top-level fields without which the per-entry check cannot find anything (empty: always run it)
    when: frozenset[str] = frozenset()
    #: the module that registered it (`tiers`, `currency`, ...)
    topic: str = ""
    #: the schema errors this rule explains better (`compiler.catalog.check` lets it report them)
    covers: tuple[Cover, ...] = ()

    def covers_error(self, entry: Entry, schema_rule: str, path: NodePath) -> bool:
        """Whether this rule explains the schema error `schema_rule` at `path` (relative to `entry`)."""
        return entry.kind in self.kinds and any(cover.matches(schema_rule, path) for cover in self.covers)

    def applies_to(self, entry: Entry) -> bool:
        return entry.kind in self.kinds and (not self.when or not self.when.isdisjoint(entry.data))

    def diagnostic(self, finding: Finding) -> Diagnostic:
        return Diagnostic(finding.location, self.id, finding.message, finding.hint, self.severity)


#: every rule, as the topic modules register them on import
REGISTRY: list[Rule] = []


def _topic(check: Callable[..., object]) -> str:
    return check.__module__.rsplit(".", 1)[-1]


def entry_rule(
    rule_id: str,
    summary: str,
    basis: Basis,
    kinds: Sequence[Kind] = PRICED,
    severity: Severity = ERROR,
    when: Sequence[str] = (),
    covers: Sequence[Cover] = (),
) -> Callable[[EntryCheck], EntryCheck]:
    """Registers a check of one entry."""

    def register(check: EntryCheck) -> EntryCheck:
        rule = Rule(
            rule_id,
            severity,
            summary,
            basis,
            tuple(kinds),
            check_entry=check,
            when=frozenset(when),
            topic=_topic(check),
            covers=tuple(covers),
        )
        REGISTRY.append(rule)
        return check

    return register


def parsed_rule(
    rule_id: str,
    summary: str,
    basis: Basis,
    kinds: Sequence[Kind] = PRICED,
    severity: Severity = ERROR,
    when: Sequence[str] = (),
    covers: Sequence[Cover] = (),
) -> Callable[[ParsedCheck], ParsedCheck]:
    """`entry_rule` for a check that takes the entry's parsed amounts too; its `check_entry` parses them."""

    def register(check: ParsedCheck) -> ParsedCheck:
        def on_entry(entry: Entry) -> Iterable[Finding]:
            return check(entry, parse(entry))

        rule = Rule(
            rule_id,
            severity,
            summary,
            basis,
            tuple(kinds),
            check_entry=on_entry,
            when=frozenset(when),
            check_parsed=check,
            topic=_topic(check),
            covers=tuple(covers),
        )
        REGISTRY.append(rule)
        return check

    return register


def catalog_rule(
    rule_id: str, summary: str, basis: Basis, severity: Severity = ERROR
) -> Callable[[CatalogCheck], CatalogCheck]:
    """Registers a check of the whole catalog."""

    def register(check: CatalogCheck) -> CatalogCheck:
        REGISTRY.append(Rule(rule_id, severity, summary, basis, check_catalog=check, topic=_topic(check)))
        return check

    return register
