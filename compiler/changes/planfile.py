"""The saved plan file (`pricebook plan --out FILE`, `pricebook apply --plan FILE`): its format and the checks a
saved ChangeSet passes before apply sends anything from it.

A saved plan is sent as it is, so it is refused unless it is in the format this pricebook writes, every call in it
is one pricebook makes, its calls come stage by stage as pricebook lists them, and the account is still the one
it was computed from.
"""

from __future__ import annotations

import json
import re
from itertools import pairwise
from pathlib import Path

from compiler.changes.changeset import FORMAT_VERSION, ChangeSet
from compiler.errors import StalePlan, UsageError
from compiler.stripe.calls import PLACEHOLDER, ApiCall, CallAction
from compiler.stripe.fields import SPECS
from compiler.stripe.gateway import COLLECTION_PATHS, NOT_BODY_KEYS
from compiler.stripe.kinds import Kind


def _call_pattern() -> re.Pattern[str]:
    """The paths of the calls pricebook makes: a kind's collection, one of its objects (an id as one path segment,
    or a placeholder for one), and a meter's /deactivate and /reactivate."""
    segment = rf"(?:{PLACEHOLDER.pattern}|(?!\.\.?(?:/|$))[A-Za-z0-9_.~%-]+)"
    paths = []
    for kind, spec in SPECS.items():
        suffix = "(?:/(?:deactivate|reactivate))?" if kind is Kind.METER else ""
        paths.append(rf"{re.escape(spec.path)}(?:/{segment}{suffix})?")
    return re.compile("|".join(paths))


#: every path a saved plan's call may have (all of them POSTs)
CALL_PATHS = _call_pattern()


def is_pricebook_call(call: ApiCall) -> bool:
    """Whether `call` is one pricebook makes: a POST to a catalog collection (a create, which says what it
    creates) or to one of its objects (which creates nothing), of the kind its address names, with body
    parameters only (no SDK request option such as another api_key or stripe_account), and a placeholder in the
    path only if the call depends on it (apply puts a Stripe id there before sending). A meter's /deactivate
    and /reactivate are those actions and nothing else is."""
    try:
        spec = SPECS[call.kind]
        call.stage  # noqa: B018 - raises for an action pricebook never takes on this kind
    except ValueError:
        return False
    last = call.path.rsplit("/", 1)[-1]
    verb = last if call.kind is Kind.METER and last in _METER_STATUS_ACTIONS else None
    return (
        call.method == "POST"
        and CALL_PATHS.fullmatch(call.path) is not None
        and (call.path == spec.path or call.path.startswith(spec.path + "/"))
        and verb == (call.action.value if call.action in _METER_STATUS_ACTIONS else None)
        and (call.action is CallAction.CREATE) == (call.path in COLLECTION_PATHS)
        and set(PLACEHOLDER.findall(call.path)) <= set(call.depends_on)
        and not (NOT_BODY_KEYS & set(call.params))
        and (call.creates is not None) == (call.path in COLLECTION_PATHS)
    )


_METER_STATUS_ACTIONS = frozenset({CallAction.DEACTIVATE, CallAction.REACTIVATE})


def load_changeset(path: str | Path) -> ChangeSet:
    """A ChangeSet saved by `pricebook plan --out FILE`; a clear error for anything else.

    The file is sent as it is, so it is refused unless it is in the format this pricebook writes and every call
    in it is one pricebook makes (a POST to /v1/products, /v1/prices, /v1/plans or /v1/billing/meters, or to one
    of their objects): an edited or foreign file cannot make apply send anything else.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read the saved plan {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or "calls" not in data:
            raise ValueError("not a pricebook ChangeSet")
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise UsageError(
                f"{path} is a saved plan in format {json.dumps(version)}; this pricebook reads format "
                f"{json.dumps(FORMAT_VERSION)}; nothing was changed",
                hint="run `pricebook plan --out FILE` again with this version of pricebook and apply that",
            )
        changeset = ChangeSet.from_json(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(
            f"{path} is not a saved pricebook plan ({exc})",
            hint="save one with `pricebook plan --out FILE`",
        ) from None
    foreign = [call for call in changeset.calls if not is_pricebook_call(call)]
    if foreign:
        shown = "; ".join(f"{c.method} {c.path} ({c.address})" for c in foreign[:3])
        more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        raise UsageError(
            f"{path} holds {len(foreign)} call(s) pricebook never makes: {shown}{more}; nothing was changed",
            hint="pricebook only POSTs to /v1/products, /v1/prices, /v1/plans and /v1/billing/meters: "
            "make the plan again with `pricebook plan --out FILE` rather than editing it",
        )
    for earlier, call in pairwise(changeset.calls):
        if call.stage.rank < earlier.stage.rank:
            raise UsageError(
                f"{path} lists its calls out of stage order: {call.action.value} {call.address} (stage "
                f"{call.stage.value!r}) comes after a call of stage {earlier.stage.value!r}; nothing was changed",
                hint="make the plan again with `pricebook plan --out FILE` rather than editing it",
            )
    return changeset


def ensure_fresh(saved: ChangeSet, current_fingerprint: str) -> None:
    """Refuse a saved ChangeSet when the account is no longer the one it was computed from."""
    if not saved.fingerprint:
        raise StalePlan(
            "the saved plan has no account fingerprint, so it cannot be checked against the account",
            hint="run `pricebook plan --out FILE` again and apply that",
        )
    if saved.fingerprint != current_fingerprint:
        raise StalePlan(
            "the account has changed since this plan was made "
            f"(fingerprint {_short(saved.fingerprint)} then, {_short(current_fingerprint)} now); nothing was changed",
            hint="run `pricebook plan` again, review it, and apply the new plan",
        )


def _short(fingerprint: str) -> str:
    return fingerprint.removeprefix("sha256:")[:12]
