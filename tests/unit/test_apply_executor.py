"""The apply executor over plain ApiCalls, with a fake gateway: order, parallelism, keys, failure reports."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from compiler.apply import (
    ApplyResult,
    Progress,
    Record,
    StepLog,
    apply_changeset,
    apply_in_rounds,
    local_dependencies,
    stage_groups,
    workers_for,
)
from compiler.changes.changeset import ChangeSet, Problem
from compiler.changes.planfile import ensure_fresh, load_changeset
from compiler.errors import StalePlan, StripeApiError, UnsafeChange, UsageError
from compiler.stripe.calls import ApiCall, CallAction, in_stage_order


class FakeGateway:
    """Answers every write with a fresh id after `delay`; fails the calls named in `fail` (by path+action)."""

    def __init__(self, *, delay: float = 0.0, fail: dict[str, StripeApiError] | None = None) -> None:
        self.delay = delay
        self.fail = fail or {}
        self.lock = threading.Lock()
        self.events: list[tuple[str, str, float]] = []  # ("start"|"end", address+action, time)
        self.sent: list[tuple[ApiCall, str]] = []
        self.active = 0
        self.max_active = 0
        self.counter = 0
        self.livemode = False

    def send(self, call: ApiCall, idempotency_key: str) -> dict[str, Any]:
        name = f"{call.address} {call.action}"
        with self.lock:
            self.sent.append((call, idempotency_key))
            self.events.append(("start", name, time.monotonic()))
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self.counter += 1
            object_id = f"obj_{self.counter}"
        try:
            if self.delay:
                time.sleep(self.delay)
            if name in self.fail:
                raise self.fail[name]
            return {"id": object_id}
        finally:
            with self.lock:
                self.active -= 1
                self.events.append(("end", name, time.monotonic()))

    def redact(self, text: str) -> str:
        return text


def create(kind: str, key: str, params: dict[str, Any] | None = None, deps: tuple[str, ...] = ()) -> ApiCall:
    path = {"meter": "/v1/billing/meters", "product": "/v1/products", "price": "/v1/prices"}[kind]
    return ApiCall("POST", path, params or {"k": key}, f"{kind}.{key}", CallAction.CREATE, f"{kind}.{key}", deps)


def update(kind: str, key: str, action: CallAction, params: dict[str, Any]) -> ApiCall:
    return ApiCall("POST", f"/v1/{kind}s/{key}", params, f"{kind}.{key}", action)


def catalog_calls(prices: int = 3) -> list[ApiCall]:
    calls = [
        create("meter", "emails", {"event_name": "emails"}),
        create("product", "suite", {"id": "suite", "name": "Suite"}),
    ]
    for n in range(prices):
        calls.append(
            create(
                "price",
                f"p{n}",
                {"product": "suite", "lookup_key": f"p{n}", "recurring": {"meter": "{{meter.emails}}"}},
                ("meter.emails",),
            )
        )
    calls.append(
        ApiCall(
            "POST",
            "/v1/products/suite",
            {"default_price": "{{price.p0}}"},
            "product.suite",
            CallAction.SET_DEFAULT_PRICE,
            None,
            ("price.p0",),
        )
    )
    calls.append(update("price", "old", CallAction.ARCHIVE, {"active": False}))
    return calls


def changeset(calls: list[ApiCall], fingerprint: str = "fp1", **kw: Any) -> ChangeSet:
    return ChangeSet(calls=tuple(calls), fingerprint=fingerprint, **kw)


def test_every_call_is_sent_once_with_placeholders_resolved() -> None:
    gateway = FakeGateway()
    result = apply_changeset(changeset(catalog_calls()), gateway, workers=1)
    assert result.ok
    sent = [c for c, _ in gateway.sent]
    assert [c.address for c in sent] == [c.address for c in catalog_calls()]
    meter_id = result.ids["meter.emails"]
    assert all(c.params["recurring"]["meter"] == meter_id for c in sent if c.address.startswith("price.p"))
    assert sent[-2].params == {"default_price": result.ids["price.p0"]}
    assert not any("{{" in json.dumps(c.params) for c in sent)


def test_idempotency_keys_are_derived_from_the_call_and_the_fingerprint() -> None:
    first, again, other = FakeGateway(), FakeGateway(), FakeGateway()
    apply_changeset(changeset(catalog_calls(), "fp1"), first, workers=1)
    apply_changeset(changeset(catalog_calls(), "fp1"), again, workers=1)
    apply_changeset(changeset(catalog_calls(), "fp2"), other, workers=1)
    keys = [k for _, k in first.sent]
    assert len(set(keys)) == len(keys)
    assert keys == [k for _, k in again.sent]  # a re-run of the same ChangeSet replays, never duplicates
    assert not set(keys) & {k for _, k in other.sent}  # a changed account gets fresh keys
    for call, key in first.sent:
        assert key == call.idempotency_key("fp1")


def test_each_stage_is_one_group() -> None:
    # meters, products, creates, default prices, archives
    assert stage_groups(catalog_calls(3)) == [0, 1, 2, 2, 2, 3, 4]
    # one stage, many actions and kinds: one group (calls on one object still wait for each other)
    meter_calls = [
        create("meter", "a", {"event_name": "a"}),
        update("meter", "b", CallAction.UPDATE, {"display_name": "B"}),
        ApiCall("POST", "/v1/billing/meters/mtr_b/deactivate", {}, "meter.b", CallAction.DEACTIVATE),
    ]
    assert stage_groups(meter_calls) == [0, 0, 0]
    assert local_dependencies(meter_calls, stage_groups(meter_calls)) == [frozenset(), frozenset(), frozenset({1})]
    # a list out of stage order runs in list order: a later stage's call never joins an earlier group
    assert stage_groups([*catalog_calls(1), create("meter", "late")]) == [0, 1, 2, 3, 4, 5]


def test_local_dependencies_order_calls_on_the_same_object() -> None:
    calls = [
        update("price", "a", CallAction.UPDATE, {"nickname": "x"}),
        update("price", "b", CallAction.UPDATE, {"nickname": "y"}),
        update("price", "a", CallAction.UPDATE, {"metadata": {"k": "v"}}),
    ]
    assert local_dependencies(calls, stage_groups(calls)) == [frozenset(), frozenset(), frozenset({0})]


def _check_group_barriers(calls: list[ApiCall], gateway: FakeGateway) -> None:
    groups = stage_groups(calls)
    group_of = {f"{c.address} {c.action}": g for c, g in zip(calls, groups, strict=True)}
    starts = {n: t for kind, n, t in gateway.events if kind == "start"}
    ends = {n: t for kind, n, t in gateway.events if kind == "end"}
    for name, started in starts.items():
        for other, ended in ends.items():
            if group_of[other] < group_of[name]:
                assert ended <= started, f"{name} started before {other} finished"


def test_groups_run_in_list_order_and_archives_wait_for_default_price_moves() -> None:
    calls = catalog_calls(12)
    gateway = FakeGateway(delay=0.01)
    result = apply_changeset(changeset(calls), gateway, workers=6)
    assert result.ok
    _check_group_barriers(calls, gateway)


def test_independent_calls_of_one_group_run_in_parallel() -> None:
    calls = [create("price", f"p{n}") for n in range(24)]
    gateway = FakeGateway(delay=0.05)
    result = apply_changeset(changeset(calls), gateway, workers=8)
    assert result.ok
    # parallelism shows in the calls in flight at once (a wall-clock bound could fail on a loaded CI machine)
    assert gateway.max_active > 1
    assert gateway.max_active <= 8


def test_a_failure_stops_the_run_and_reports_done_failed_and_not_attempted() -> None:
    calls = catalog_calls(3)
    refusal = StripeApiError("No such meter: 'mtr_x'", status=400, code="resource_missing")
    gateway = FakeGateway(fail={"price.p1 create": refusal})
    result = apply_changeset(changeset(calls), gateway, workers=1)
    assert not result.ok
    assert [d.call.address for d in result.done] == ["meter.emails", "product.suite", "price.p0"]
    (failure,) = result.failed
    assert failure.call.address == "price.p1"
    assert failure.message == "No such meter: 'mtr_x'"
    assert (failure.status, failure.code) == (400, "resource_missing")
    assert [c.address for c in result.not_attempted] == ["price.p2", "product.suite", "price.old"]
    assert len(gateway.sent) == 4  # nothing after the failure was started


def test_in_flight_calls_finish_after_a_refusal_but_nothing_new_starts() -> None:
    calls = [create("price", f"p{n}") for n in range(20)]
    refusal = StripeApiError("Invalid currency", status=400, code="parameter_invalid")
    gateway = FakeGateway(delay=0.02, fail={"price.p2 create": refusal})
    result = apply_changeset(changeset(calls), gateway, workers=4)
    (failure,) = result.failed
    assert not failure.outcome_unknown and result.refused == (failure,)
    assert len(result.done) + len(result.failed) + len(result.not_attempted) == 20
    assert len(gateway.sent) == len(result.done) + 1
    assert len(result.not_attempted) >= 20 - 4 - 4  # at most one more round of workers after the failure
    assert all(e[0] == "end" for e in gateway.events[-1:])


@pytest.mark.parametrize("status", [500, 502, 409, 429, None])
def test_after_a_step_of_unknown_outcome_its_stage_goes_on_but_the_next_does_not_start(status: int | None) -> None:
    # a 5xx may have committed, a dropped connection (no status) may have too: the other creates of the stage are
    # independent and go on; what may depend on the failed one (the next stages) waits for a fresh read
    calls = catalog_calls(6)
    unknown = StripeApiError("An unknown error occurred", status=status)
    gateway = FakeGateway(fail={"price.p2 create": unknown})
    result = apply_changeset(changeset(calls), gateway, workers=3)
    (failure,) = result.failed
    assert failure.outcome_unknown and not result.refused
    assert failure.index == calls.index(next(c for c in calls if c.address == "price.p2"))
    assert sorted(d.call.address for d in result.done) == sorted(
        ["meter.emails", "product.suite", *(f"price.p{n}" for n in range(6) if n != 2)]
    )
    assert [c.action for c in result.not_attempted] == [CallAction.SET_DEFAULT_PRICE, CallAction.ARCHIVE]
    assert all(calls[d.index].address == d.call.address for d in result.done)  # each step knows its call


def test_a_call_that_depends_on_a_step_of_unknown_outcome_is_not_attempted() -> None:
    # one stage, one object: the meter's deactivation waits for its update, which may not have happened
    calls = [
        update("meter", "a", CallAction.UPDATE, {"display_name": "A"}),
        ApiCall("POST", "/v1/billing/meters/mtr_a/deactivate", {}, "meter.a", CallAction.DEACTIVATE),
        update("meter", "b", CallAction.UPDATE, {"display_name": "B"}),
    ]
    gateway = FakeGateway(fail={"meter.a update": StripeApiError("boom", status=500)})
    result = apply_changeset(changeset(calls), gateway, workers=1)
    assert [d.call.address for d in result.done] == ["meter.b"]
    assert [c.action for c in result.not_attempted] == [CallAction.DEACTIVATE]


def test_a_stop_lets_calls_in_flight_finish_and_starts_nothing_new() -> None:
    stop = threading.Event()
    calls = [create("price", f"p{n}") for n in range(30)]
    gateway = FakeGateway(delay=0.01)

    def progress(p: Progress) -> None:
        if p.done == 5:
            stop.set()

    result = apply_changeset(changeset(calls), gateway, workers=4, stop=stop, on_progress=progress)
    assert result.interrupted and not result.ok and not result.failed
    assert len(result.done) == len(gateway.sent)  # everything started was finished and reported
    assert len(result.done) + len(result.not_attempted) == 30
    assert 5 <= len(result.done) <= 5 + 4


def test_the_step_log_holds_what_is_done_and_in_flight_at_any_moment() -> None:
    log = StepLog()
    seen: list[Record] = []
    calls = [create("price", f"p{n}") for n in range(12)]
    gateway = FakeGateway(delay=0.01)
    apply_changeset(changeset(calls), gateway, workers=3, log=log, on_progress=lambda _: seen.append(log.record()))
    assert [len(r.done) for r in seen] == list(range(1, 13))
    assert any(r.in_flight for r in seen)
    final = log.record()
    assert len(final.done) == 12 and not final.in_flight and not final.failed


def test_zero_workers_still_means_one() -> None:
    assert apply_changeset(changeset(catalog_calls(1)), FakeGateway(), workers=0).ok


def test_a_changeset_with_problems_is_refused_before_any_write() -> None:
    gateway = FakeGateway()
    problem = Problem("plan.gold", "plan-immutable-field", "plan amount cannot change", "use a new plan id")
    with pytest.raises(UnsafeChange) as info:
        apply_changeset(changeset(catalog_calls(), problems=(problem,)), gateway)
    assert "plan amount cannot change" in info.value.message
    assert gateway.sent == []


def test_a_call_of_no_stage_is_refused_before_anything_is_sent() -> None:
    # a product has no /deactivate: such a call has no place in the order, so nothing starts
    odd = ApiCall("POST", "/v1/products/suite", {}, "product.suite", CallAction.DEACTIVATE)
    gateway = FakeGateway()
    with pytest.raises(UnsafeChange, match=r"1 call\(s\) are not ones pricebook makes \(deactivate product.suite\)"):
        apply_changeset(changeset([*catalog_calls(), odd]), gateway)
    assert gateway.sent == []


def test_a_changeset_for_the_other_mode_is_refused() -> None:
    gateway = FakeGateway()
    with pytest.raises(UsageError):
        apply_changeset(changeset(catalog_calls(), livemode=True), gateway)
    assert gateway.sent == []


def test_progress_is_reported_for_every_finished_call() -> None:
    seen: list[Progress] = []
    calls = catalog_calls(5)
    apply_changeset(changeset(calls), FakeGateway(), on_progress=seen.append, workers=3)
    assert len(seen) == len(calls)
    assert seen[-1].done == len(calls)
    assert all(p.total == len(calls) for p in seen)
    assert [p.done for p in seen] == sorted(p.done for p in seen)


def test_an_unknown_placeholder_fails_that_step_without_sending_it() -> None:
    calls = [create("price", "a", {"recurring": {"meter": "{{meter.ghost}}"}}, ("meter.ghost",))]
    gateway = FakeGateway()
    result = apply_changeset(changeset(calls), gateway)
    assert gateway.sent == []
    assert "meter.ghost" in result.failed[0].message


def test_text_that_only_looks_like_a_placeholder_is_sent_as_written() -> None:
    calls = [create("price", "a", {"nickname": "{{meter.ghost}}"})]
    gateway = FakeGateway()
    assert apply_changeset(changeset(calls), gateway).ok
    assert gateway.sent[0][0].params == {"nickname": "{{meter.ghost}}"}


def test_an_empty_changeset_does_nothing() -> None:
    result = apply_changeset(ChangeSet(), FakeGateway())
    assert result == ApplyResult(seconds=result.seconds)
    assert result.ok


@pytest.mark.parametrize(("rate", "workers"), [(25, 10), (100, 40), (1, 4), (1000, 40), (None, 8)])
def test_workers_follow_the_rate(rate: float | None, workers: int) -> None:
    assert workers_for(rate) == workers


def test_ensure_fresh() -> None:
    saved = changeset(catalog_calls(), "abc123")
    ensure_fresh(saved, "abc123")
    with pytest.raises(StalePlan) as info:
        ensure_fresh(saved, "def456")
    assert "changed since" in info.value.message
    assert "plan" in (info.value.hint or "")
    with pytest.raises(StalePlan):
        ensure_fresh(changeset(catalog_calls(), ""), "")


def test_load_changeset_round_trips_and_rejects_other_files(tmp_path: Path) -> None:
    saved = changeset(catalog_calls(), "abc123")
    good = tmp_path / "plan.json"
    good.write_text(json.dumps(saved.to_json()))
    loaded = load_changeset(good)
    assert loaded.fingerprint == "abc123"
    assert loaded.calls == saved.calls
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(UsageError):
        load_changeset(bad)
    other = tmp_path / "other.json"
    other.write_text("[1, 2]")
    with pytest.raises(UsageError):
        load_changeset(other)
    with pytest.raises(UsageError):
        load_changeset(tmp_path / "missing.json")


class LeakyGateway(FakeGateway):
    """Fails with an error whose text echoes the API key (not a StripeApiError, so the gateway never scrubbed it)."""

    key = "sk_test_51SECRETsecretSECRET"

    def send(self, call: ApiCall, idempotency_key: str) -> dict[str, Any]:
        raise RuntimeError(f"connection reset while sending Authorization: Bearer {self.key}")

    def redact(self, text: str) -> str:
        return text.replace(self.key, "[redacted]")


def test_an_unexpected_error_is_reported_without_the_api_key() -> None:
    result = apply_changeset(changeset(catalog_calls()), LeakyGateway(), workers=1)
    (failure,) = result.failed
    assert LeakyGateway.key not in failure.message
    assert failure.message == "RuntimeError: connection reset while sending Authorization: Bearer [redacted]"


def _saved(tmp_path: Path, saved: ChangeSet, **changes: Any) -> Path:
    data = saved.to_json()
    data.update(changes)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/customers"),
        ("POST", "/v1/products/../customers"),
        ("POST", "/v1/products/.."),
        ("POST", "/v1/prices/price_1/refunds"),
        ("POST", "/v1/products/suite/deactivate"),  # only meters have /deactivate
        ("POST", "/v1/products?expand[]=x"),
        ("POST", "/v1/products/{{product.elsewhere}}"),  # a placeholder the call does not depend on
        ("DELETE", "/v1/plans/basic"),
        ("GET", "/v1/products"),
        ("POST", "/v1/products/%2e%2e"),  # `..` once decoded: an HTTP client would send /v1/products/.. and resolve it
        ("POST", "/v1/products/.%2E"),
        ("POST", "/v1/products/%2e"),
        ("POST", "/v1/products/%73uite"),  # an id spelled otherwise than pricebook spells it
        ("POST", "/v1/products/%ff"),  # no UTF-8 once decoded
    ],
)
def test_a_saved_plan_with_a_call_pricebook_never_makes_is_refused(tmp_path: Path, method: str, path: str) -> None:
    calls = [*catalog_calls(), ApiCall(method, path, {"name": "x"}, "product.suite", CallAction.UPDATE)]
    with pytest.raises(UsageError) as info:
        load_changeset(_saved(tmp_path, changeset(calls)))
    assert f"{method} {path} (product.suite)" in info.value.message
    assert "nothing was changed" in info.value.message
    assert "plan --out" in (info.value.hint or "")


def test_a_saved_plan_may_hold_every_call_pricebook_makes(tmp_path: Path) -> None:
    calls = in_stage_order([
        *catalog_calls(),
        ApiCall("POST", "/v1/plans", {"id": "basic"}, "plan.basic", CallAction.CREATE, creates="plan.basic"),
        ApiCall("POST", "/v1/plans/basic", {"active": False}, "plan.basic", CallAction.ARCHIVE),
        ApiCall("POST", "/v1/prices/price_1", {"active": False}, "price.p0", CallAction.ARCHIVE),
        ApiCall("POST", "/v1/products/a%2Fb", {"name": "A"}, "product.a/b", CallAction.UPDATE),
        ApiCall("POST", "/v1/billing/meters/mtr_1", {"display_name": "E"}, "meter.emails", CallAction.UPDATE),
        ApiCall("POST", "/v1/billing/meters/mtr_1/deactivate", {}, "meter.emails", CallAction.DEACTIVATE),
        ApiCall("POST", "/v1/billing/meters/mtr_1/reactivate", {}, "meter.emails", CallAction.REACTIVATE),
        ApiCall(
            "POST", "/v1/prices/{{price.p0}}", {"active": False}, "price.p0", CallAction.ARCHIVE,
            depends_on=("price.p0",),
        ),
    ])
    assert load_changeset(_saved(tmp_path, changeset(list(calls)))).calls == calls


def test_a_saved_plan_with_calls_out_of_stage_order_is_refused(tmp_path: Path) -> None:
    # archives before the default price moves: Stripe would refuse to archive a price that is still a default
    calls = catalog_calls(2)
    calls[-2], calls[-1] = calls[-1], calls[-2]
    expected = r"out of stage order: set default price product.suite \(stage 'default prices'\)"
    with pytest.raises(UsageError, match=expected):
        load_changeset(_saved(tmp_path, changeset(calls)))


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"action": "deactivate"}, "an update path that claims to deactivate"),
        ({"action": "rename"}, "an action pricebook never takes"),
        ({"stage": "meters"}, "a stage that does not follow from the action"),
        ({"address": "plan.p1"}, "a price path about a plan"),
        ({"action": "set default price", "stage": "default prices"}, "an action its kind never gets"),
    ],
)
def test_a_saved_call_whose_action_stage_or_kind_do_not_fit_is_refused(
    tmp_path: Path, change: dict[str, str], why: str
) -> None:
    data = changeset([create("price", "p1")]).to_json()
    data["calls"][0].update(change)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError):
        load_changeset(path)


@pytest.mark.parametrize("version", ["3", "0", 2, None])
def test_a_saved_plan_in_an_unknown_format_is_refused(tmp_path: Path, version: object) -> None:
    with pytest.raises(UsageError) as info:
        load_changeset(_saved(tmp_path, changeset(catalog_calls()), format_version=version))
    assert "format" in info.value.message and "nothing was changed" in info.value.message


def test_a_plan_saved_by_an_older_pricebook_is_refused_with_the_way_out(tmp_path: Path) -> None:
    # as pricebook wrote format 1: calls without a stage, notes as plain strings, no diagnostics
    data = {
        "format_version": "1",
        "api_version": "2026-10-28.endive",
        "fingerprint": "sha256:" + "0" * 64,
        "livemode": False,
        "summary": {"create": 1, "update": 0, "replace": 0, "archive": 0, "no-op": 0},
        "changes": [{"address": "price.a", "kind": "price", "key": "a", "action": "create", "reason": "new",
                     "live_id": None, "fields": [], "before": None, "after": {}, "notes": ["a note"], "impact": []}],
        "problems": [],
        "calls": [{"method": "POST", "path": "/v1/prices", "params": {"currency": "usd"}, "address": "price.a",
                   "action": "create", "creates": "price.a", "depends_on": []}],
        "left_alone": {"meter": [], "product": [], "price": [], "plan": []},
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError) as info:
        load_changeset(path)
    assert info.value.message == (
        f'{path} is a saved plan in format "1"; this pricebook reads format "2"; nothing was changed'
    )
    assert info.value.hint == "run `pricebook plan --out FILE` again with this version of pricebook and apply that"


def test_a_saved_plan_without_a_format_version_is_refused(tmp_path: Path) -> None:
    data = changeset(catalog_calls()).to_json()
    del data["format_version"]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError):
        load_changeset(path)


# -- the command's report -------------------------------------------------------------------------------------------


def no_reread(_round: ChangeSet, _result: ApplyResult) -> ChangeSet:
    raise AssertionError("no read was due")


def _echoed() -> tuple[list[tuple[str, bool]], Any]:
    lines: list[tuple[str, bool]] = []

    def echo(message: str = "", err: bool = False, **_: Any) -> None:
        lines.append((message, err))

    return lines, echo


def test_the_report_of_a_complete_apply() -> None:
    from compiler.cli.apply import report
    from compiler.stripe.gateway import GatewayStats

    outcome = apply_in_rounds(changeset(catalog_calls(2)), FakeGateway(), no_reread)
    lines, echo = _echoed()
    report(outcome, GatewayStats(requests=12, rate_limited=2, retries=2), echo)
    text = "\n".join(m for m, _ in lines)
    assert "Apply complete: 6 call(s) done (4 create, 1 set default price, 1 archive)" in text
    assert "2 rate-limited (429)" in text
    assert not any(err for _, err in lines)


def test_the_report_of_a_stopped_apply_names_done_failed_and_not_attempted() -> None:
    from compiler.cli.apply import report
    from compiler.stripe.gateway import GatewayStats

    refusal = StripeApiError("No such product: 'suite'", status=400, code="resource_missing")
    gateway = FakeGateway(fail={"price.p0 create": refusal})
    outcome = apply_in_rounds(changeset(catalog_calls(2)), gateway, no_reread, workers=1)
    lines, echo = _echoed()
    report(outcome, GatewayStats(), echo)
    text = "\n".join(m for m, _ in lines)
    assert all(err for _, err in lines)
    assert text.startswith("Apply stopped after ") and "(Stripe refused a call): the account is partly" in text
    assert "done (2): 2 create" in text
    assert "failed: create price.p0 (400 resource_missing): No such product: 'suite'" in text
    assert "not attempted (3):" in text
    assert "set default price product.suite" in text and "archive price.old" in text


def test_the_progress_line_rewrites_itself_with_the_time_left(capsys: pytest.CaptureFixture[str]) -> None:
    from compiler.cli.apply import _ProgressLine

    clock = [100.0]
    line = _ProgressLine(tty=True, clock=lambda: clock[0])
    calls = catalog_calls(1)
    clock[0] += 2.0
    line(Progress(total=4, done=1, failed=0, in_flight=2, last=calls[0]))
    clock[0] += 2.0
    line(Progress(total=4, done=2, failed=1, in_flight=0, last=calls[1]))
    line.close()
    err = capsys.readouterr().err
    assert err.count("\r") == 2 and err.endswith("\n")
    assert "Applying: 1/4 calls done (25%), 0.5/s, ETA 0:00:06 - create meter.emails " in err
    # 3 of 4 finished in 4 s: one more takes about 1.3 s
    assert "Applying: 2/4 calls done (50%), 1 failed, 0.8/s, ETA 0:00:01 - create product.suite" in err


def test_outside_a_terminal_progress_is_a_line_every_few_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    from compiler.cli.apply import _ProgressLine
    from compiler.cli.progress import PLAIN_EVERY

    clock = [0.0]
    line = _ProgressLine(tty=False, clock=lambda: clock[0])
    calls = catalog_calls(1)
    for done in range(1, 1001):  # 1,000 calls at 25 a second: 40 s
        clock[0] = done / 25
        line(Progress(total=1000, done=done, failed=0, in_flight=8, last=calls[0]))
    line.close()
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == int(40 // PLAIN_EVERY) - 1  # one every 5 s, none for the last call (the report follows)
    assert "\r" not in "".join(lines)
    assert lines[0] == "Applying: 125/1,000 calls done (12%), 25.0/s, ETA 0:00:35"
    assert all(re.fullmatch(r"Applying: [\d,]+/1,000 calls done \(\d+%\), 25\.0/s, ETA 0:00:\d\d", x) for x in lines)


@pytest.mark.parametrize(
    "call",
    [
        # an SDK request option would send the write with another key or to another account
        ApiCall(
            "POST", "/v1/products/suite", {"name": "x", "api_key": "sk_live_x"}, "product.suite", CallAction.UPDATE
        ),
        ApiCall("POST", "/v1/products/suite", {"stripe_account": "acct_1"}, "product.suite", CallAction.UPDATE),
        # a create that doesn't say what it creates could be re-sent under a new key: a duplicate
        ApiCall("POST", "/v1/prices", {"currency": "usd", "unit_amount": 1}, "price.x", CallAction.CREATE),
        # an update that claims to create something
        ApiCall("POST", "/v1/prices/price_1", {"active": False}, "price.x", CallAction.ARCHIVE, creates="price.x"),
    ],
)
def test_a_saved_plan_whose_call_could_do_more_than_it_says_is_refused(tmp_path: Path, call: ApiCall) -> None:
    with pytest.raises(UsageError) as info:
        load_changeset(_saved(tmp_path, changeset([*catalog_calls(), call])))
    assert "nothing was changed" in info.value.message
