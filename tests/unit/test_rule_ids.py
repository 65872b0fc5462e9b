"""Every rule id the code can report is in one of the registries that docs/rules.md is written from, so a new
one cannot go undocumented: the source of compiler/ is scanned for every string that looks like a rule id
(`words-joined-by-dashes`), and each is either registered or named below as something else.

The registries: validate-time ids (`catalog.rule_index`), plan-time problems (`changes.problems`), money warnings
(`changes.subscribers`), a usage file's problems (`usage.rules`), the environments file's (`cli.environments`),
and the errors only a running command meets (`stripe.runtime_rules`).
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

import compiler
from compiler.catalog.rule_index import validate_rules
from compiler.changes.problems import PLAN_WARNING_RULES, PROBLEM_RULES
from compiler.changes.subscribers import MONEY_WARNING_RULES
from compiler.cli.environments import RULE_IDS as CONFIG_RULE_IDS
from compiler.stripe import conformance, sdkparams
from compiler.stripe.runtime_rules import RUNTIME_RULES
from compiler.usage.rules import RULE_IDS as USAGE_RULE_IDS

PACKAGE = Path(compiler.__file__).resolve().parent
LOOKS_LIKE_A_RULE_ID = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)+$")

#: the strings of that shape in compiler/ that are no rule id, and what each is
NOT_RULE_IDS: Mapping[str, str] = {
    "utf-8": "an encoding",
    "utf-8-sig": "an encoding",
    "idempotency-key": "an HTTP header (the emulator's)",
    "x-ratelimit-remaining": "an HTTP header (GitHub's)",
    "no-op": "a ChangeSet action",
    "price-impact": "a Note topic",
    "still-billed": "a Note topic",
    "new-amount": "a Note topic",
    "default-moved": "a Note topic",
    "half-up": "a quote assumption",
    "round-per-line": "a quote assumption",
    "three-decimal": "a quote assumption",
    "divisible-by-100": "a quote assumption",
    "zero-usage-flat-fee": "a quote assumption",
    "has-changes": "a GitHub Actions step output",
    "plan-hash": "a GitHub Actions step output",
    "comment-url": "a GitHub Actions step output",
    "pricebook-plan": "the PR comment's marker",
    "pricebook-plan-hash": "the PR comment's hash marker",
    "pricebook-plan-blocked": "the PR comment's marker of a blocked plan",
    "pricebook-apply": "a thread name",
    "pricebook-catalog": "a thread name",
    "pricebook-catalog-json": "a thread name",
    "pricebook-emulator": "a thread name",
    "pricebook-http": "a thread name",
    "pricebook-read": "a thread name",
    "pricebook-subs": "a thread name",
    "pricebook-work": "a thread name",
    "pricebook-usage-1": "the version in a usage identifier",
}


def _strings() -> dict[str, list[str]]:
    """Every string constant of rule-id shape in compiler/, with where it stands."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            if LOOKS_LIKE_A_RULE_ID.match(node.value):
                found[node.value].append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    return found


def _registered() -> dict[str, str]:
    """Every registered rule id, and its registry."""
    registries: dict[str, list[str]] = {
        "catalog.rule_index": list(validate_rules()),
        "changes.problems": [rule.id for rule in (*PROBLEM_RULES, *PLAN_WARNING_RULES)],
        "changes.subscribers": [rule.id for rule in MONEY_WARNING_RULES],
        "usage.rules": list(USAGE_RULE_IDS),
        "cli.environments": list(CONFIG_RULE_IDS),
        "stripe.runtime_rules": [rule.id for rule in RUNTIME_RULES],
    }
    out: dict[str, str] = {}
    for registry, ids in registries.items():
        for rule_id in ids:
            assert rule_id not in out, f"{rule_id} is in {out[rule_id]} and in {registry}"
            out[rule_id] = registry
    return out


STRINGS = _strings()
REGISTERED = _registered()


def test_every_rule_id_in_the_code_is_registered() -> None:
    unknown = {value: places for value, places in STRINGS.items() if value not in REGISTERED}
    unregistered = {value: places for value, places in unknown.items() if value not in NOT_RULE_IDS}
    assert unregistered == {}, (
        "register each rule id (the module docstring names the registries), or add it to NOT_RULE_IDS if it is none"
    )


def test_nothing_called_no_rule_id_is_one_or_gone() -> None:
    assert set(NOT_RULE_IDS) & set(REGISTERED) == set()
    assert set(NOT_RULE_IDS) - set(STRINGS) == set(), "remove the strings compiler/ no longer has"


def test_every_runtime_and_usage_id_is_still_reported_somewhere() -> None:
    # the other registries are held to what the code reports by their own tests (rule cases, problems, ...)
    registry_files = {PACKAGE / "stripe" / "runtime_rules.py", PACKAGE / "usage" / "rules.py"}
    reported = {
        value
        for value, places in STRINGS.items()
        if any(PACKAGE.parent / place.rsplit(":", 1)[0] not in registry_files for place in places)
    }
    by_code = {conformance.rule_id(code) for code in conformance.CODES}
    ids = [rule.id for rule in RUNTIME_RULES if rule.id not in by_code] + list(USAGE_RULE_IDS)
    assert [rule_id for rule_id in ids if rule_id not in reported] == []


def test_compile_check_has_an_id_for_every_code_the_sdk_check_reports() -> None:
    # its ids are made from the codes (`conformance.rule_id`), so no string of theirs stands in the source
    codes = {value for name, value in vars(sdkparams).items() if name.startswith("PARAMETER_")}
    assert codes | {conformance.UNKNOWN_ENDPOINT} == set(conformance.CODES)
    assert {rule.id for rule in RUNTIME_RULES} >= {conformance.rule_id(code) for code in conformance.CODES}
