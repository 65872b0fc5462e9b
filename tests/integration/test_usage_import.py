"""`pricebook usage import` against the emulator, as a user runs it (a subprocess, the real SDK over HTTP).

The issue's bar: a 5,000-row import under injected faults (500s before and after the commit, 429s) and a kill
part-way, run again until done, leaves exactly 5,000 events, each once; a second run sends nothing; `--verify`
finds no difference; `--dry-run` on bad rows lists each with its line, exits 1 and sends nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import stripe

from compiler.emulator import EmulatorHandle
from compiler.stripe.gateway import Connection, Gateway
from compiler.usage.events import RowChecker
from compiler.usage.importer import UsageFile
from compiler.usage.meters import account_meters
from tests.cli import PRICEBOOK, REPO, run_pricebook
from tests.integration.conftest import EmulatorFactory

ROWS = 5000
CUSTOMERS = 20
EVENT_WRITES = ("/v2/billing/meter_event_stream", "/v1/billing/meter_events")


def make_meters(client: stripe.StripeClient) -> None:
    client.v1.billing.meters.create(
        params={"event_name": "emails_sent", "display_name": "Emails sent", "default_aggregation": {"formula": "sum"}}
    )
    client.v1.billing.meters.create(
        params={
            "event_name": "api_requests",
            "display_name": "API requests",
            "default_aggregation": {"formula": "sum"},
            "value_settings": {"event_payload_key": "requests"},
        }
    )


def write_usage(path: Path, rows: int, *, now: int | None = None) -> Path:
    """`rows` events of two meters over the past hour, for CUSTOMERS customers, in Stripe's bulk-upload columns
    (the second meter's value under its own key)."""
    now = now or int(time.time())
    lines = ["timestamp,event_name,payload_stripe_customer_id,payload_value,payload_requests"]
    for n in range(rows):
        customer = f"cus_{n % CUSTOMERS:04d}"
        if n % 4 == 3:
            lines.append(f"{now - 3600 + n % 3000},api_requests,{customer},,{n % 7 + 1}")
        else:
            lines.append(f"{now - 3600 + n % 3000},emails_sent,{customer},{n % 5 + 1},")
    path.write_text("\n".join(lines) + "\n")
    return path


def pairs(path: Path) -> int:
    """How many (meter, customer) pairs the file has."""
    rows = [line.split(",") for line in path.read_text().splitlines()[1:]]
    return len({(row[1], row[2]) for row in rows})


def stored_events(emulator: EmulatorHandle) -> list[dict[str, Any]]:
    with emulator.emulator._lock:
        return [dict(e) for e in emulator.emulator.store.usage.events]


def event_writes(emulator: EmulatorHandle) -> int:
    return sum(1 for r in emulator.requests() if r["method"] == "POST" and r["path"] in EVENT_WRITES)


def expected_identifiers(emulator: EmulatorHandle, path: Path) -> set[str]:
    """The identifiers the file's rows derive, computed apart from the import."""
    meters = account_meters(Gateway(Connection(emulator.api_key, emulator.url)))
    checker = RowChecker(meters, int(time.time()), str(path))
    identifiers = set()
    for row in UsageFile.at(path).rows():
        event = checker.check(row).event
        assert event is not None
        identifiers.add(event.identifier)
    return identifiers


def start_import(emulator: EmulatorHandle, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRIPE_")}
    env.update({"STRIPE_API_KEY": emulator.api_key, "STRIPE_API_BASE": emulator.url, "NO_COLOR": "1"})
    return subprocess.Popen(
        [*PRICEBOOK, "usage", "import", *args],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_5000_rows_under_faults_and_a_kill_arrive_exactly_once(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    # 500s before and after the commit on one write in six; 429s: the server allows 12 requests a second while
    # pricebook paces 15
    emulator = emulator_factory(fail_rate=0.16, rate_limit=12, seed=7)
    emulator.emulator.faults.fail_rate = 0.0
    make_meters(emulator.client())
    emulator.emulator.faults.fail_rate = 0.16
    usage = write_usage(tmp_path / "usage.csv", ROWS)

    # 1. killed part-way, as a crash or an OOM killer would
    process = start_import(emulator, str(usage), "--rate", "15")
    deadline = time.monotonic() + 60
    while len(stored_events(emulator)) < 1500:
        assert process.poll() is None, f"the import ended before the kill: {process.communicate()}"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert 1500 <= len(stored_events(emulator)) < ROWS

    # 2. run again until an import goes through (a run may stop when a request fails more often than retries allow)
    outputs = []
    for _ in range(8):
        done = run_pricebook(["usage", "import", str(usage), "--rate", "15"], emulator)
        outputs.append(done.stdout + done.stderr)
        if done.returncode == 0:
            break
    else:
        raise AssertionError(f"no import went through: {outputs[-1]}")
    requests = emulator.requests()
    faults = Counter(r["fault"] for r in requests if r["fault"])
    assert faults["before_commit"] and faults["after_commit"], faults
    assert any(r["status"] == 429 for r in requests)

    # exactly 5,000 events, each once, each one of the file's rows, none that Stripe would drop
    events = stored_events(emulator)
    identifiers = [e["identifier"] for e in events]
    assert len(identifiers) == ROWS
    assert len(set(identifiers)) == ROWS
    assert set(identifiers) == expected_identifiers(emulator, usage)
    assert all(e["error"] is None for e in events)

    # 3. a second run sends nothing, and --verify finds Stripe's totals equal to the file's
    emulator.emulator.faults.fail_rate = 0.0
    emulator.emulator.rate.per_second = None
    before = event_writes(emulator)
    again = run_pricebook(["usage", "import", str(usage), "--verify"], emulator)
    assert again.returncode == 0, again.stderr
    assert event_writes(emulator) == before
    assert "sent" + " " * 21 + "0" in again.stdout
    assert f"already there{' ' * 8}{ROWS:,}" in again.stdout
    assert f"Verified: {pairs(usage)} customer/meter total(s) match" in again.stdout
    assert len(stored_events(emulator)) == ROWS


def test_the_journal_not_stripes_24_hours_keeps_a_rerun_from_sending(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    emulator = emulator_factory()
    make_meters(emulator.client())
    usage = write_usage(tmp_path / "usage.csv", 400)
    first = run_pricebook(["usage", "import", str(usage), "--rate", "200"], emulator)
    assert first.returncode == 0, first.stderr
    # a day later Stripe would take the same identifiers again: only the journal stands between them
    emulator.control("POST", "clock?advance=90000")
    before = event_writes(emulator)
    again = run_pricebook(["usage", "import", str(usage), "--rate", "200"], emulator)
    assert again.returncode == 0, again.stderr
    assert event_writes(emulator) == before
    assert len(stored_events(emulator)) == 400


def test_each_environment_keeps_its_own_journal(emulator_factory: EmulatorFactory, tmp_path: Path) -> None:
    """One file imported into two accounts, each through its environment, then cancelled in one: each account's
    rows are sent once, each journal is its account's. A journal from before journals were per environment
    (a run without --env) is continued by the environment of its account, not started again."""
    test, sandbox = emulator_factory(seed=1), emulator_factory(seed=2)  # two accounts: other meter ids
    for account in (test, sandbox):
        make_meters(account.client())
    (tmp_path / ".git").mkdir()
    (tmp_path / "pricebook.toml").write_text(
        f'[environments.test]\napi_key_env = "TEST_KEY"\napi_base = "{test.url}"\n\n'
        f'[environments.sandbox]\napi_key_env = "SANDBOX_KEY"\napi_base = "{sandbox.url}"\n'
    )
    keys = {"TEST_KEY": test.api_key, "SANDBOX_KEY": sandbox.api_key}
    usage = write_usage(tmp_path / "usage.csv", 50)
    args = ["usage", "import", str(usage), "--rate", "200"]

    before = run_pricebook(args, test, cwd=tmp_path, extra_env=keys)  # STRIPE_API_KEY: the test account
    assert before.returncode == 0, before.stderr
    assert f"journal: {usage}.journal\n" in before.stdout
    into_sandbox = run_pricebook([*args, "--env", "sandbox"], sandbox, cwd=tmp_path, extra_env=keys)
    assert into_sandbox.returncode == 0, into_sandbox.stderr
    assert f"journal: {usage}.sandbox.journal\n" in into_sandbox.stdout
    assert len(stored_events(sandbox)) == len(stored_events(test)) == 50

    cancelled = run_pricebook(
        ["usage", "cancel", "--file", str(usage), "--env", "sandbox"], sandbox, cwd=tmp_path, extra_env=keys
    )
    assert cancelled.returncode == 0, cancelled.stderr
    assert "Cancelled 50 event(s)" in cancelled.stdout
    assert all(e["cancelled"] for e in stored_events(sandbox))

    test.control("POST", "clock?advance=90000")  # Stripe no longer knows the identifiers: only a journal does
    writes = event_writes(test)
    into_test = run_pricebook([*args, "--env", "test"], test, cwd=tmp_path, extra_env=keys)
    assert into_test.returncode == 0, into_test.stderr
    assert event_writes(test) == writes
    assert f"journal: {usage}.journal (it records this account: continued" in into_test.stdout
    assert not (tmp_path / "usage.csv.test.journal").exists()
    assert not any(e["cancelled"] for e in stored_events(test))


def test_verify_waits_for_stripes_processing(emulator_factory: EmulatorFactory, tmp_path: Path) -> None:
    emulator = emulator_factory(meter_event_delay_ms=1500)
    make_meters(emulator.client())
    usage = write_usage(tmp_path / "usage.csv", 200)
    done = run_pricebook(["usage", "import", str(usage), "--rate", "200", "--verify"], emulator)
    assert done.returncode == 0, done.stderr
    assert "match so far; asking again" in done.stderr  # the first answer lagged, as Stripe's do
    assert f"Verified: {pairs(usage)} customer/meter total(s) match" in done.stdout


def test_verify_gives_up_at_its_timeout_and_says_what_differs(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    emulator = emulator_factory(meter_event_delay_ms=60_000)
    make_meters(emulator.client())
    usage = write_usage(tmp_path / "usage.csv", 8)
    done = run_pricebook(
        ["usage", "import", str(usage), "--rate", "200", "--verify", "--verify-timeout", "1"], emulator
    )
    assert done.returncode == 1
    assert "differs: emails_sent / cus_0000: the file has" in done.stdout
    assert "total(s) differ from Stripe's event summaries" in done.stderr


def test_v1_under_faults_counts_each_event_once(emulator_factory: EmulatorFactory, tmp_path: Path) -> None:
    emulator = emulator_factory(fail_rate=0.15, seed=3)
    emulator.emulator.faults.fail_rate = 0.0
    make_meters(emulator.client())
    emulator.emulator.faults.fail_rate = 0.15
    usage = write_usage(tmp_path / "usage.csv", 120)
    for _ in range(6):
        done = run_pricebook(["usage", "import", str(usage), "--via", "v1", "--rate", "300"], emulator)
        if done.returncode == 0:
            break
    assert done.returncode == 0, done.stderr
    events = stored_events(emulator)
    assert len(events) == len({e["identifier"] for e in events}) == 120
    # a 500 after the commit, retried, is answered "already exists": delivered, not an error
    already = [
        r
        for r in emulator.requests()
        if r["path"] == "/v1/billing/meter_events" and r["status"] == 400 and r["method"] == "POST"
    ]
    assert already, "an after-commit fault should have made Stripe answer 'already exists'"


def test_dry_run_lists_every_bad_row_and_sends_nothing(emulator: EmulatorHandle, tmp_path: Path) -> None:
    make_meters(emulator.client())
    now = int(time.time())
    usage = tmp_path / "usage.csv"
    usage.write_text(
        "timestamp,event_name,payload_stripe_customer_id,payload_value\n"
        f"{now},emails_sent,cus_1,5\n"
        f"{now - 36 * 86400},emails_sent,cus_1,5\n"  # line 3: too old
        f"{now},email_sent,cus_1,5\n"  # line 4: no such meter
        f"{now},emails_sent,cus_1,2.5\n"  # line 5: not a whole number
        f"{now},emails_sent,cus_1,7\n"
        f"{now + 600},emails_sent,cus_1,1\n"  # line 7: 10 minutes ahead
        f"{now},emails_sent,,1\n"  # line 8: no customer
        f"{now},api_requests,cus_1,4\n"  # line 9: that meter counts `requests`
    )
    made = len(emulator.requests())
    result = run_pricebook(["usage", "import", str(usage), "--dry-run"], emulator)
    assert result.returncode == 1
    found = sorted(
        (line.split(": ")[0], line.split("error[")[1].split("]")[0])
        for line in result.stderr.splitlines()
        if ": error[" in line
    )
    assert found == [
        (f"{usage}:3", "usage-timestamp-too-old"),
        (f"{usage}:4", "usage-unknown-meter"),
        (f"{usage}:5", "usage-value"),
        (f"{usage}:7", "usage-timestamp-in-future"),
        (f"{usage}:8", "usage-customer"),
        (f"{usage}:9", "usage-value"),
    ]
    assert "hint: did you mean 'emails_sent'?" in result.stderr
    assert "6 of 8 rows" in result.stderr
    # one read of the account's meters, nothing else
    assert [(r["method"], r["path"]) for r in emulator.requests()[made:]] == [("GET", "/v1/billing/meters")]
    assert not (tmp_path / "usage.csv.journal").exists()


def test_dry_run_offline_against_the_catalog(plans: Path, tmp_path: Path, emulator: EmulatorHandle) -> None:
    usage = tmp_path / "usage.jsonl"
    usage.write_text(
        '{"event_name": "api_requests", "payload": {"stripe_customer_id": "cus_1", "requests": 40}}\n'
        '{"event_name": "api_requests", "payload": {"stripe_customer_id": "cus_1", "value": "40"}}\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRIPE_")}
    result = subprocess.run(
        [*PRICEBOOK, "usage", "import", str(usage), "--dry-run", "--catalog", str(plans)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert f"{usage}:2: error[usage-value]" in result.stderr
    assert "the catalog" in result.stderr
    assert emulator.requests() == []


def test_rejected_rows_go_to_a_file_and_the_rest_is_sent(emulator: EmulatorHandle, tmp_path: Path) -> None:
    make_meters(emulator.client())
    now = int(time.time())
    usage = tmp_path / "usage.csv"
    usage.write_text(
        "timestamp,event_name,payload_stripe_customer_id,payload_value\n"
        f"{now},emails_sent,cus_1,5\n{now},emails_sent,cus_1,five\n{now},emails_sent,cus_2,6\n"
    )
    result = run_pricebook(["usage", "import", str(usage), "--rate", "100"], emulator)
    assert result.returncode == 1
    assert "1 row(s) rejected" in result.stderr
    rejected = (tmp_path / "usage.csv.rejected.jsonl").read_text().splitlines()
    assert len(rejected) == 1 and '"line": 3' in rejected[0] and "usage-value" in rejected[0]
    assert sorted(e["payload"]["value"] for e in stored_events(emulator)) == ["5", "6"]
    rows = tmp_path / "usage.rejected.csv"
    assert f"fix them there and import that file (pricebook usage import {rows})" in result.stderr

    # fixed in the imported file itself, the journal refuses it and says where the fixed rows go
    original = usage.read_text()
    usage.write_text(original.replace(",five", ",5"))
    edited = run_pricebook(["usage", "import", str(usage), "--rate", "100"], emulator)
    assert edited.returncode == 1 and "the journal was written for another content" in edited.stderr
    assert f"fix the rows in {rows}" in edited.stderr
    # fixed in the rejected rows' file, it imports, and nothing is sent twice
    rows.write_text(rows.read_text().replace(",five", ",5"))
    fixed = run_pricebook(["usage", "import", str(rows), "--rate", "100"], emulator)
    assert fixed.returncode == 0, fixed.stderr
    assert sorted(e["payload"]["value"] for e in stored_events(emulator)) == ["5", "5", "6"]
    # the first file run again (as a script that imports every file would) leaves that row to the rejected file
    usage.write_text(original)
    again = run_pricebook(["usage", "import", str(usage), "--rate", "100"], emulator)
    assert again.returncode == 0, again.stderr
    assert f"rejected before          1  (by earlier runs, into {rows} (1): their file's import sends" in again.stdout
    assert len(stored_events(emulator)) == 3


def test_rows_rejected_for_the_account_are_sent_from_one_file_only(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    """A row refused for a meter the account lacks stays its rejected file's once the meter is there; sending it
    from the first file instead takes --resend-rejected, and the rejected file out of the way."""
    emulator = emulator_factory()
    make_meters(emulator.client())
    now = int(time.time())
    usage = tmp_path / "usage.csv"
    usage.write_text(
        "timestamp,event_name,payload_stripe_customer_id,payload_value\n"
        f"{now},emails_sent,cus_1,5\n{now},storage_gb,cus_1,7\n"
    )
    args = ["usage", "import", str(usage), "--rate", "100"]
    first = run_pricebook(args, emulator)
    assert first.returncode == 1 and "usage-unknown-meter" in (tmp_path / "usage.csv.rejected.jsonl").read_text()
    rows = tmp_path / "usage.rejected.csv"
    assert "also when the cause was the account" in first.stderr
    emulator.client().v1.billing.meters.create(
        params={"event_name": "storage_gb", "display_name": "Storage", "default_aggregation": {"formula": "sum"}}
    )
    written = rows.read_text()
    again = run_pricebook(args, emulator)
    assert again.returncode == 0, again.stderr
    assert "rejected before          1" in again.stdout and rows.read_text() == written
    assert len(stored_events(emulator)) == 1

    while_there = run_pricebook([*args, "--resend-rejected"], emulator)
    assert while_there.returncode == 1 and f"while {rows} holds them" in while_there.stderr
    rows.unlink()
    gone = run_pricebook(args, emulator)
    assert gone.returncode == 1
    assert f"went to {rows}, which is gone and was never imported" in gone.stderr
    assert f"pricebook usage import {usage} --resend-rejected" in gone.stderr
    resent = run_pricebook([*args, "--resend-rejected"], emulator)
    assert resent.returncode == 0, resent.stderr
    assert sorted(e["event_name"] for e in stored_events(emulator)) == ["emails_sent", "storage_gb"]
    assert run_pricebook(args, emulator).returncode == 0
    assert len(stored_events(emulator)) == 2


def test_a_stream_session_is_renewed_when_it_expires(emulator: EmulatorHandle, tmp_path: Path) -> None:
    from compiler.usage.send import StreamSender

    make_meters(emulator.client())
    usage = write_usage(tmp_path / "usage.csv", 150)
    gateway = Gateway(Connection(emulator.api_key, emulator.url), rate=500)
    meters = account_meters(gateway)
    checker = RowChecker(meters, int(time.time()), str(usage))
    events = [e for e in (checker.check(row).event for row in UsageFile.at(usage).rows()) if e is not None]
    sender = StreamSender(gateway)
    sender.send(events[:100])
    emulator.control("POST", "clock?advance=901")  # the token is past its 15 minutes; the sender does not know
    sender.send(events[100:])
    assert sender.sessions_opened == 2
    assert len(stored_events(emulator)) == 150
    expired = [r for r in emulator.requests() if r["path"] == "/v2/billing/meter_event_stream" and r["status"] == 401]
    assert len(expired) == 1


def test_record_once_per_identifier(emulator: EmulatorHandle) -> None:
    make_meters(emulator.client())
    args = ["usage", "record", "--meter", "api_requests", "--customer", "cus_9", "--value", "40"]
    first = run_pricebook([*args, "--identifier", "req-1"], emulator)
    assert first.returncode == 0, first.stderr
    assert "Recorded 40 on api_requests for cus_9" in first.stdout
    second = run_pricebook([*args, "--identifier", "req-1"], emulator)
    assert second.returncode == 0
    assert "Already recorded" in second.stdout
    events = stored_events(emulator)
    assert [e["payload"] for e in events] == [{"stripe_customer_id": "cus_9", "requests": "40"}]
    bad = run_pricebook([*args[:-1], "4.5"], emulator)
    assert bad.returncode != 0


def test_record_checks_the_event_before_sending(emulator: EmulatorHandle) -> None:
    make_meters(emulator.client())
    old = str(int(time.time()) - 40 * 86400)
    result = run_pricebook(
        ["usage", "record", "--meter", "emails_sent", "--customer", "cus_1", "--value", "3", "--timestamp", old],
        emulator,
    )
    assert result.returncode == 1
    assert "usage record: error[usage-timestamp-too-old]" in result.stderr
    assert event_writes(emulator) == 0


def test_cancel_every_event_of_a_file(emulator: EmulatorHandle, tmp_path: Path) -> None:
    make_meters(emulator.client())
    usage = write_usage(tmp_path / "usage.csv", 30)
    assert run_pricebook(["usage", "import", str(usage), "--rate", "200"], emulator).returncode == 0
    result = run_pricebook(["usage", "cancel", "--file", str(usage)], emulator)
    assert result.returncode == 0, result.stderr
    assert "Cancelled 30 event(s)" in result.stdout
    assert all(e["cancelled"] for e in stored_events(emulator))
    again = run_pricebook(["usage", "cancel", "--file", str(usage)], emulator)
    assert "Cancelled 0 event(s)" in again.stdout  # the journal knows they are cancelled


def test_cancel_one_identifier(emulator: EmulatorHandle) -> None:
    make_meters(emulator.client())
    run_pricebook(
        ["usage", "record", "--meter", "emails_sent", "--customer", "cus_1", "--value", "3", "--identifier", "x1"],
        emulator,
    )
    result = run_pricebook(["usage", "cancel", "--meter", "emails_sent", "--identifier", "x1"], emulator)
    assert result.returncode == 0, result.stderr
    assert [e["cancelled"] for e in stored_events(emulator)] == [True]


def test_summary_prices_the_usage_under_a_catalog_price(emulator: EmulatorHandle, plans: Path) -> None:
    applied = run_pricebook(["apply", str(plans), "--auto-approve"], emulator)
    assert applied.returncode == 0, applied.stderr
    summary = ["usage", "summary", "--customer", "cus_demo", "--price", "metered_emails_monthly", "--catalog"]
    record = ["usage", "record", "--meter", "emails_sent", "--customer", "cus_demo"]
    assert run_pricebook([*record, "--value", "999"], emulator).returncode == 0
    at_999 = run_pricebook([*summary, str(plans)], emulator)
    assert at_999.returncode == 0, at_999.stderr
    assert "total: 999" in at_999.stdout
    assert "     999       0   $0.00" in at_999.stdout
    assert run_pricebook([*record, "--value", "1"], emulator).returncode == 0
    at_1000 = run_pricebook([*summary, str(plans), "--format", "json"], emulator)
    assert '"aggregated_value": 1000.0' in at_1000.stdout
    assert '"formatted": "$0.10"' in at_1000.stdout


def test_summary_refuses_a_misaligned_period(emulator: EmulatorHandle) -> None:
    make_meters(emulator.client())
    result = run_pricebook(
        ["usage", "summary", "--customer", "c", "--meter", "emails_sent", "--by", "hour", "--from", "1717243260"],
        emulator,
    )
    assert result.returncode == 1
    assert "not on an hour boundary" in result.stderr
    assert "hint: use 2024-06-01 12:00 or 2024-06-01 13:00 UTC" in result.stderr
