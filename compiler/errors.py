"""Places, diagnostics and the one error hierarchy.

Every user-facing problem is a `Diagnostic` (place, rule id, message, hint). Errors that stop a command are
`PricebookError`s carrying their exit code on the class, so the command line maps them in one place (see `cli`).
Every user-facing exception class is defined here; the stripe SDK's own exceptions are converted once, in
`compiler.stripe.gateway`, into `StripeApiError`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any

#: what a secret (an API key, a meter event session token) becomes wherever text that may hold one is shown
REDACTED = "[redacted]"
#: a value shorter than this is no key or token Stripe issues; redacting it would mangle ordinary text
_SHORTEST_SECRET = 8

_secrets: frozenset[str] = frozenset()
_secrets_lock = threading.Lock()


def keep_secret(value: str) -> None:
    """Have `redact` remove `value` from every text from now on (the gateway registers its API key and each meter
    event session token; the command line the STRIPE_API_KEY it starts with)."""
    global _secrets
    value = value.strip()
    if len(value) < _SHORTEST_SECRET:
        return
    with _secrets_lock:
        _secrets = _secrets | {value}


def redact(text: str) -> str:
    """`text` without any secret `keep_secret` was given: the one scrub every user-facing string goes through
    (messages, codes, parameters echoed, hints, reports, the internal-error line), whatever field it came in."""
    for secret in _secrets:  # a snapshot: the set is replaced, never changed in place
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1  # invalid input, failed command
    CHANGES = 2  # `plan --detailed-exitcode` found changes
    INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as shells report a command the signal ended


@dataclass(frozen=True, order=True)
class Location:
    """A place in a catalog file: 1-based line and column, as editors count."""

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        if self.col <= 0:  # a whole line (a row of a usage file)
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.col}"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    """One problem: `plans/suite.yaml:14:9: error[tiers-with-transform]: message` plus a hint."""

    location: Location
    rule: str
    message: str
    hint: str | None = None
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.location.file, self.location.line, self.location.col, self.rule, self.message)

    def format(self) -> str:
        text = f"{self.location}: {self.severity.value}[{self.rule}]: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.location.file,
            "line": self.location.line,
            "col": self.location.col,
            "severity": self.severity.value,
            "rule": self.rule,
            "message": self.message,
            "hint": self.hint,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Diagnostic:
        """A diagnostic as `to_json` wrote it; KeyError or ValueError for anything else."""
        hint = data.get("hint")
        return cls(
            Location(str(data["file"]), int(data["line"]), int(data["col"])),
            str(data["rule"]),
            str(data["message"]),
            None if hint is None else str(hint),
            Severity(data["severity"]),
        )


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(set(diagnostics), key=Diagnostic.sort_key)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


class PricebookError(Exception):
    """Base of every error pricebook reports to a user. `exit_code` is what the command exits with."""

    exit_code: ExitCode = ExitCode.ERROR
    hint: str | None = None
    #: the rule id the error is shown with (`error[rule]`), for errors that have one
    rule: str | None = None

    def __init__(self, message: str, *, hint: str | None = None, rule: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint
        if rule is not None:
            self.rule = rule


class Diagnosed(PricebookError):
    """An error told as diagnostics, each with its place, rule id and hint (the command prints them all)."""

    def __init__(self, message: str, diagnostics: list[Diagnostic]) -> None:
        super().__init__(message)
        self.diagnostics = diagnostics


class InvalidCatalog(Diagnosed):
    """The catalog files broke the schema or a rule; `diagnostics` says where."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        errors = [d for d in diagnostics if d.is_error]
        super().__init__(f"the catalog has {len(errors)} error(s)", diagnostics)


class InvalidUsageFile(Diagnosed):
    """A usage file pricebook cannot read as events (no header, an unknown column, not UTF-8)."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("the usage file cannot be imported", diagnostics)


class InvalidUsage(Diagnosed):
    """Usage that Stripe would refuse or drop: `usage record` checks its one event before sending it."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("the event was not sent", diagnostics)


class InvalidConfig(Diagnosed):
    """The environments file (pricebook.toml) cannot be used; `diagnostics` says where."""

    def __init__(self, file: str, diagnostics: list[Diagnostic]) -> None:
        super().__init__(f"{file} is not a valid environments file", diagnostics)


class UsageError(PricebookError):
    """The command line itself is wrong (a missing key, a live key without --live, a bad flag value)."""


class StripeApiError(PricebookError):
    """Stripe (or the emulator) refused a request; converted once, in `gateway`."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        param: str | None = None,
        hint: str | None = None,
        rule: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint, rule=rule)
        self.status = status
        self.code = code
        self.param = param


def error_text(exc: PricebookError) -> str:
    """The error in one line, as a person reads it: a refusal by Stripe says so, with its status and code (no
    secret in any of them: `redact`)."""
    if isinstance(exc, StripeApiError) and (exc.code or exc.status):
        said = " ".join(str(part) for part in (exc.status, exc.code) if part)
        return redact(f"Stripe refused the request ({said}): {exc.message}")
    return redact(exc.message)


class UnexpectedAnswer(PricebookError):
    """An answer Stripe never sends: not JSON, not an object, the wrong shape, or an object of the other mode than
    the key's. The API base is not Stripe (or something between rewrote the answer); converted in `gateway`."""

    rule = "unexpected-answer"
    hint = (
        "check --api-base and STRIPE_API_BASE: unset, pricebook talks to Stripe; set, it must be Stripe's API or "
        "`pricebook emulator`"
    )


class UnsafeChange(PricebookError):
    """A change Stripe cannot make, or one pricebook will not make (an object it does not own)."""


class StalePlan(PricebookError):
    """A saved ChangeSet whose account fingerprint no longer matches the account."""


class PlanChanged(PricebookError):
    """The plan about to be applied is not the one approved (`apply --expect-plan-hash`)."""


class NotQuotable(PricebookError):
    """The price has no amount the calculator can compute (customer-chosen amount, missing currency, bad tiers)."""


class ApplyFailed(PricebookError):
    """Some calls of an apply were not carried out (the report says which); running apply again finishes the job."""


class Interrupted(PricebookError):
    """Ctrl-C stopped the command; what it had done is reported before it exits."""

    exit_code = ExitCode.INTERRUPTED


class ExportError(PricebookError):
    """The YAML `import` wrote would not read back as the account's catalog (a bug of the exporter)."""


class GitHubError(PricebookError):
    """A GitHub Actions step cannot do its part: the runner's environment lacks what it needs, or GitHub's API
    refused a request (the comment, the issue, the pull request of a commit)."""
