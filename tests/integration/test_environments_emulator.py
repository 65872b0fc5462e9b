"""Environments against the emulator, through the `pricebook` command and `make`: `--env` picks the key (from
the environment's own variable) and the template variables; a live environment refuses a test key and a test
one a live key, in every command that talks to Stripe, before anything is sent; `make plan ENV=...` passes the
environment through."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.emulator import EmulatorHandle
from tests.cli import REPO, run_pricebook

CONFIG = """\
default_environment = "sandbox"

[environments.sandbox]
api_key_env = "SANDBOX_KEY"

[environments.sandbox.vars]
tier = "Sandbox"

[environments.staging]
api_key_env = "STAGING_KEY"

[environments.staging.vars]
tier = "Staging"

[environments.live]
api_key_env = "LIVE_KEY"
live = true
"""

CATALOG = """\
products:
  - id: suite
    name: Suite ({{ tier }})
    metadata: {environment: "{{ env.name }}", live: "{{ env.live }}"}
    prices:
      - lookup_key: suite_monthly
        currency: usd
        unit_amount: 1000
        recurring: {interval: month}
"""

LIVE_KEY = "sk_live_envTESTliveKEY0123456789abcd"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A catalog repository: pricebook.toml at its root, the catalog (a template) in plans/."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "pricebook.toml").write_text(CONFIG)
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "suite.yaml.j2").write_text(CATALOG)
    return tmp_path


def pricebook(
    emulator: EmulatorHandle, repo: Path, *args: str, **keys: str
) -> subprocess.CompletedProcess[str]:
    """`pricebook ARGS` in `repo` with STRIPE_API_KEY unset: every key comes from the environment's variable."""
    env = {"STRIPE_API_KEY": "", "SANDBOX_KEY": "", "STAGING_KEY": "", "LIVE_KEY": "", **keys}
    return run_pricebook(list(args), emulator, cwd=repo, extra_env=env)


def test_env_picks_the_key_and_the_template_variables(emulator: EmulatorHandle, repo: Path) -> None:
    key = emulator.api_key
    applied = pricebook(emulator, repo, "apply", "--auto-approve", "--env", "staging", "plans", STAGING_KEY=key)
    assert applied.returncode == 0, applied.stderr
    product = emulator.client().v1.products.retrieve("suite")
    assert product.name == "Suite (Staging)"
    assert product.metadata.to_dict() == {"environment": "staging", "live": "False", "managed_by": "pricebook"}
    staging = pricebook(emulator, repo, "plan", "--detailed-exitcode", "--env", "staging", "plans", STAGING_KEY=key)
    assert staging.returncode == 0, staging.stdout + staging.stderr

    # no --env: the file's default_environment, its own key variable (unset here) and its own variables
    unset = pricebook(emulator, repo, "plan", "plans", STAGING_KEY=key)
    assert unset.returncode == 1
    assert "SANDBOX_KEY is not set: environment 'sandbox' (pricebook.toml:3:1) reads its key from it" in unset.stderr
    sandbox = pricebook(emulator, repo, "plan", "--detailed-exitcode", "plans", SANDBOX_KEY=key)
    assert sandbox.returncode == 2, sandbox.stderr
    changed = [" ".join(line.split()) for line in sandbox.stdout.splitlines() if " -> " in line]
    assert changed == [
        '~ name = "Suite (Staging)" -> "Suite (Sandbox)"',
        '~ metadata.environment = "staging" -> "sandbox"',
    ]


#: every command that talks to Stripe, with what it needs besides --env
COMMANDS = [
    ["plan", "plans"],
    ["apply", "--auto-approve", "plans"],
    ["import", "--out", "imported"],
    ["adopt", "--out", "imported"],
    ["usage", "record", "--meter", "calls", "--customer", "cus_1", "--value", "1"],
    ["usage", "summary", "--customer", "cus_1", "--meter", "calls"],
    ["usage", "cancel", "--meter", "calls", "--identifier", "evt_1"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a[:2]) for a in COMMANDS])
@pytest.mark.parametrize(
    ("environment", "variable", "held", "declared"),
    [("live", "LIVE_KEY", "test", "live"), ("staging", "STAGING_KEY", "live", "test")],
)
def test_a_key_of_the_other_mode_is_refused_before_anything_is_sent(
    args: list[str], environment: str, variable: str, held: str, declared: str, emulator: EmulatorHandle, repo: Path
) -> None:
    key = emulator.api_key if held == "test" else LIVE_KEY
    mark = len(emulator.requests())
    result = pricebook(emulator, repo, *args, "--env", environment, **{variable: key})
    assert result.returncode == 1
    assert f"refusing a {held}-mode key: environment {environment!r} is declared {declared}-mode" in result.stderr
    assert "hint:" in result.stderr and "Traceback" not in result.stderr
    assert key not in result.stdout + result.stderr and key[8:] not in result.stdout + result.stderr
    assert emulator.requests()[mark:] == []
    assert not (repo / "imported").exists()


def test_an_unknown_environment_and_a_broken_file_are_clear_errors(emulator: EmulatorHandle, repo: Path) -> None:
    unknown = pricebook(emulator, repo, "plan", "--env", "stagin", "plans", STAGING_KEY=emulator.api_key)
    assert unknown.returncode == 1
    assert "pricebook.toml: no environment 'stagin' (it declares live, sandbox, staging)" in unknown.stderr
    assert "hint: did you mean --env staging?" in unknown.stderr
    # the pull-request comment shows the error rather than being empty, under the environment's marker
    comment = pricebook(emulator, repo, "plan", "--format", "markdown", "--env", "stagin", "plans")
    assert comment.returncode == 1
    assert "no environment 'stagin'" in comment.stdout
    assert "<!-- pricebook-plan environment=stagin -->" in comment.stdout
    (repo / "pricebook.toml").write_text(CONFIG.replace("live = true", 'live = "yes"'))
    broken = pricebook(emulator, repo, "validate", "plans")
    assert broken.returncode == 1
    assert 'pricebook.toml:17:1: error[config-type]: `live` must be true or false' in broken.stderr
    assert "pricebook: pricebook.toml is not a valid environments file" in broken.stderr


# -- make ---------------------------------------------------------------------------------------------------------


def make(target: str, *variables: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`make TARGET VARIABLES` in this repository, with the venv running the tests as make's (its install stamp
    taken as it is: a test never reinstalls)."""
    venv = Path(sys.prefix)
    command = ["make", "--no-print-directory", "-o", str(venv / ".installed"), target, f"VENV={venv}", *variables]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_make_plan_passes_env_through(emulator: EmulatorHandle, tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "suite.yaml.j2").write_text(CATALOG.replace("{{ tier }}", "Make"))
    base = {name: value for name, value in os.environ.items() if not name.startswith("STRIPE_") and name != "ENV"}
    base.update({"STRIPE_API_BASE": emulator.url, "NO_COLOR": "1"})
    catalog = f"PLANS={plans}"

    # this repository's pricebook.toml: `test` reads STRIPE_API_KEY, `live` STRIPE_LIVE_API_KEY and is live
    test = make("plan", "ENV=test", catalog, env={**base, "STRIPE_API_KEY": emulator.api_key})
    assert test.returncode == 0, test.stderr
    lines = [" ".join(line.split()) for line in test.stdout.splitlines()]
    assert '+ product "suite" {' in lines and '+ name = "Suite (Make)"' in lines
    assert '+ metadata = {environment: "test", live: "False", managed_by: "pricebook"}' in lines
    assert "--env test" in test.stderr  # the command make ran, which it prints on stderr
    live = make("plan", "ENV=live", catalog, env={**base, "STRIPE_LIVE_API_KEY": emulator.api_key})
    assert live.returncode != 0
    assert "refusing a test-mode key: environment 'live' is declared live-mode" in live.stderr
    unknown = make("plan", "ENV=prod", catalog, env={**base, "STRIPE_API_KEY": emulator.api_key})
    assert unknown.returncode != 0 and "no environment 'prod'" in unknown.stderr
    # a shell's own ENV (POSIX shells name a startup file with it) is not an environment: no --env at all
    shell = make("plan", catalog, env={**base, "ENV": "/home/someone/.shrc", "STRIPE_API_KEY": emulator.api_key})
    assert shell.returncode != 0
    # the template needs an environment, and none was chosen
    assert "'env' is undefined" in shell.stderr and "choose one with --env NAME" in shell.stderr
