"""The saved plan file (`pricebook plan --out FILE`, `pricebook apply --plan FILE`): reading it, and the checks a
saved ChangeSet passes before apply sends anything from it.

A saved plan sends only what it shows. It is read only if it is a plan pricebook writes: within
`bounds.PLAN_FILE_MB` (a larger file is not read at all), UTF-8 JSON of the format this pricebook reads, every field
one the format has (`schemas/changeset.schema.json`), every call one pricebook makes, stage by stage. It is applied
only to the account it was made against (its id, where the key may read it) in the state it was made from (its
fingerprint). And what apply sends is not taken from the file: the changes and calls are derived again from the
catalog the file holds and the account read now, by the code `plan` uses, and the file is refused unless they come
out exactly as it shows them. So an edited call, an added one, a call on an object pricebook does not own or a path
that says more than an id cannot reach Stripe.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from compiler import bounds
from compiler.catalog.files import read_bounded
from compiler.changes.changeset import FORMAT_VERSION, ChangeSet, json_value
from compiler.changes.compile import path_id
from compiler.changes.model import Catalog, CheckedCatalog
from compiler.changes.planning import plan_against
from compiler.errors import StalePlan, UnsafeChange, UsageError
from compiler.stripe.calls import PLACEHOLDER, ApiCall, CallAction
from compiler.stripe.fields import SPECS
from compiler.stripe.gateway import COLLECTION_PATHS, NOT_BODY_KEYS
from compiler.stripe.kinds import Kind
from compiler.stripe.state import AccountState, LiveObject

#: levels of nesting a saved plan may have: pricebook's own stay under 12 (a change's tiered currency option);
#: a deeper file is none of them, and reading it on would only exhaust the stack
MAX_DEPTH = 32
SCHEMA_RESOURCE = "changeset.schema.json"
REMAKE = (
    "make the plan again with `pricebook plan --out FILE` and review that; a saved plan is applied as it was written"
)
_METER_STATUS_ACTIONS = frozenset({CallAction.DEACTIVATE, CallAction.REACTIVATE})
#: what a plan shows that `plan` reads beside the account state (who pays), and no call is made of
_READ_BESIDE = ("subscribers", "money_warnings")


# -- reading the file ---------------------------------------------------------------------------------------------


def load_changeset(path: str | Path) -> ChangeSet:
    """A ChangeSet saved by `pricebook plan --out FILE`; a UsageError that says why for anything else."""
    try:
        raw = read_bounded(Path(path), bounds.plan_file_bytes())
    except OSError as exc:
        raise UsageError(f"cannot read the saved plan {path}: {exc.strerror or exc}") from None
    if raw is None:  # not read: a saved plan that large is not one pricebook wrote
        raise UsageError(
            f"the saved plan {path} is larger than {bounds.PLAN_FILE_MB.show()}; nothing was changed",
            hint=f"check that it is a plan saved by `pricebook plan --out FILE` (one of 10,000 new prices is about "
            f"25 MB); {bounds.PLAN_FILE_MB.hint()}",
            rule="plan-file-too-large",
        )
    data = _json_object(raw, path)
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise UsageError(
            f"{path} is a saved plan in format {json.dumps(version)}; this pricebook reads format "
            f"{json.dumps(FORMAT_VERSION)}; nothing was changed",
            hint="run `pricebook plan --out FILE` again with this version of pricebook and apply that",
        )
    error = best_match(_validator().iter_errors(data))
    if error is not None:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
        raise UsageError(
            f"{path} is not a plan pricebook saved: at {where or 'the top level'}: {_brief(error.message)}; "
            "nothing was changed",
            hint="save one with `pricebook plan --out FILE`: a saved plan is read only as pricebook wrote it, and "
            "a field it does not write is never ignored",
        )
    try:
        changeset = ChangeSet.from_json(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path} is not a saved pricebook plan ({exc})", hint=REMAKE) from None
    if data.get("plan_hash") != changeset.plan_hash:  # what a reviewer approves must be what the file sends
        raise UsageError(
            f"{path} gives its plan hash as {data.get('plan_hash')}, but its calls and changes hash to "
            f"{changeset.plan_hash}; nothing was changed",
            hint=REMAKE,
        )
    seen: set[str] = set()
    for resource in changeset.catalog:
        if resource.address in seen:  # a catalog never defines an identity twice (validate says where)
            raise UsageError(f"{path} holds {resource.address} twice in its catalog; nothing was changed", hint=REMAKE)
        seen.add(resource.address)
    foreign = [call for call in changeset.calls if not is_pricebook_call(call)]
    if foreign:
        shown = "; ".join(f"{c.method} {c.path} ({c.address})" for c in foreign[:3])
        more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        raise UsageError(
            f"{path} holds {len(foreign)} call(s) pricebook never makes: {shown}{more}; nothing was changed",
            hint="pricebook only POSTs to /v1/products, /v1/prices, /v1/plans and /v1/billing/meters, or to one of "
            f"their objects by its id: {REMAKE}",
        )
    for earlier, call in pairwise(changeset.calls):
        if call.stage.rank < earlier.stage.rank:
            raise UsageError(
                f"{path} lists its calls out of stage order: {call.action.value} {call.address} (stage "
                f"{call.stage.value!r}) comes after a call of stage {earlier.stage.value!r}; nothing was changed",
                hint=REMAKE,
            )
    return changeset


def _json_object(raw: bytes, path: str | Path) -> dict[str, Any]:
    """The file as a JSON object no deeper than MAX_DEPTH; a UsageError for bytes that are not one."""
    hint = "save one with `pricebook plan --out FILE`"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{path} is not a saved pricebook plan: it is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset "
            f"{exc.start})",
            hint=hint,
        ) from None
    try:
        data = json.loads(text)
    except RecursionError:
        data = None
        deep = True
    except ValueError as exc:
        raise UsageError(f"{path} is not a saved pricebook plan ({exc})", hint=hint) from None
    else:
        deep = _deeper_than(data, MAX_DEPTH)
    if deep:
        raise UsageError(
            f"{path} is not a saved pricebook plan: it nests deeper than {MAX_DEPTH} levels, which no plan does",
            hint=hint,
        )
    if not isinstance(data, dict) or "calls" not in data:
        raise UsageError(f"{path} is not a saved pricebook plan (not a pricebook ChangeSet)", hint=hint)
    return data


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether JSON `value` nests more than `limit` arrays and objects deep (without recursing)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


@cache
def _validator() -> Draft202012Validator:
    text = resources.files("compiler").joinpath("data", SCHEMA_RESOURCE).read_text(encoding="utf-8")
    return Draft202012Validator(json.loads(text))


def _brief(text: str, width: int = 160) -> str:
    """A schema message on one line, shortened: it may quote a whole value of the file."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


# -- the calls pricebook makes ------------------------------------------------------------------------------------


def _call_pattern() -> re.Pattern[str]:
    """The paths of the calls pricebook makes: a kind's collection, one of its objects (an id as one path segment,
    or a placeholder for one), and a meter's /deactivate and /reactivate."""
    segment = rf"(?:{PLACEHOLDER.pattern}|[A-Za-z0-9_.~%-]+)"
    paths = []
    for kind, spec in SPECS.items():
        suffix = "(?:/(?:deactivate|reactivate))?" if kind is Kind.METER else ""
        paths.append(rf"{re.escape(spec.path)}(?:/{segment}{suffix})?")
    return re.compile("|".join(paths))


#: every path a saved plan's call may have (all of them POSTs); the id in one is checked by `object_id`
CALL_PATHS = _call_pattern()


def object_id(call: ApiCall) -> str | None:
    """The Stripe id of the existing object `call` is about, decoded from its path; None for a create or an object
    the plan creates (a placeholder). ValueError for a segment that is not how pricebook writes an id: a dot
    segment once decoded (`%2e%2e` is `..`), or any other spelling of one than `compile.path_id`'s."""
    spec = SPECS[call.kind]
    if not call.path.startswith(spec.path + "/"):
        return None
    segment = call.path[len(spec.path) + 1 :].split("/", 1)[0]
    if PLACEHOLDER.fullmatch(segment):
        return None
    decoded = unquote(segment, errors="strict")
    if decoded in ("", ".", "..") or path_id(decoded) != segment:
        raise ValueError(f"{segment!r} is not an object id as pricebook writes one in a path")
    return decoded


def is_pricebook_call(call: ApiCall) -> bool:
    """Whether `call` is one pricebook makes: a POST to a catalog collection (a create, which says what it
    creates) or to one of its objects by its id (which creates nothing), of the kind its address names, with body
    parameters only (no SDK request option such as another api_key or stripe_account), and a placeholder in the
    path only if the call depends on it (apply puts a Stripe id there before sending). A meter's /deactivate
    and /reactivate are those actions and nothing else is."""
    try:
        spec = SPECS[call.kind]
        call.stage  # noqa: B018 - raises for an action pricebook never takes on this kind
        object_id(call)  # raises for a path segment that is no id
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


# -- against the account ------------------------------------------------------------------------------------------


def check_account(saved: ChangeSet, state: AccountState) -> str | None:
    """Refuse a saved ChangeSet made against another account than the key's. Where the plan names no account
    (its key could not read it), the check is weaker, and the returned notice says so for the user to see."""
    if saved.account is None:
        return (
            "this plan does not name the account it was made against (its key could not read GET /v1/account): "
            "it is checked against this account by the objects it read alone (the fingerprint), which any two "
            "accounts holding the same objects share, two empty ones included"
        )
    if state.account is None:
        raise UsageError(
            f"this plan was made against account {saved.account}, and the key cannot read which account it belongs "
            "to (GET /v1/account refused it); nothing was changed",
            hint="apply it with a secret key of that account, or make the plan with this key "
            "(`pricebook plan --out FILE`)",
        )
    if state.account != saved.account:
        raise UsageError(
            f"this plan was made against account {saved.account}, but the key belongs to account {state.account}; "
            "nothing was changed",
            hint=f"apply it with the key of {saved.account}, or make a plan for this account with "
            "`pricebook plan --out FILE`",
        )
    return None


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


def check_targets(saved: ChangeSet, state: AccountState, source: str) -> None:
    """Refuse a call on an object that the plan does not create and the account does not show as pricebook's
    (metadata managed_by, or a meter the plan's catalog names) nor the plan's record adopts, or that is in none."""
    meters = {r.key for r in saved.catalog if r.kind is Kind.METER}
    # an adopt call is on an object made outside pricebook: one the plan's record takes over
    adopted = set(saved.adoption.targets.values()) if saved.adoption is not None else set()
    # products and plans have the ids the catalog gives them: a later call names one the plan creates by its id
    created = {(_family(c.kind), c.params.get("id")) for c in saved.calls if c.action is CallAction.CREATE}
    for call in saved.calls:
        target = object_id(call)
        if target is None or (_family(call.kind), target) in created:
            continue
        obj = _find(state, call.kind, target)
        why = None
        if obj is None:
            why = "is not in the account"
        elif call.action is CallAction.ADOPT and obj.id in adopted:
            continue
        elif not (obj.key in meters if obj.kind is Kind.METER else obj.managed):
            why = "is not pricebook's (no metadata managed_by=pricebook)" if obj.kind is not Kind.METER else (
                "is not pricebook's (its event_name is not in the plan's catalog)"
            )
        if why is not None:
            raise UnsafeChange(
                f"{source} holds {call.action.value} {call.address} ({call.method} {call.path}), and "
                f"{call.kind.value} {target} {why}; nothing was changed",
                hint=REMAKE,
            )


def _family(kind: Kind) -> tuple[Kind, ...]:
    """The kinds that share `kind`'s ids: prices and plans are one family with one id space."""
    return (Kind.PRICE, Kind.PLAN) if kind in (Kind.PRICE, Kind.PLAN) else (kind,)


def _find(state: AccountState, kind: Kind, target: str) -> LiveObject | None:
    family = _family(kind)
    return next((o for o in state.objects if o.kind in family and o.id == target), None)


def rederived(saved: ChangeSet, state: AccountState, source: str) -> ChangeSet:
    """What apply sends for `saved`: its changes and calls derived again from its catalog and `state` (the account
    read now, by `plan_against`, the code `plan` uses), refused unless they are exactly what `saved` shows.

    Who pays (the subscriber impact, `money_warnings`) was read beside the account at plan time, from lists the
    fingerprint does not cover; no call is made of it, so it is carried from the file as the reviewer saw it."""
    ensure_fresh(saved, state.fingerprint)
    check_targets(saved, state, source)
    adoptions = [saved.adoption] if saved.adoption is not None else []
    catalog = CheckedCatalog(Catalog.of(list(saved.catalog), adoptions), saved.warnings)
    # the plan records whether --allow-mass-archive was given: derived again under the same say-so
    allowed = saved.mass_archive is not None and saved.mass_archive.allowed
    derived = plan_against(catalog, state, allow_mass_archive=allowed)
    difference = _difference(_derivable(saved), _derivable(derived))
    if difference is not None:
        raise UnsafeChange(
            f"{source} does not send what it shows: {difference}; nothing was changed",
            hint="its calls and changes must be the ones its catalog gives against this account: " + REMAKE,
        )
    changes = tuple(
        dataclasses.replace(ours, subscribers=theirs.subscribers)
        for ours, theirs in zip(derived.changes, saved.changes, strict=True)
    )
    return dataclasses.replace(
        derived, changes=changes, subscribers=saved.subscribers, money_warnings=saved.money_warnings
    )


def _derivable(changeset: ChangeSet) -> dict[str, Any]:
    """A ChangeSet's JSON as the file holds it (tuples as lists, decimals as strings), without who pays."""
    document: dict[str, Any] = json.loads(json.dumps(changeset.to_json(), default=json_value))
    for name in _READ_BESIDE:
        document.pop(name)
    for change in document["changes"]:
        change.pop("subscribers")
    return document


def _difference(saved: Mapping[str, Any], derived: Mapping[str, Any]) -> str | None:
    """The first way the file differs from what its catalog gives, in words; None when it does not."""
    if saved["calls"] != derived["calls"]:
        return _calls_difference(saved["calls"], derived["calls"])
    if saved["changes"] != derived["changes"]:
        for shown, given in _pairs(saved["changes"], derived["changes"]):
            if shown != given:
                name = (shown or given or {}).get("address", "?")
                keys = _differing(shown or {}, given or {})
                return f"the change it shows for {name} is not what its catalog gives ({', '.join(keys)} differ)"
    keys = _differing(saved, derived)
    if not keys:
        return None
    return f"its {', '.join(keys)} {'differs' if len(keys) == 1 else 'differ'} from what its catalog gives"


def _calls_difference(saved: Sequence[Mapping[str, Any]], derived: Sequence[Mapping[str, Any]]) -> str:
    for index, (sent, given) in enumerate(_pairs(saved, derived), 1):
        if sent == given:
            continue
        if given is None:
            return f"call {index}, {_call_text(sent)}, is not one its changes give"
        if sent is None:
            return f"it leaves out call {index}, {_call_text(given)}, which its changes give"
        if (sent["action"], sent["address"], sent["path"]) != (given["action"], given["address"], given["path"]):
            return f"call {index} is {_call_text(sent)} where its changes give {_call_text(given)}"
        params = [
            f"{name} {_value(sent['params'].get(name))} where its changes give {_value(given['params'].get(name))}"
            for name in _differing(sent["params"], given["params"])
        ]
        detail = "; ".join(params[:3]) or f"{', '.join(_differing(sent, given))} differ"
        return f"call {index}, {_call_text(sent)}, sends {detail}"
    return "its calls differ from the ones its changes give"


def _pairs(first: Sequence[Any], second: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
    for index in range(max(len(first), len(second))):
        yield (first[index] if index < len(first) else None, second[index] if index < len(second) else None)


def _differing(first: Mapping[str, Any], second: Mapping[str, Any]) -> list[str]:
    return [key for key in sorted(set(first) | set(second)) if first.get(key) != second.get(key)]


def _call_text(call: Mapping[str, Any]) -> str:
    return f"{call.get('action')} {call.get('address')} ({call.get('method')} {call.get('path')})"


def _value(value: Any, width: int = 40) -> str:
    text = "(none)" if value is None else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 3] + "..."


def _short(fingerprint: str) -> str:
    return fingerprint.removeprefix("sha256:")[:12]
