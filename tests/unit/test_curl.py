"""`pricebook compile --format curl`: Stripe's docs examples come out parameter for parameter, and the output is
safe to paste into a shell (it parses back to exactly the params compiled, and never carries a key)."""

from __future__ import annotations

import itertools
import shlex
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.cli.compile import command
from compiler.render.curl import form_pairs, placeholder_names, render_call, render_calls, shell_quote
from compiler.stripe.calls import ApiCall, CallAction

REPO = Path(__file__).resolve().parents[2]
PLANS = REPO / "plans"
#: the curl examples of Stripe's docs on usage transformation, as written there (the file says where from)
DOCS_EXAMPLES = REPO / "tests" / "fixtures" / "stripe-docs-usage-transformation.txt"

Pair = tuple[str, str]


def curl_commands(text: str) -> list[list[str]]:
    """Each `curl ...` command of a text (continued lines joined), as shell words; comments skipped."""
    commands: list[list[str]] = []
    current: list[str] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if current is None and stripped.startswith("curl "):
            current = []
        if current is None:
            continue
        current.append(stripped.removesuffix("\\"))
        if not stripped.endswith("\\"):
            commands.append(shlex.split(" ".join(current)))
            current = None
    return commands


def data_pairs(words: list[str]) -> list[Pair]:
    """The form fields a curl command sends, in order: `-d` data as written, `--data-urlencode` decoded."""
    pairs: list[Pair] = []
    for option, arg in itertools.pairwise(words):
        if option in ("-d", "--data", "--data-urlencode"):
            key, _, value = arg.partition("=")
            pairs.append((unquote(key), value))
    return pairs


def url_of(words: list[str]) -> str:
    return next(w for w in words[1:] if w.startswith("http"))


def nickname(words: list[str]) -> str:
    return dict(data_pairs(words))["nickname"]


def compiled_curl(*args: str) -> str:
    result = CliRunner().invoke(command, [str(PLANS), "--format", "curl", *args])
    assert result.exit_code == 0, result.output
    return result.output


# ---------------------------------------------------------------------------------------------------------------
# The docs' two plans, parameter for parameter


@pytest.fixture(scope="module")
def docs_commands() -> dict[str, list[str]]:
    commands = curl_commands(DOCS_EXAMPLES.read_text(encoding="utf-8"))
    assert len(commands) == 2, "the docs page holds two curl examples"
    return {nickname(words): words for words in commands}


@pytest.fixture(scope="module")
def pricebook_commands() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for words in curl_commands(compiled_curl()):
        if url_of(words).endswith("/v1/plans"):
            out[dict(data_pairs(words))["id"]] = words
    return out


# The differences between a docs example and pricebook's call, each for a reason; nothing else may differ.
#  - `product`: the docs write a value to fill in ("{{PRODUCTIVITY_SUITE_ID}}"); pricebook creates products
#    with custom ids, so the catalog's product id is the real value.
#  - `id`: a plan's identity in pricebook is its Stripe id, sent on create; the docs let Stripe
#    pick one.
#  - `metadata[managed_by]=pricebook`: the ownership mark on everything pricebook creates.
#  - `meter` (metered plans only): since API 2025-03-31.basil Stripe refuses a metered plan without a meter;
#    the docs example predates that. It names the meter created earlier, a placeholder in an empty account.
DOCS_CASES = [
    ("Standard Cost Per 5 Users", "standard-cost-per-5-users", "productivity_suite", {}),
    ("Metered Emails", "metered-emails", "marketing_emails", {"meter": "{{METER_EMAILS_SENT_ID}}"}),
]


@pytest.mark.parametrize(("docs_nickname", "plan_id", "product_id", "extra"), DOCS_CASES)
def test_the_docs_plans_come_out_parameter_for_parameter(
    docs_commands: dict[str, list[str]],
    pricebook_commands: dict[str, list[str]],
    docs_nickname: str,
    plan_id: str,
    product_id: str,
    extra: dict[str, str],
) -> None:
    docs = docs_commands[docs_nickname]
    ours = pricebook_commands[plan_id]
    assert url_of(ours) == url_of(docs) == "https://api.stripe.com/v1/plans"

    docs_pairs = data_pairs(docs)
    our_pairs = data_pairs(ours)
    assert len(our_pairs) == len(dict(our_pairs)), "a parameter sent twice"

    expected = {k: v for k, v in docs_pairs if k != "product"}
    expected.update({"product": product_id, "id": plan_id, "metadata[managed_by]": "pricebook", **extra})
    assert dict(our_pairs) == expected


def test_the_docs_product_is_a_value_to_fill_in(docs_commands: dict[str, list[str]]) -> None:
    # guards the one substitution the comparison above allows
    products = {dict(data_pairs(words))["product"] for words in docs_commands.values()}
    assert products == {"{{PRODUCTIVITY_SUITE_ID}}", "{{MARKETING_EMAILS_ID}}"}


def test_the_key_is_the_environment_variable_and_never_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk_test_" + "x" * 24
    monkeypatch.setenv("STRIPE_API_KEY", secret)
    text = compiled_curl()
    assert secret not in text
    commands = curl_commands(text)
    assert commands
    for words in commands:
        assert words[words.index("-u") + 1] == "$STRIPE_API_KEY:"
    assert text.count('-u "$STRIPE_API_KEY:"') == len(commands)


# ---------------------------------------------------------------------------------------------------------------
# Form encoding and shell quoting


def test_form_pairs_use_stripe_bracket_notation() -> None:
    params = {
        "tiers": [{"up_to": 5, "unit_amount": 500}, {"up_to": "inf", "unit_amount_decimal": Decimal("0.5")}],
        "metadata": {"managed_by": "pricebook"},
        "active": False,
        "nickname": None,
        "expand": ["tiers"],
    }
    assert form_pairs(params) == [
        ("tiers[0][up_to]", "5"),
        ("tiers[0][unit_amount]", "500"),
        ("tiers[1][up_to]", "inf"),
        ("tiers[1][unit_amount_decimal]", "0.5"),
        ("metadata[managed_by]", "pricebook"),
        ("active", "false"),
        ("expand[0]", "tiers"),
    ]


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("usd", "usd"),
        ("Standard Cost Per 5 Users", '"Standard Cost Per 5 Users"'),
        ("transform_usage[divide_by]", '"transform_usage[divide_by]"'),
        ("{{METER_EMAILS_SENT_ID}}", '"{{METER_EMAILS_SENT_ID}}"'),
        ("$10 a month", "'$10 a month'"),
        ("it's", '"it\'s"'),
        ("it's $5", "'it'\\''s $5'"),
        ("", '""'),
    ],
)
def test_shell_quoting_only_where_needed(text: str, quoted: str) -> None:
    assert shell_quote(text) == quoted
    assert shlex.split(quoted) == [text]


def test_a_call_renders_like_stripe_docs() -> None:
    call = ApiCall(
        "POST",
        "/v1/prices",
        {"currency": "usd", "recurring": {"interval": "month", "meter": "{{meter.emails_sent}}"}},
        "price.p",
        CallAction.CREATE,
        "price.p",
        ("meter.emails_sent",),
    )
    assert render_call(call, api_version="2026-10-28.endive") == (
        "curl https://api.stripe.com/v1/prices \\\n"
        '  -u "$STRIPE_API_KEY:" \\\n'
        '  -H "Stripe-Version: 2026-10-28.endive" \\\n'
        "  -d currency=usd \\\n"
        '  -d "recurring[interval]"=month \\\n'
        '  -d "recurring[meter]"="{{METER_EMAILS_SENT_ID}}"'
    )


def test_values_form_decoding_would_change_are_url_encoded_by_curl() -> None:
    params = {"name": "R&D + 50% #1", "metadata": {"a&b": "x"}}
    call = ApiCall("POST", "/v1/products", params, "product.p", CallAction.CREATE)
    text = render_call(call)
    assert '--data-urlencode name="R&D + 50% #1"' in text
    assert '-d "metadata[a%26b]"=x' in text


def test_placeholders_in_a_path_turn_off_curls_url_globbing() -> None:
    call = ApiCall(
        "POST", "/v1/prices/{{price.new}}", {"active": False}, "price.new", CallAction.ARCHIVE,
        depends_on=("price.new",),
    )
    assert render_call(call).startswith('curl --globoff "https://api.stripe.com/v1/prices/{{PRICE_NEW_ID}}"')


def test_placeholder_names_never_mean_two_objects() -> None:
    calls = [ApiCall(
            "POST",
            "/v1/x",
            {"a": "{{price.a-b}}", "b": "{{price.a_b}}"},
            "x.y",
            CallAction.CREATE,
            depends_on=("price.a-b", "price.a_b"),
        )]
    assert placeholder_names(calls) == {"price.a-b": "{{PRICE_A_B_ID}}", "price.a_b": "{{PRICE_A_B_ID_2}}"}


def test_each_call_says_what_it_does_and_which_id_it_returns() -> None:
    calls = [
        ApiCall("POST", "/v1/billing/meters", {"event_name": "e"}, "meter.e", CallAction.CREATE, "meter.e"),
        ApiCall("POST", "/v1/plans", {"meter": "{{meter.e}}"}, "plan.p", CallAction.CREATE, "plan.p", ("meter.e",)),
    ]
    text = render_calls(calls)
    assert text.startswith("# 1/2: create meter.e (its id is {{METER_E_ID}} below)\ncurl ")
    assert "# 2/2: create plan.p\ncurl " in text  # nothing refers to the plan's id
    assert render_calls([]) == ""


# ---------------------------------------------------------------------------------------------------------------
# Any params: the printed command sends exactly the compiled form fields

_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
_key = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="[]"), min_size=1, max_size=8
)
_scalar = st.one_of(_text, st.integers(-(10**12), 10**12), st.booleans())
_value = st.recursive(
    _scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_key, inner, max_size=3)),
    max_leaves=8,
)
_params = st.dictionaries(_key, _value, max_size=5)


@settings(max_examples=200, deadline=None)
@given(_params)
def test_rendered_commands_parse_back_to_the_form_fields(params: dict[str, Any]) -> None:
    call = ApiCall("POST", "/v1/products", params, "product.p", CallAction.CREATE)
    (words,) = curl_commands(render_call(call))
    assert data_pairs(words) == form_pairs(params)


BASH = shutil.which("bash")


@pytest.mark.skipif(BASH is None, reason="no bash to run the output in")
def test_a_real_shell_passes_every_field_through_unchanged() -> None:
    params: dict[str, Any] = {
        "nickname": 'It\'s $10 `now` \\ "quoted" !bang *glob? ~tilde {a,b}',
        "metadata": {"x[y": "tab\there", "space key": "new\nline"},
        "tiers": [{"up_to": "inf"}],
    }
    call = ApiCall("POST", "/v1/products", params, "product.p", CallAction.CREATE)
    script = "curl() { printf '%s\\0' \"$@\"; }\nSTRIPE_API_KEY=sk_test_k\n" + render_call(call)
    assert BASH is not None
    out = subprocess.run([BASH, "-c", script], capture_output=True, check=True).stdout.decode()
    words = out.split("\0")[:-1]
    assert words[words.index("-u") + 1] == "sk_test_k:"
    assert data_pairs(words) == form_pairs(params)
