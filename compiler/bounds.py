"""pricebook's own bounds on the work one command may do, whatever its input.

A catalog, a `--vars` file, a template or a server's answer can ask for any amount of time or memory; each bound
here stops that with an error naming it (a diagnostic where there is a place, with a rule id) instead of a command
that runs for minutes or is killed for its memory. They are not Stripe's limits (those are in
`compiler.stripe.facts`): they sit far above what a real catalog or account needs, and each can be raised (or
lowered, as the tests do) with its environment variable, which is read when the bound is checked.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from compiler.errors import UsageError


@dataclass(frozen=True)
class Bound:
    """One bound: its environment variable, its default, the unit of both, and what it bounds."""

    env: str
    default: float
    unit: str
    bounds: str

    @property
    def value(self) -> float:
        """The bound in force: the environment variable when set (a positive number), else the default."""
        raw = os.environ.get(self.env, "").strip()
        if not raw:
            return self.default
        try:
            value = float(raw.replace("_", ""))
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value <= 0:
            raise UsageError(
                f"{self.env}={raw!r} is not a positive number",
                hint=f"set it to a number of {self.unit} (the default is {self.show(self.default)}), or unset it",
            )
        return value

    @property
    def count(self) -> int:
        """The bound as a whole number (of bytes, values, digits, ...): never below 1."""
        return max(1, int(self.value))

    def show(self, value: float | None = None) -> str:
        """`10 MB`, `30 seconds`, `1,000,000 values`: the bound in force (or `value`) with its unit."""
        number = self.value if value is None else value
        text = f"{int(number):,}" if number == int(number) else f"{number:g}"
        return f"{text} {self.unit}"

    def hint(self) -> str:
        """How to raise it."""
        return f"set {self.env}=N to raise the bound (N in {self.unit}; now {self.show()})"


MB = 1_000_000

# -- files ------------------------------------------------------------------------------------------------------

FILE_MB = Bound(
    "PRICEBOOK_MAX_FILE_MB",
    10,
    "MB",
    "the size of one catalog file, `--vars` file or rendered template (a catalog of 10,000 prices is about 3 MB)",
)
FILE_VALUES = Bound(
    "PRICEBOOK_MAX_FILE_VALUES",
    1_000_000,
    "values",
    "the values (scalars, mappings and lists) of one catalog or `--vars` file (10,000 prices are about 300,000)",
)

PLAN_FILE_MB = Bound(
    "PRICEBOOK_MAX_PLAN_MB",
    500,
    "MB",
    "the size of one saved plan (`apply --plan FILE`), which holds the catalog, every change and every call: about "
    "2.5 KB a new price (25 MB for 10,000)",
)

# -- templates --------------------------------------------------------------------------------------------------

TEMPLATE_SECONDS = Bound("PRICEBOOK_TEMPLATE_SECONDS", 10, "seconds", "the time one template may take to render")
TEMPLATE_DIGITS = Bound("PRICEBOOK_TEMPLATE_DIGITS", 1000, "digits", "the digits of an integer a template computes")
TEMPLATE_CALL_DEPTH = Bound(
    "PRICEBOOK_TEMPLATE_CALL_DEPTH", 100, "levels", "how deeply a template's calls (macros, recursive loops) nest"
)

# -- diagnostics ------------------------------------------------------------------------------------------------

DIAGNOSTICS_SHOWN = Bound(
    "PRICEBOOK_MAX_DIAGNOSTICS", 100, "diagnostics", "the errors and warnings a command prints (the rest are counted)"
)
PROBLEMS_FOUND = Bound(
    "PRICEBOOK_MAX_PROBLEMS", 10_000, "problems", "the schema problems the check collects before it stops checking"
)

# -- server answers ---------------------------------------------------------------------------------------------

HTTP_TIMEOUT = Bound(
    "PRICEBOOK_HTTP_TIMEOUT", 30, "seconds", "how long a server may take to accept a connection or stay silent"
)
HTTP_DEADLINE = Bound(
    "PRICEBOOK_HTTP_DEADLINE",
    60,
    "seconds",
    "how long one request may take from its first send to its whole answer, retries included",
)
RESPONSE_MB = Bound("PRICEBOOK_MAX_RESPONSE_MB", 50, "MB", "the size of one answer of the server")
LIST_OBJECTS = Bound("PRICEBOOK_MAX_LIST_OBJECTS", 1_000_000, "objects", "the objects one list of the account may hold")

#: every bound
ALL: tuple[Bound, ...] = (
    FILE_MB,
    FILE_VALUES,
    PLAN_FILE_MB,
    TEMPLATE_SECONDS,
    TEMPLATE_DIGITS,
    TEMPLATE_CALL_DEPTH,
    DIAGNOSTICS_SHOWN,
    PROBLEMS_FOUND,
    HTTP_TIMEOUT,
    HTTP_DEADLINE,
    RESPONSE_MB,
    LIST_OBJECTS,
)


def file_bytes() -> int:
    """FILE_MB in bytes (also the characters a template's values and output may have)."""
    return max(1, int(FILE_MB.value * MB))


def plan_file_bytes() -> int:
    """PLAN_FILE_MB in bytes."""
    return max(1, int(PLAN_FILE_MB.value * MB))


__all__ = [
    "ALL",
    "DIAGNOSTICS_SHOWN",
    "FILE_MB",
    "FILE_VALUES",
    "HTTP_DEADLINE",
    "HTTP_TIMEOUT",
    "LIST_OBJECTS",
    "MB",
    "PLAN_FILE_MB",
    "PROBLEMS_FOUND",
    "RESPONSE_MB",
    "TEMPLATE_CALL_DEPTH",
    "TEMPLATE_DIGITS",
    "TEMPLATE_SECONDS",
    "Bound",
    "file_bytes",
    "plan_file_bytes",
]
