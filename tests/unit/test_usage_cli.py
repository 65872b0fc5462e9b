"""`pricebook usage` without a server: the offline --dry-run, and command lines it refuses before any request."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import REPO, invoke

GOOD = '{"event_name": "api_requests", "payload": {"stripe_customer_id": "cus_1", "requests": 40}}\n'
BAD = '{"event_name": "api_requests", "payload": {"stripe_customer_id": "cus_1", "value": "40"}}\n'


def pricebook(*args: str) -> subprocess.CompletedProcess[str]:
    """`pricebook ARGS` in a fresh process with no key, reporting which stripe SDK modules it loaded."""
    code = (
        "import sys\n"
        f"sys.argv = ['pricebook', *{list(args)!r}]\n"
        "from compiler.cli import main\n"
        "try:\n    main()\n"
        "except SystemExit as exit:\n    code = exit.code\n"
        "print('stripe loaded:', any(m == 'stripe' or m.startswith('stripe.') for m in sys.modules), file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)


def test_an_offline_dry_run_checks_against_the_catalog_without_the_sdk(tmp_path: Path) -> None:
    usage = tmp_path / "usage.jsonl"
    usage.write_text(GOOD + BAD)
    done = pricebook("usage", "import", str(usage), "--dry-run", "--catalog", "plans/")
    assert done.returncode == 1
    assert f"{usage}:2: error[usage-value]: the row has no value: the meter 'api_requests' sums" in done.stderr
    assert "1 of 2 rows checked against the meters of the catalog (plans/)" in done.stderr
    assert "stripe loaded: False" in done.stderr
    usage.write_text(GOOD)
    assert pricebook("usage", "import", str(usage), "--dry-run", "--catalog", "plans/").returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import", "{file}", "--catalog", "plans/"], "--catalog checks offline and goes with --dry-run"),
        (["cancel"], "give --identifier ID (with --meter) or --file FILE"),
        (["summary", "--customer", "c"], "which meter?"),
        (["summary", "--customer", "c", "--meter", "emails_sent"], "STRIPE_API_KEY is not set"),
        (["summary", "--customer", "c", "--price", "standard-cost-per-5-users"], "is not metered"),
    ],
)
def test_command_lines_refused_with_a_hint(tmp_path: Path, args: list[str], message: str) -> None:
    usage = tmp_path / "usage.jsonl"
    usage.write_text(GOOD)
    done = pricebook("usage", *(a.format(file=usage) for a in args))
    assert done.returncode == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert "  hint: " in done.stderr


def test_progress_on_a_terminal_and_in_a_log(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from compiler.cli import usage as usage_cli
    from compiler.cli.progress import PLAIN_EVERY
    from compiler.usage.importer import Counts, Progress

    clock = [100.0]
    monkeypatch.setattr("compiler.cli.usage.time.monotonic", lambda: clock[0])
    counts = Counts(rows=500, sent=400, already_in_journal=100)

    log = usage_cli._ProgressLine("u.csv", tty=False)
    log(Progress(counts, 0.25, 2.0))  # too soon for a log line
    clock[0] += PLAIN_EVERY
    log(Progress(counts, 0.5, 7.0))
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["u.csv: 500 rows (50%), 400 sent, 100 already there, 0 rejected, 57 events/s, ETA 0:00:07"]

    terminal = usage_cli._ProgressLine("u.csv", tty=True)
    terminal(Progress(counts, 0.25, 2.0))
    terminal(Progress(counts, 0.5, 4.0))
    terminal.close()
    err = capsys.readouterr().err
    assert err.count("\r") == 2 and "ETA 0:00:04" in err and err.endswith("\n")


@pytest.mark.parametrize("command", ["import", "cancel"])
def test_help_says_each_environment_has_its_own_journal(command: str) -> None:
    from compiler.cli.usage import command as usage

    done = invoke(usage, command, "--help", terminal_width=200)
    assert done.exit_code == 0
    assert "--journal PATH" in done.output
    assert (
        "FILE.journal; with an environment (--env NAME, or pricebook.toml's default_environment) FILE.NAME.journal"
        in (" ".join(done.output.split()))
    )
