"""Problems as a SARIF 2.1.0 log, the format GitHub code scanning (and other tools) take in.

One run of the tool `pricebook`: the rules that the problems break (id, what each checks, its severity, the
Stripe page it rests on), and one result per problem at its place (a file relative to the repository's root,
`%SRCROOT%`, with line and column where known).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from compiler.catalog.rule_index import RuleInfo
from compiler.errors import Diagnostic, Severity, sort_diagnostics

SARIF_VERSION = "2.1.0"
#: the OASIS standard's schema (with its errata), as SARIF logs name it
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
#: the base that relative artifact locations are relative to: the repository's root
SOURCE_ROOT = "%SRCROOT%"
#: where the rule reference lives in pricebook's repository (a rule's help names it)
RULES_DOC = "docs/rules.md"

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning"}


def _artifact(file: str) -> dict[str, str]:
    path = PurePosixPath(file.replace("\\", "/"))
    if path.is_absolute():
        return {"uri": "file://" + quote(path.as_posix())}
    return {"uri": quote(path.as_posix()), "uriBaseId": SOURCE_ROOT}


def _location(diagnostic: Diagnostic, place: Callable[[str], str]) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": _artifact(place(diagnostic.location.file))}
    if diagnostic.location.line > 0:
        region: dict[str, int] = {"startLine": diagnostic.location.line}
        if diagnostic.location.col > 0:
            region["startColumn"] = diagnostic.location.col
        physical["region"] = region
    return {"physicalLocation": physical}


def _rule(rule_id: str, info: RuleInfo | None, severity: Severity) -> dict[str, Any]:
    """A rule's descriptor. A rule this pricebook does not list (it cannot happen; the test of the rule cases
    holds every id to the list) still gets one, so that every result names a rule."""
    summary = info.summary if info else rule_id
    help_text = f"{summary}. pricebook's rule reference ({RULES_DOC} in its repository) describes every rule"
    help_markdown = f"{summary}.\n\npricebook's rule reference (`{RULES_DOC}` in its repository) describes every rule"
    rule: dict[str, Any] = {
        "id": rule_id,
        "shortDescription": {"text": summary},
        "defaultConfiguration": {"level": _LEVEL[info.severity if info else severity]},
    }
    if info and info.doc:
        rule["helpUri"] = info.doc
        help_text += f"; Stripe's docs: {info.doc}"
        help_markdown += f"; [Stripe's docs]({info.doc})"
    rule["help"] = {"text": help_text + ".", "markdown": help_markdown + "."}
    return rule


def sarif_log(
    diagnostics: Iterable[Diagnostic],
    rules: Mapping[str, RuleInfo],
    *,
    version: str,
    place: Callable[[str], str] = str,
) -> dict[str, Any]:
    """The SARIF log of these problems: `rules` describes their rule ids, `version` is pricebook's, `place` maps a
    diagnostic's file to its path in the repository."""
    ordered = sort_diagnostics(diagnostics)
    index: dict[str, int] = {}
    descriptors: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for diagnostic in ordered:
        if diagnostic.rule not in index:
            index[diagnostic.rule] = len(descriptors)
            descriptors.append(_rule(diagnostic.rule, rules.get(diagnostic.rule), diagnostic.severity))
        message = diagnostic.message + (f"\nhint: {diagnostic.hint}" if diagnostic.hint else "")
        results.append(
            {
                "ruleId": diagnostic.rule,
                "ruleIndex": index[diagnostic.rule],
                "level": _LEVEL[diagnostic.severity],
                "message": {"text": message},
                "locations": [_location(diagnostic, place)],
            }
        )
    driver = {"name": "pricebook", "version": version, "semanticVersion": version, "rules": descriptors}
    run = {
        "tool": {"driver": driver},
        "invocations": [{"executionSuccessful": True}],
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render_sarif(
    diagnostics: Iterable[Diagnostic], rules: Mapping[str, RuleInfo], *, version: str, place: Callable[[str], str] = str
) -> str:
    return json.dumps(sarif_log(diagnostics, rules, version=version, place=place), indent=2, ensure_ascii=False) + "\n"
