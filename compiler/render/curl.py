"""API calls as the curl commands Stripe's docs print, ready to copy.

    curl https://api.stripe.com/v1/plans \\
      -u "$STRIPE_API_KEY:" \\
      -d nickname="Standard Cost Per 5 Users" \\
      -d "transform_usage[divide_by]"=5 \\
      ...

Choices, and why:
- The key is always the shell variable `$STRIPE_API_KEY`, never a value: the output is safe to paste anywhere.
- The URL is Stripe's real API base, for users to copy; `Stripe-Version` pins the version pricebook compiled
  for (the params depend on it: a metered price needs a meter since 2025-03-31.basil).
- One `-d` per form-encoded leaf in Stripe's bracket notation, lists indexed (`tiers[0][up_to]=5`).
- Quoting only where a shell needs it. Bracketed names are quoted (`-d "tiers[0][up_to]"=5`, as Stripe's
  current docs do) because zsh, macOS's default shell, refuses an unquoted `[...]` that matches no file.
- A value that form encoding would mangle (`&`, `+`, `%`, `#`, non-ASCII) goes through `--data-urlencode`.
- Ids that exist only after an earlier call are written the way Stripe's docs write ids to fill in,
  `{{METER_EMAILS_SENT_ID}}`: readable, always printed inside quotes (so no shell expands it), and named after
  the catalog object whose create call returns it (said in a comment above that call).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from compiler.stripe.calls import PLACEHOLDER, ApiCall

STRIPE_API_BASE = "https://api.stripe.com"
KEY_ARGUMENT = '"$STRIPE_API_KEY:"'

_BARE = re.compile(r"^[A-Za-z0-9_.,:/@=+-]+$")  # needs no quoting in sh, bash or zsh
_DOUBLE_QUOTE_UNSAFE = re.compile(r'["$`\\!]')  # special even inside double quotes (`!`: bash history)
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.~\[\]-]+")  # a form field name curl may send as it is
_FORM_UNSAFE = re.compile(r"[&+%#\x00-\x1f\x7f-\U0010ffff]")  # changed by form decoding, or not ASCII


def form_pairs(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """`params` as form fields in Stripe's bracket notation, in order: [("tiers[0][up_to]", "5"), ...]."""
    return list(_pairs(params, ""))


def _pairs(value: Any, prefix: str) -> Iterator[tuple[str, str]]:
    kind = type(value)  # exact types first: this runs on every leaf of every call
    if kind is str:
        yield prefix, value
    elif value is None:
        return  # the SDK drops None values as well
    elif kind is dict or (kind is not list and kind is not tuple and isinstance(value, Mapping)):
        for key, item in value.items():
            yield from _pairs(item, f"{prefix}[{key}]" if prefix else str(key))
    elif kind is list or kind is tuple:
        for index, item in enumerate(value):
            yield from _pairs(item, f"{prefix}[{index}]")
    else:
        yield prefix, _scalar(value)


def _scalar(value: Any) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def shell_quote(text: str) -> str:
    """`text` as one shell word: bare when safe, in double quotes when enough, else in single quotes."""
    if text and _BARE.fullmatch(text):
        return text
    if not _DOUBLE_QUOTE_UNSAFE.search(text):
        return f'"{text}"'
    return "'" + text.replace("'", "'\\''") + "'"


def placeholder_names(calls: Sequence[ApiCall]) -> dict[str, str]:
    """A docs-style name for every placeholder address: `meter.emails_sent` -> `{{METER_EMAILS_SENT_ID}}`.

    Two addresses that would read the same (`price.a-b`, `price.a_b`) get a numbered suffix, so a name
    always means one object.
    """
    names: dict[str, str] = {}
    taken: set[str] = set()
    for address in _addresses(calls):
        if address in names:
            continue
        base = re.sub(r"[^A-Za-z0-9]+", "_", address).strip("_").upper() + "_ID"
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        names[address] = "{{" + name + "}}"
    return names


def _addresses(calls: Sequence[ApiCall]) -> Iterator[str]:
    # only ids that some call needs: a product's id is its catalog id, printed as itself
    for call in calls:
        yield from sorted(call.placeholders())


def _named(text: str, names: Mapping[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: names.get(m.group(1), m.group(0)), text)


def render_call(
    call: ApiCall,
    names: Mapping[str, str] | None = None,
    *,
    api_base: str = STRIPE_API_BASE,
    api_version: str | None = None,
) -> str:
    """One call as a multi-line curl command (no trailing newline)."""
    names = names if names is not None else placeholder_names([call])
    url = api_base.rstrip("/") + _named(call.path, names)
    # curl treats {} and [] in a URL as its own globbing unless told not to
    head = f"curl {'--globoff ' if re.search(r'[][{}]', url) else ''}{shell_quote(url)}"
    lines = [head, f"-u {KEY_ARGUMENT}"]
    if call.method.upper() != "POST":
        lines.append(f"-X {call.method.upper()}")
    if api_version:
        lines.append(f"-H {shell_quote('Stripe-Version: ' + api_version)}")
    for key, value in form_pairs(call.params):
        # curl sends a field's name as given, so an odd metadata key (`a&b`, `x@y`) is encoded here
        if not _PLAIN_KEY.fullmatch(key):
            key = quote(key, safe="[]_-.~")
        if "{{" in value:
            value = _named(value, names)
        option = "--data-urlencode" if _FORM_UNSAFE.search(value) else "-d"
        lines.append(f"{option} {shell_quote(key)}={shell_quote(value) if value else ''}")
    return " \\\n  ".join(lines)


def render_calls(calls: Sequence[ApiCall], *, api_base: str = STRIPE_API_BASE, api_version: str | None = None) -> str:
    """Every call as curl, each under a comment saying what it does and which id its response carries."""
    names = placeholder_names(calls)
    blocks = []
    total = len(calls)
    for number, call in enumerate(calls, 1):
        comment = f"# {number}/{total}: {call.action.value} {call.address}"
        if call.creates and call.creates in names:
            comment += f" (its id is {names[call.creates]} below)"
        blocks.append(comment + "\n" + render_call(call, names, api_base=api_base, api_version=api_version))
    return "\n\n".join(blocks) + ("\n" if blocks else "")
