"""Stripe's cross-field rules, checked offline before anything is sent.

The JSON Schema checks types, enums, lengths and unknown fields of each object; these rules check what the
schema cannot: fields that exclude or require each other, tier tables, currency quirks, and the catalog-wide
facts (identities unique across files, references that resolve). Where a rule explains a schema error better,
the schema defers to it (`compiler.catalog.check`). The code stays defensive: any input gives diagnostics,
never an exception.

Every rule has a stable id (used in `file:line:col: error[<id>]: ...`), points at the field that has to change
and says what it rests on: a Stripe docs page and how sure we are, or nothing for a rule of pricebook's own.
Rules about something Stripe accepts (or may accept) are warnings. `docs/rules.md` lists every rule.

One module per topic registers its rules (`registry`); `engine` runs them.

Not checked here, on purpose:
- integer amounts that are floats: the loader's (`money-float`), before any rule;
- `tax_behavior` cannot change once `inclusive` or `exclusive`: that depends on the live value, so the diff
  enforces it;
- a meter must be active, a currency supported by the account's country: only the account knows.
"""

from compiler.catalog.rules.engine import RULES, RULES_BY_ID, RulesReport, check_entries, covering_rules, run_rules
from compiler.catalog.rules.registry import Basis, Cover, Finding, Rule

__all__ = [
    "RULES",
    "RULES_BY_ID",
    "Basis",
    "Cover",
    "Finding",
    "Rule",
    "RulesReport",
    "check_entries",
    "covering_rules",
    "run_rules",
]
