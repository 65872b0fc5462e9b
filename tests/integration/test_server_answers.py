"""pricebook against a server that is not Stripe (a mistyped or hijacked STRIPE_API_BASE), run as a user runs it:
whatever it answers, no secret is shown and no answer becomes an internal error."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from compiler.errors import REDACTED
from compiler.stripe.boundaries import CACHE_DIR_VARIABLE
from tests.cli import PRICEBOOK, REPO
from tests.hostile import Answer, Request, as_json, hostile_server

KEY = "sk_test_51HOSTILEhostileHOSTILE0001"


def run(args: list[str], *, base: str | None = None, key: str = KEY) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("STRIPE_", "PRICEBOOK_"))}
    env.update({"STRIPE_API_KEY": key, "NO_COLOR": "1", CACHE_DIR_VARIABLE: ""})  # no cache, as in every test
    if base is not None:
        env["STRIPE_API_BASE"] = base
    return subprocess.run([*PRICEBOOK, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=60)


def refuse_with_the_key_as_code(request: Request) -> Answer:
    return as_json({"error": {"type": "invalid_request_error", "message": "nope", "code": request.api_key}}, 400)


def test_a_400_whose_code_holds_the_key_prints_no_key() -> None:
    with hostile_server(refuse_with_the_key_as_code) as base:
        done = run(["plan", "plans/"], base=base)
    assert done.returncode == 1
    assert KEY not in done.stdout + done.stderr
    assert f"Stripe refused the request (400 {REDACTED})" in done.stderr


def test_an_api_base_that_holds_the_key_is_refused_without_showing_it() -> None:
    done = run(["plan", "plans/", "--api-base", f"http://{KEY}.example"])
    assert done.returncode == 1
    assert KEY not in done.stdout + done.stderr
    assert f"refusing to send the API key to 'http://{REDACTED}.example'" in done.stderr


def test_whatever_a_command_prints_passes_the_net(tmp_path: Path) -> None:
    # a value no one thought to scrub (here the user's own catalog) still never shows the key
    (tmp_path / "catalog.yaml").write_text(f"products:\n  - id: suite\n    name: 'Suite {KEY}'\n")
    done = run(["compile", str(tmp_path)])
    assert done.returncode == 0, done.stderr
    assert KEY not in done.stdout and f"Suite {REDACTED}" in done.stdout


EMPTY_LIST = {"object": "list", "data": [], "has_more": False}


def empty_account(request: Request) -> Answer | None:
    """What an empty account answers to pricebook's reads; None for anything else."""
    if request.method == "GET" and request.path.startswith("/v1/account"):
        return as_json({"id": "acct_hostile", "object": "account"})
    if request.method == "GET":
        return as_json(EMPTY_LIST)
    return None


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (Answer(200, b"[1, 2]"), "is a JSON array, not an object"),
        (Answer(200, b"null"), "is null, not an object"),
        (Answer(200, b'"hello"'), "is a JSON string, not an object"),
        (Answer(200, b'{"object": "list", "data": [], "has_more": false, "x": "\xff"}'), "is not UTF-8 text"),
        (Answer(400, b'{"error": {"message": "\xff"}}'), "is not UTF-8 text"),
        (as_json({"error": None}, 400), "cannot be read"),
        (as_json({"object": "list", "data": [{"name": "x"}], "has_more": False}), "no object with an id"),
        (as_json({"object": "list", "data": 5, "has_more": False}), "is not a list"),
    ],
)
def test_an_answer_stripe_never_sends_is_an_error_with_a_hint(answer: Answer, said: str) -> None:
    def respond(request: Request) -> Answer:
        if request.path.startswith("/v1/account"):
            return as_json({"id": "acct_hostile", "object": "account"})
        return answer

    with hostile_server(respond) as base:
        done = run(["plan", "plans/"], base=base)
    assert done.returncode == 1
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    assert said in done.stderr
    assert "  hint: check --api-base and STRIPE_API_BASE" in done.stderr


def test_an_account_without_an_id_is_an_error_with_a_hint() -> None:
    with hostile_server(lambda request: as_json({"object": "account"})) as base:
        done = run(["plan", "plans/"], base=base)
    assert done.returncode == 1
    assert done.stderr.startswith(
        "pricebook: error[unexpected-answer]: the answer to GET /v1/account has no account id\n  hint: "
    )


def test_a_write_answered_in_live_mode_under_a_test_key_stops_apply() -> None:
    def respond(request: Request) -> Answer:
        return empty_account(request) or as_json({"id": "obj_1", "object": "billing.meter", "livemode": True})

    with hostile_server(respond) as base:
        done = run(["apply", "plans/", "--auto-approve"], base=base)
    assert done.returncode == 1
    assert "internal error" not in done.stderr
    assert "is a live-mode object, but the key is a test-mode key" in done.stderr
    assert "done (0)" in done.stderr  # the first write's answer stopped the run
