"""`pricebook plan` with subscriber impact, against the emulator over HTTP: an account with subscriptions on a
price the catalog replaces, one it archives, and one whose eur option it reprices in place. Each view (text,
markdown, JSON) shows the count, the quantity and the monthly amount of each, the money warnings come first,
and reading them costs one list per affected price."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import stripe

from compiler.emulator import EmulatorHandle
from tests.cli import run_pricebook

ROOT = Path(__file__).resolve().parents[2]

#: the meter and the product both catalogs have; each adds its prices
HEAD = """\
meters:
  - event_name: team_calls
    display_name: Team API calls
    default_aggregation: {formula: sum}

products:
  - id: team
    name: Team
    default_price: team_monthly
    prices:
"""

BASE = HEAD + """\
      - lookup_key: team_monthly
        currency: usd
        unit_amount: 1000
        recurring: {interval: month}
      - lookup_key: team_yearly_legacy
        currency: usd
        unit_amount: 10000
        recurring: {interval: year}
      - lookup_key: team_eu
        currency: usd
        unit_amount: 3000
        recurring: {interval: month}
        currency_options:
          eur: {unit_amount: 2800}
      - lookup_key: team_calls
        currency: usd
        unit_amount: 2
        recurring: {interval: month, usage_type: metered, meter: team_calls}
"""

#: team_monthly 10.00 -> 12.00 (a replace), team_yearly_legacy removed (an archive), team_eu's eur 28.00 -> 31.00
#: (in place), team_calls 0.02 -> 0.03 (a replace of a metered price)
EDITED = HEAD + """\
      - lookup_key: team_monthly
        currency: usd
        unit_amount: 1200
        recurring: {interval: month}
      - lookup_key: team_eu
        currency: usd
        unit_amount: 3000
        recurring: {interval: month}
        currency_options:
          eur: {unit_amount: 3100}
      - lookup_key: team_calls
        currency: usd
        unit_amount: 3
        recurring: {interval: month, usage_type: metered, meter: team_calls}
"""


def write(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "catalog.yaml").write_text(text, encoding="utf-8")
    return directory


def subscribe(client: stripe.StripeClient, price: str, quantity: int | None = None, **params: Any) -> Any:
    card = "pm_card_visa"
    who = client.v1.customers.create(
        params={"payment_method": card, "invoice_settings": {"default_payment_method": card}}
    )
    item: dict[str, Any] = {"price": price}
    if quantity is not None:
        item["quantity"] = quantity
    return client.v1.subscriptions.create(
        params={"customer": who.id, "items": [item], **params}  # type: ignore[arg-type]
    )


def live_prices(client: stripe.StripeClient) -> dict[str, str]:
    return {p.lookup_key: p.id for p in client.v1.prices.list(params={"limit": 100}).data if p.lookup_key}


@pytest.fixture
def account(emulator: EmulatorHandle, tmp_path: Path) -> Path:
    """The base catalog applied, subscriptions on its prices, and the edited catalog to plan (its directory)."""
    applied = run_pricebook(["apply", str(write(tmp_path / "base", BASE)), "--auto-approve"], emulator)
    assert applied.returncode == 0, applied.stderr
    client = emulator.client()
    ids = live_prices(client)
    # team_monthly: 3 that bill (5 + 2 + 1 seats, one trialing, one past due), and 2 that do not
    subscribe(client, ids["team_monthly"], 5)
    subscribe(client, ids["team_monthly"], 2, trial_period_days=14)
    subscribe(client, ids["team_monthly"], 1, collection_method="send_invoice", days_until_due=0)  # due: past_due
    client.v1.subscriptions.cancel(subscribe(client, ids["team_monthly"], 50).id)
    subscribe(client, ids["team_monthly"], 40, payment_behavior="default_incomplete")
    # team_yearly_legacy: 3 + 1 seats at $100.00 a year
    subscribe(client, ids["team_yearly_legacy"], 3)
    subscribe(client, ids["team_yearly_legacy"], 1)
    # team_eu: two in eur (2 + 1), one in usd that the eur repricing leaves alone
    subscribe(client, ids["team_eu"], 2, currency="eur")
    subscribe(client, ids["team_eu"], 1, currency="eur")
    subscribe(client, ids["team_eu"], 4)
    # team_calls: two metered subscriptions, no quantity
    subscribe(client, ids["team_calls"])
    subscribe(client, ids["team_calls"])
    return write(tmp_path / "edited", EDITED)


def plan(emulator: EmulatorHandle, catalog: Path, *args: str) -> tuple[str, int]:
    """The plan's stdout, and how many GET /v1/subscriptions it sent."""
    out, sent = plan_requests(emulator, catalog, *args)
    return out, sum(1 for r in sent if r["path"] == "/v1/subscriptions")


def plan_requests(emulator: EmulatorHandle, catalog: Path, *args: str) -> tuple[str, list[dict[str, Any]]]:
    """The plan's stdout, and every request it sent."""
    before = len(emulator.requests())
    done = run_pricebook(["plan", str(catalog), *args], emulator)
    assert done.returncode == 0, done.stderr
    return done.stdout, emulator.requests()[before:]


def by_address(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["address"]: c["subscribers"] for c in data["changes"] if c.get("subscribers")}


def test_json_counts_each_affected_price(emulator: EmulatorHandle, account: Path) -> None:
    out, lists = plan(emulator, account, "--format", "json")
    data = json.loads(out)
    jsonschema.Draft202012Validator(json.loads((ROOT / "schemas" / "changeset.schema.json").read_text())).validate(data)
    found = by_address(data)
    monthly = found["price.team_monthly"]
    assert (monthly["effect"], monthly["subscriptions"], monthly["quantity"]) == ("stay", 3, 8)
    assert monthly["statuses"] == {"active": 1, "trialing": 1, "past_due": 1}
    assert monthly["currencies"] == [
        {
            "currency": "usd",
            "subscriptions": 3,
            "quantity": 8,
            "monthly": 8000,
            "monthly_after": None,
            "metered": 0,
            "unpriced": 0,
            "raised": 0,
        }
    ]
    legacy = found["price.team_yearly_legacy"]
    assert (legacy["effect"], legacy["subscriptions"], legacy["quantity"]) == ("still-billed", 2, 4)
    assert legacy["currencies"][0]["monthly"] == 3333  # $400.00 a year: $33.33 a month
    eu = found["price.team_eu"]
    assert (eu["effect"], eu["subscriptions"], eu["quantity"]) == ("new-amount", 2, 3)
    assert (eu["currencies"][0]["currency"], eu["currencies"][0]["monthly"], eu["currencies"][0]["monthly_after"]) == (
        "eur",
        8400,
        9300,
    )
    calls = found["price.team_calls"]
    assert (calls["subscriptions"], calls["metered"], calls["quantity"]) == (2, 2, 0)
    assert calls["currencies"][0]["monthly"] is None
    read = data["subscribers"]
    assert (read["requests"], read["prices_read"], read["uncounted"], read["skipped"]) == (4, 4, [], False)
    assert lists == 4


def test_text_says_who_pays_what(emulator: EmulatorHandle, account: Path) -> None:
    out, _ = plan(emulator, account)
    assert (
        "3 subscriptions (quantity 8; 1 trialing, 1 past due) stay on the old price: $80.00 a month; "
        "new subscribers pay the new price" in out
    )
    assert "2 subscriptions (quantity 4) still bill on this price after it is archived: $33.33 a month" in out
    assert (
        "2 subscriptions in eur (quantity 3) pay the new amount from their next invoice: €84.00 → €93.00 a month" in out
    )
    assert "2 subscriptions stay on the old price; new subscribers pay the new price; 2 metered" in out
    assert "Subscribers: read with 4 requests (one list per price) for 4 affected prices." in out
    # the money warnings come before the list of actions
    pay_more = out.index("existing-subscribers-pay-more")
    assert pay_more < out.index("pricebook will perform the following actions")


def test_markdown_has_who_pays_in_the_money_table(emulator: EmulatorHandle, account: Path) -> None:
    out, _ = plan(emulator, account, "--format", "markdown")
    money = out[out.index("#### Price changes") :]
    assert "| `team_monthly` | 1 | $10.00/month | $12.00/month | +20% | 3 (quantity 8) | $80.00 |" in money
    assert "| `team_yearly_legacy` | 1 | $100.00/year | 2 (quantity 4) | $33.33 |" in money
    assert "| `team_eu` | 1 | €28.00/month | €31.00/month | +10.7% | 2 (quantity 3) | €84.00 → €93.00 |" in money
    assert re.search(r"\| `team_calls` \| [\d,]+ \| .* \| 2 \(quantity 2 metered\) \| — \|", money)
    assert out.index("`existing-subscribers-pay-more`") < out.index("#### Price changes")


def test_one_list_per_affected_price_and_none_without_subscribers(emulator: EmulatorHandle, account: Path) -> None:
    counted, with_lists = plan_requests(emulator, account, "--format", "json")
    out, without = plan_requests(emulator, account, "--format", "json", "--no-subscribers")
    # the request count grows by one list per affected price (each fits on one page), and nothing else
    assert len(with_lists) - len(without) == 4 == json.loads(counted)["subscribers"]["requests"]
    lists = sorted(r["query"] for r in with_lists if r["path"] == "/v1/subscriptions")
    assert len(lists) == 4 and all(q.startswith("price=price_") and "limit=100" in q for q in lists)
    assert not [r for r in without if r["path"] == "/v1/subscriptions"]
    data = json.loads(out)
    assert data["subscribers"]["skipped"] is True and by_address(data) == {}
    # the repricing still warns that existing subscribers pay more, from the amounts alone
    [warning] = [w for w in data["money_warnings"] if w["rule"] == "existing-subscribers-pay-more"]
    assert warning["address"] == "price.team_eu" and "--no-subscribers" in warning["message"]


def test_the_limit_reads_the_first_and_names_the_rest(emulator: EmulatorHandle, account: Path) -> None:
    out, lists = plan(emulator, account, "--format", "json", "--max-subscriber-prices", "1")
    data = json.loads(out)
    assert lists == 1
    assert list(by_address(data)) == ["price.team_eu"]  # who pays more is read first
    assert data["subscribers"]["uncounted"] == ["price.team_yearly_legacy", "price.team_calls", "price.team_monthly"]
    text, _ = plan(emulator, account, "--max-subscriber-prices", "1")
    assert "Subscribers NOT counted for 3 more affected prices" in text
