"""A generator of large, valid catalogs for the benchmarks (validate, compile, plan, apply).

`generate_catalog(directory, n_prices, seed=...)` writes `n_prices` prices spread over several files, with the
variety a real catalog has: licensed and metered prices, meters, quantity transforms, graduated and volume
tiers, currency options, a zero-decimal currency, decimal amounts and a few legacy plans. The output is
deterministic for a seed and passes `pricebook validate` without a warning.

    python -m tests.bench.generate DIRECTORY N_PRICES [SEED]
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PRICES_PER_FILE = 500
PRICES_PER_PRODUCT = 10
PRICES_PER_METER = 50
HEADER = "# yaml-language-server: $schema=../schemas/catalog.schema.json\n"

_Dumper: type[yaml.SafeDumper] | type[yaml.CSafeDumper]
try:
    _Dumper = yaml.CSafeDumper
except AttributeError:
    _Dumper = yaml.SafeDumper


@dataclass(frozen=True)
class GeneratedCatalog:
    """What was written: the files and the identities, for benchmarks that need to pick objects."""

    directory: Path
    files: tuple[Path, ...]
    products: tuple[str, ...]
    prices: tuple[str, ...]
    plans: tuple[str, ...]
    meters: tuple[str, ...]


def _tiers(rng: random.Random, *, flat: bool = False) -> list[dict[str, Any]]:
    bounds = sorted(rng.sample(range(2, 200), rng.randint(1, 4)))
    amount = rng.randint(500, 2000)
    tiers: list[dict[str, Any]] = []
    for up_to in [*bounds, "inf"]:
        tier: dict[str, Any] = {"up_to": up_to, "unit_amount": amount}
        if flat and not tiers:
            tier["flat_amount"] = rng.randint(1, 50) * 100
        tiers.append(tier)
        amount = max(0, amount - rng.randint(10, 100))
    return tiers


def _licensed_price(rng: random.Random, index: int, key: str) -> dict[str, Any]:
    """One of five licensed shapes, chosen by `index` so every catalog has all of them."""
    shape = index % 5
    price: dict[str, Any] = {"lookup_key": key, "nickname": f"Generated price {index}"}
    if shape == 0:
        price.update(currency="usd", unit_amount=rng.randint(100, 99_999), recurring={"interval": "month"})
    elif shape == 1:
        usd = rng.randint(1_000, 200_000)
        price.update(
            currency="usd",
            unit_amount=usd,
            currency_options={"eur": {"unit_amount": usd * 95 // 100}, "gbp": {"unit_amount": usd * 85 // 100}},
            recurring={"interval": "year"},
            tax_behavior="exclusive",
        )
    elif shape == 2:
        price.update(
            currency="usd",
            unit_amount=rng.randint(100, 5_000),
            recurring={"interval": "month", "usage_type": "licensed"},
            transform_quantity={"divide_by": rng.randint(2, 10), "round": rng.choice(["up", "down"])},
        )
    elif shape == 3:
        price.update(
            currency="usd",
            billing_scheme="tiered",
            tiers_mode="graduated",
            tiers=_tiers(rng, flat=True),
            recurring={"interval": "month"},
        )
    else:
        price.update(
            currency="jpy",
            billing_scheme="tiered",
            tiers_mode="volume",
            tiers=_tiers(rng),
            recurring={"interval": "month"},
            metadata={"segment": rng.choice(["smb", "mid", "enterprise"]), "generated": "true"},
        )
    return price


def _metered_price(rng: random.Random, index: int, key: str, meter: str) -> dict[str, Any]:
    price: dict[str, Any] = {"lookup_key": key, "nickname": f"Generated usage {index}", "currency": "usd"}
    recurring = {"interval": "month", "usage_type": "metered", "meter": meter}
    if index % 2:
        price.update(
            unit_amount_decimal=f"{rng.randint(1, 999)}.{rng.randint(0, 9999):04d}",
            recurring=recurring,
            transform_quantity={"divide_by": 1000, "round": "down"},
        )
    else:
        price.update(billing_scheme="tiered", tiers_mode="graduated", tiers=_tiers(rng, flat=True), recurring=recurring)
    return price


def generate_catalog(directory: str | Path, n_prices: int, *, seed: int = 0, plans: bool = True) -> GeneratedCatalog:
    """Write a valid catalog of `n_prices` prices (plus products, meters and, unless `plans` is False, a legacy plan
    for every 100 prices) below `directory`."""
    rng = random.Random(seed)
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    n_meters = max(1, n_prices // PRICES_PER_METER)
    meters = [f"gen_meter_{m}" for m in range(n_meters)]
    files: list[Path] = []
    meters_file = root / "meters.yaml"
    meters_file.write_text(
        HEADER
        + yaml.dump(
            {
                "meters": [
                    {
                        "event_name": name,
                        "display_name": f"Generated meter {m}",
                        "default_aggregation": {"formula": "sum"},
                    }
                    for m, name in enumerate(meters)
                ]
            },
            Dumper=_Dumper,
            sort_keys=False,
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    files.append(meters_file)
    products: list[str] = []
    prices: list[str] = []
    plan_ids: list[str] = []
    for file_index, start in enumerate(range(0, n_prices, PRICES_PER_FILE)):
        count = min(PRICES_PER_FILE, n_prices - start)
        doc: dict[str, Any] = {"products": [], "prices": [], "plans": []}
        nested = file_index % 2 == 0  # half the files nest prices under products, half list them at the top
        for product_start in range(start, start + count, PRICES_PER_PRODUCT):
            metered = (product_start // PRICES_PER_PRODUCT) % 6 == 5  # a sixth of the products bill usage
            product_id = f"gen_prod_{product_start // PRICES_PER_PRODUCT}"
            product: dict[str, Any] = {"id": product_id, "name": f"Generated product {product_id}"}
            product_prices = []
            for index in range(product_start, min(product_start + PRICES_PER_PRODUCT, start + count)):
                key = f"gen_price_{index}"
                if metered:
                    price = _metered_price(rng, index, key, meters[index % n_meters])
                else:
                    price = _licensed_price(rng, index, key)
                product_prices.append(price)
                prices.append(key)
            if product_prices and not metered:
                product["default_price"] = product_prices[0]["lookup_key"]
            if nested:
                product["prices"] = product_prices
            else:
                doc["prices"].extend({**price, "product": product_id} for price in product_prices)
            doc["products"].append(product)
            products.append(product_id)
            if plans and not metered and len(plan_ids) * 100 < product_start + 1:
                plan_id = f"gen-plan-{len(plan_ids)}"
                doc["plans"].append(
                    {
                        "id": plan_id,
                        "product": product_id,
                        "currency": "usd",
                        "amount": rng.randint(100, 9_999),
                        "interval": "month",
                        "transform_usage": {"divide_by": 5, "round": "up"},
                    }
                )
                plan_ids.append(plan_id)
        path = root / f"catalog_{file_index:04d}.yaml"
        body = {k: v for k, v in doc.items() if v}
        path.write_text(HEADER + yaml.dump(body, Dumper=_Dumper, sort_keys=False, allow_unicode=True), encoding="utf-8")
        files.append(path)
    return GeneratedCatalog(root, tuple(files), tuple(products), tuple(prices), tuple(plan_ids), tuple(meters))


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (2, 3):
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        raise SystemExit(2)
    generated = generate_catalog(args[0], int(args[1]), seed=int(args[2]) if len(args) == 3 else 0)
    print(
        f"{len(generated.prices)} prices, {len(generated.products)} products, {len(generated.plans)} plans, "
        f"{len(generated.meters)} meters in {len(generated.files)} files below {generated.directory}"
    )


if __name__ == "__main__":
    main()
