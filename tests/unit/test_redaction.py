"""Secrets never reach the user: one scrub (`errors.redact`) under every output path, whatever field a secret
came in (a message, an error code, a parameter echoed, a hint, a server's answer, an unexpected error)."""

from __future__ import annotations

import io
import json

import pytest

import compiler.cli
from compiler.apply import ApplyReport, ApplyResult, Ending, Round, RoundCause, StepFailed
from compiler.cli import main
from compiler.cli.apply import report
from compiler.cli.common import RedactingStream, report_error
from compiler.errors import REDACTED, StripeApiError, keep_secret, redact
from compiler.stripe.calls import ApiCall, CallAction
from compiler.stripe.gateway import GatewayStats
from tests.unit.test_gateway import CALL, error, make

KEY = "sk_test_51LEAKYleakyLEAKYkey0000"
TOKEN = "mes_tok_LEAKYsessionTOKEN42"


def test_redact_removes_every_secret_it_was_given() -> None:
    token = "mes_tok_anOTHERsessionTOKEN7"  # TOKEN itself is issued below: it is no secret until then
    keep_secret(f" {KEY}\n")  # as an environment variable may hold it
    keep_secret(token)
    assert redact(f"key {KEY}, token {token}, key {KEY}") == f"key {REDACTED}, token {REDACTED}, key {REDACTED}"
    keep_secret("abc")  # no key or token is that short: redacting it would mangle ordinary text
    assert redact("abc") == "abc"


def test_a_400_whose_code_holds_the_key_is_reported_without_it() -> None:
    # the case: `Stripe refused the request (400 sk_test_...)`: the message was scrubbed, the code not
    status, body, headers = error(400, f"no such key {KEY}")
    body["error"].update(code=KEY, param=f"metadata[{KEY}]")
    gateway, _ = make([(status, body, headers)], key=KEY)
    with pytest.raises(StripeApiError) as info:
        gateway.send(CALL, "k1")
    assert (info.value.code, info.value.param) == (REDACTED, f"metadata[{REDACTED}]")
    assert KEY not in info.value.message


def test_a_code_that_is_no_string_is_shown_as_text() -> None:
    status, body, headers = error(400)
    body["error"]["code"] = {"nested": KEY}
    gateway, _ = make([(status, body, headers)], key=KEY)
    with pytest.raises(StripeApiError) as info:
        gateway.send(CALL, "k1")
    assert info.value.code is not None and KEY not in info.value.code and REDACTED in info.value.code


def test_an_answer_that_echoes_the_key_reaches_no_one_with_it() -> None:
    gateway, _ = make([(200, {"id": "price_1", "nickname": f"made with {KEY}"}, {})], key=KEY)
    assert gateway.send(CALL, "k1") == {"id": "price_1", "nickname": f"made with {REDACTED}"}


def test_a_session_token_is_a_secret_from_the_moment_it_is_issued(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    session = {"object": "v2.billing.meter_event_session", "authentication_token": TOKEN, "expires_at": "x"}
    status, body, headers = error(400, "bad")
    body["error"]["code"] = TOKEN
    gateway, _ = make([(200, session, {}), (status, body, headers)], key=KEY)
    assert gateway.meter_event_session()["authentication_token"] == TOKEN  # the caller needs it as it is
    with pytest.raises(StripeApiError) as info:
        gateway.send(CALL, "k1")
    assert info.value.code == REDACTED

    def boom(*args: object, **kwargs: object) -> int:  # an unexpected error that happens to hold the token
        raise RuntimeError(f"stream failed with Authorization: Bearer {TOKEN}")

    monkeypatch.setattr(compiler.cli.cli, "main", boom)
    monkeypatch.delenv("PRICEBOOK_DEBUG", raising=False)
    with pytest.raises(SystemExit):
        main()
    err = capsys.readouterr().err
    assert TOKEN not in err and f"Bearer {REDACTED}" in err


def test_the_traceback_asked_for_is_scrubbed_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    keep_secret(KEY)

    def boom(*args: object, **kwargs: object) -> int:
        raise RuntimeError(f"Authorization: Bearer {KEY}")

    monkeypatch.setattr(compiler.cli.cli, "main", boom)
    monkeypatch.setenv("PRICEBOOK_DEBUG", "1")
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "RuntimeError" in err
    assert KEY not in err


def test_an_error_is_printed_without_a_secret_in_any_field(capsys: pytest.CaptureFixture[str]) -> None:
    keep_secret(KEY)
    report_error(StripeApiError(f"refused {KEY}", status=400, code=KEY, hint=f"try without {KEY}"))
    err = capsys.readouterr().err
    assert KEY not in err
    assert err == (
        f"pricebook: error: Stripe refused the request (400 {REDACTED}): refused {REDACTED}\n"
        f"  hint: try without {REDACTED}\n"
    )


def test_the_apply_report_is_printed_without_a_secret() -> None:
    keep_secret(KEY)
    call = ApiCall("POST", "/v1/prices", {"nickname": KEY}, "price.a", CallAction.CREATE, "price.a")
    result = ApplyResult(failed=(StepFailed(call, f"refused {KEY}", 400, KEY),))
    lines: list[str] = []
    outcome = ApplyReport((Round(RoundCause.PLAN, result),), Ending.REFUSED)
    report(outcome, GatewayStats(), lambda text, **_: lines.append(text))
    assert any("failed: create price.a" in line for line in lines)
    assert not any(KEY in line for line in lines)
    assert f"(400 {REDACTED}): refused {REDACTED}" in "\n".join(lines)


def test_the_output_streams_are_the_last_net() -> None:
    keep_secret(KEY)
    inner = io.StringIO()
    stream = RedactingStream(inner)
    assert stream.write(f"name: {KEY}\n") == len(f"name: {KEY}\n")
    stream.writelines(iter([KEY]))
    assert inner.getvalue() == f"name: {REDACTED}\n{REDACTED}"
    with pytest.raises(TypeError):  # how click tells a text stream from a binary one
        stream.write(b"")  # type: ignore[arg-type]
    assert stream.isatty() is False and stream.encoding == "utf-8"


def test_json_output_written_through_the_net_stays_json() -> None:
    keep_secret(KEY)
    inner = io.StringIO()
    RedactingStream(inner).write(json.dumps({"nickname": KEY}))
    assert json.loads(inner.getvalue()) == {"nickname": REDACTED}
