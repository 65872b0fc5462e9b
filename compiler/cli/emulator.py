"""`pricebook emulator`: serve the local Stripe emulator in the foreground until interrupted."""

from __future__ import annotations

from pathlib import Path

import click

from compiler.emulator import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    Emulator,
    EmulatorServer,
    Knobs,
    StateFileError,
    is_loopback,
)


@click.command("emulator")
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Loopback address to bind (nothing else).")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535))
@click.option("--rate-limit", type=click.IntRange(min=1), default=None, help="Requests per second before a 429.")
@click.option(
    "--fail-rate",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    show_default=True,
    help="Probability that a write fails with a 500, before or after it commits.",
)
@click.option("--latency-ms", type=click.IntRange(min=0), default=0, show_default=True, help="Added to each request.")
@click.option("--seed", type=int, default=None, help="Makes ids and injected faults reproducible.")
@click.option(
    "--meter-event-rate-limit",
    type=click.IntRange(min=1),
    default=None,
    help="Meter event requests (v1 and the stream) per second before a 429, counted apart from --rate-limit "
    "as in live mode.",
)
@click.option(
    "--meter-event-delay-ms",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="How long a meter event takes to show in event summaries.",
)
@click.option(
    "--state",
    "state",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite file that keeps the account across restarts (written after every request).",
)
def command(
    host: str,
    port: int,
    rate_limit: int | None,
    fail_rate: float,
    latency_ms: int,
    seed: int | None,
    meter_event_rate_limit: int | None,
    meter_event_delay_ms: int,
    state: Path | None,
) -> None:
    """Run a local Stripe (products, prices, plans, billing meters and their events) for the stripe SDK.

    Point pricebook at it with STRIPE_API_BASE=http://127.0.0.1:12111 and any sk_test_ key.
    Control endpoints: GET /_emulator/requests, POST /_emulator/reset, GET /_emulator/state,
    GET /_emulator/meter_events, GET|POST /_emulator/clock (?now=T or ?advance=S).
    """
    if not is_loopback(host):
        raise click.BadParameter(f"{host!r} is not a loopback address; the emulator never listens elsewhere.")
    knobs = Knobs(
        rate_limit=rate_limit,
        fail_rate=fail_rate,
        latency_ms=latency_ms,
        seed=seed,
        meter_event_rate_limit=meter_event_rate_limit,
        meter_event_delay_ms=meter_event_delay_ms,
    )
    try:
        emulator = Emulator(knobs, state_path=state)
    except StateFileError as err:
        raise click.ClickException(str(err)) from err
    try:
        server = EmulatorServer(emulator, host, port)
    except OSError as err:
        emulator.close()
        raise click.ClickException(f"cannot listen on {host}:{port}: {err.strerror or err}") from err
    click.echo(f"pricebook emulator listening on {server.url} (Ctrl-C to stop)", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        emulator.close()
