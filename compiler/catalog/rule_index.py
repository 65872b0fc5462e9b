"""Every rule id `validate` can report, in one list: those of reading the files, the schema's, the adoption
record's and the cross-field rules', each with its severity, what it checks and the Stripe page it rests on (if any).

For the outputs that describe the rules beside the problems they found (SARIF's `rules`), and for
`docs/rules.md`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from compiler.catalog.check import ADOPTION_RULE_IDS, READING_RULE_IDS
from compiler.catalog.rules import RULES
from compiler.catalog.schema import RULE_IDS as SCHEMA_RULE_IDS
from compiler.errors import Severity

#: how a reading rule's description marks a warning (every other reading rule is an error)
WARNING_MARK = " (warning)"


@dataclass(frozen=True)
class RuleInfo:
    """What a user may want to know of a rule id: how bad, what it checks, where Stripe states it."""

    id: str
    severity: Severity
    summary: str
    #: the Stripe docs page the rule rests on; None for the files, the schema and pricebook's own rules
    doc: str | None = None


def _reading(rule_id: str, what: str) -> RuleInfo:
    severity = Severity.WARNING if what.endswith(WARNING_MARK) else Severity.ERROR
    return RuleInfo(rule_id, severity, what.removesuffix(WARNING_MARK))


@cache
def validate_rules() -> Mapping[str, RuleInfo]:
    """Every validate-time rule by id: reading first, then the schema, the adoption record, then the rules in their
    registry's order."""
    infos = [_reading(rule_id, what) for rule_id, what in READING_RULE_IDS.items()]
    infos += [RuleInfo(rule_id, Severity.ERROR, what) for rule_id, what in SCHEMA_RULE_IDS.items()]
    infos += [RuleInfo(rule_id, Severity.ERROR, what) for rule_id, what in ADOPTION_RULE_IDS.items()]
    infos += [RuleInfo(rule.id, rule.severity, rule.summary, rule.basis.doc) for rule in RULES]
    return {info.id: info for info in infos}
