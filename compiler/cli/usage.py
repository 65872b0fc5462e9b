"""`pricebook usage record | import FILE | summary | cancel`: billing meter events, counted exactly once.

- `record`: one event from the command line (v1: Stripe answers it at once).
- `import FILE`: a CSV or JSON Lines file, exactly once: deterministic identifiers, a journal to resume from, a
  rejected-rows file, `--dry-run` to check every row first, `--verify` to compare totals with Stripe afterwards.
- `summary`: a customer's usage of a meter over a period, and with `--price` what it costs under a catalog price.
- `cancel`: cancel events by identifier, or every event an import of a file sent, within Stripe's 24 hours.
"""

from __future__ import annotations

import json
import math
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from compiler.changes.model import Resource
from compiler.cli.common import (
    DiagnosticPrinter,
    catalog_options,
    connect,
    connection_options,
    environment_option,
    load_checked,
)
from compiler.cli.environments import Environment
from compiler.cli.progress import ProgressLine, duration
from compiler.cli.quote import find_quotable
from compiler.cli.quote import render_text as render_quote
from compiler.errors import InvalidUsage, NotQuotable, PricebookError, UsageError
from compiler.stripe import facts
from compiler.stripe.facts import GroupingWindow
from compiler.stripe.pricing import PriceTerms, Quote, quote
from compiler.usage.cancel import CancelReport, CancelTarget, cancel, file_targets
from compiler.usage.events import RowChecker, iso_timestamp
from compiler.usage.importer import ImportReport, Progress, UsageFile, default_rejected, import_file, preflight
from compiler.usage.journal import default_journal, journal_for
from compiler.usage.meters import Meter, Meters, account_meters, catalog_meters
from compiler.usage.rows import FileFormat, SourceRow
from compiler.usage.send import Outcome, Sender, StreamSender, V1Sender, Via
from compiler.usage.summary import UsageSummary, period, summarize
from compiler.usage.verify import VerifyReport, verify

if TYPE_CHECKING:  # the SDK is imported when a command talks to Stripe: an offline --dry-run never loads it
    from compiler.stripe.gateway import Connection, Gateway


JOURNAL_DEFAULT = (
    "FILE.journal; with an environment (--env NAME, or pricebook.toml's default_environment) FILE.NAME.journal, "
    "or a journal of FILE that records the same account"
)


@click.group("usage")
def command() -> None:
    """Record usage as billing meter events, exactly once; see it and what it costs; cancel it."""


# -- shared -----------------------------------------------------------------------------------------------------------


def _connect(environment: Environment | None, api_base: str | None, live: bool) -> tuple[Connection, Gateway]:
    from compiler.stripe.gateway import Gateway

    connection = connect(environment, api_base, live)
    return connection, Gateway(connection)


def _meter(meters: Meters, event_name: str) -> Meter:
    meter = meters.get(event_name)
    if meter is None:
        known = ", ".join(meters.names()[:10]) or "none"
        raise UsageError(f"no meter has the event_name {event_name!r} in {meters.source}", hint=f"meters: {known}")
    return meter


def _events_gateway(connection: Connection, account: Gateway, via: Via, rate: float | None) -> Gateway:
    """The gateway events go through. Test mode counts them against the basic limit, so they share the account's
    gateway (and its pace); live mode gives them a limit of their own; `--rate` sets it."""
    if rate is None and not connection.livemode:
        return account
    if rate is None:
        rate = (
            facts.RATE_LIMIT_METER_STREAM_LIVE.value if via is Via.STREAM else facts.RATE_LIMIT_METER_EVENTS_LIVE.value
        )
    from compiler.stripe.gateway import Gateway

    return Gateway(connection, rate=rate)


def workers_for(rate: float) -> int:
    """Enough requests in flight to reach `rate` at ~80 ms a request, and no more than 32 threads."""
    return max(2, min(32, math.ceil(rate * 0.08)))


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """A SIGTERM (CI cancelling a job) stops an import like Ctrl-C: batches in flight are recorded first."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# -- record -------------------------------------------------------------------------------------------------------


@command.command("record")
@click.option("--meter", "event_name", required=True, metavar="EVENT_NAME", help="The meter's event_name.")
@click.option("--customer", required=True, metavar="CUS", help="The Stripe customer id (cus_...).")
@click.option("--value", required=True, type=int, help="The usage: a whole number (negative corrects usage).")
@click.option("--timestamp", metavar="TIME", help="When it happened: Unix seconds or ISO 8601 with a zone [now].")
@click.option("--identifier", metavar="ID", help="Stripe keeps one event per identifier [derived from the event].")
@click.option("--payload", "extra", multiple=True, metavar="KEY=VALUE", help="Another payload key (repeatable).")
@connection_options
@environment_option
def record(
    event_name: str,
    customer: str,
    value: int,
    timestamp: str | None,
    identifier: str | None,
    extra: tuple[str, ...],
    api_base: str | None,
    live: bool,
    environment: Environment | None,
) -> None:
    """Record one meter event, answered by Stripe at once (v1)."""
    _, gateway = _connect(environment, api_base, live)
    meters = account_meters(gateway)
    meter = meters.get(event_name)
    customer_key = meter.customer_key if meter else facts.DEFAULT_CUSTOMER_PAYLOAD_KEY
    value_key = meter.value_key if meter else facts.DEFAULT_VALUE_PAYLOAD_KEY
    payload: dict[str, Any] = {}
    for item in extra:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--payload {item!r} is not KEY=VALUE", hint="e.g. --payload region=eu")
        payload[key] = text
    payload.update({customer_key: customer, value_key: str(value)})
    now = int(time.time())
    # an explicit timestamp makes the identifier (derived from the event) that of this event only
    row = SourceRow(0, 0, event_name, timestamp if timestamp is not None else now, identifier, payload)
    checked = RowChecker(meters, now, "usage record").check(row)
    if not checked.ok or checked.event is None:
        raise InvalidUsage([p for p in checked.problems if p.is_error] or list(checked.problems))
    event = checked.event
    result = V1Sender(gateway).send([event])[0]
    when = iso_timestamp(event.timestamp) if event.timestamp is not None else "now"
    if result.outcome is Outcome.REJECTED:
        raise PricebookError(f"Stripe refused the event: {result.reason}", hint="fix the event and record it again")
    if result.outcome is Outcome.ALREADY:
        click.echo(f"Already recorded: Stripe has an event with identifier {event.identifier} (not counted twice).")
        return
    click.echo(f"Recorded {event.value:,} on {event.event_name} for {event.customer} at {when}.")
    click.echo(
        f"  identifier: {event.identifier} (cancel within 24 hours: pricebook usage cancel "
        f"--meter {event.event_name} --identifier {event.identifier})"
    )


# -- import -----------------------------------------------------------------------------------------------------------


class _ProgressLine:
    """An import's progress: rows read, sent, already there, rejected, the pace and the time left."""

    def __init__(self, display: str, tty: bool) -> None:
        self.display = display
        self.line = ProgressLine(tty)

    def __call__(self, progress: Progress) -> None:
        if not self.line.due() or (not self.line.tty and progress.fraction >= 1.0):  # the report follows
            return
        c = progress.counts
        rate = (c.sent + c.already_at_stripe) / progress.elapsed if progress.elapsed > 0 else 0.0
        eta = progress.eta
        self.line.show(
            f"{self.display}: {c.rows:,} rows ({progress.fraction:.0%}), {c.sent:,} sent, "
            f"{c.already:,} already there, {c.rejected:,} rejected, {rate:,.0f} events/s"
            + (f", ETA {duration(eta)}" if eta is not None else "")
        )

    def close(self) -> None:
        self.line.close()


@command.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice([f.value for f in FileFormat]), help="[by extension]")
@click.option(
    "--via",
    type=click.Choice([v.value for v in Via]),
    default=Via.STREAM.value,
    show_default=True,
    help="stream: Stripe's v2 meter event stream, 100 events a request, checked by Stripe afterwards; "
    "v1: one request an event, each answered at once.",
)
@click.option("--dry-run", is_flag=True, help="Check every row and report each bad one; send nothing.")
@click.option(
    "--catalog",
    "catalog_paths",
    multiple=True,
    type=click.Path(),
    metavar="PATH",
    help="With --dry-run: check against the catalog's meters, offline, instead of the account's.",
)
@click.option("--verify", "verify_after", is_flag=True, help="Afterwards, compare totals with Stripe's summaries.")
@click.option(
    "--verify-timeout",
    type=click.FloatRange(min=0),
    default=120.0,
    show_default=True,
    metavar="SECONDS",
    help="How long --verify waits for Stripe to process the events.",
)
@click.option(
    "--journal",
    "journal_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="PATH",
    help=f"What Stripe has of FILE, to resume from [{JOURNAL_DEFAULT}].",
)
@click.option(
    "--rejected",
    "rejected_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Why each row was rejected [FILE.rejected.jsonl]; the rows themselves go to STEM.rejected.EXT.",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0.1),
    metavar="N",
    help="Event requests per second to stay under [test mode: 25; live: 10,000 on the stream, 1,000 on v1].",
)
@click.option("--workers", type=click.IntRange(1, 64), help="Requests in flight at once [from the rate].")
@click.option(
    "--resend-in-doubt",
    is_flag=True,
    help="Also send rows an interrupted run sent more than 23 hours ago without an answer (check first that "
    "Stripe does not have them).",
)
@click.option(
    "--resend-rejected",
    is_flag=True,
    help="Check and send again the rows earlier runs rejected, from FILE instead of their rejected-rows file "
    "(refused while that file is there or was imported).",
)
@catalog_options
@connection_options
@environment_option
def import_(
    file: Path,
    fmt: str | None,
    via: str,
    dry_run: bool,
    catalog_paths: tuple[str, ...],
    verify_after: bool,
    verify_timeout: float,
    journal_path: Path | None,
    rejected_path: Path | None,
    rate: float | None,
    workers: int | None,
    resend_in_doubt: bool,
    resend_rejected: bool,
    var: tuple[str, ...],
    vars_file: str | None,
    api_base: str | None,
    live: bool,
    environment: Environment | None,
) -> None:
    """Send the meter events of FILE (CSV or JSON Lines) exactly once; run it again to resume."""
    usage_file = UsageFile.at(file, FileFormat(fmt) if fmt else None)
    if catalog_paths and not dry_run:
        raise UsageError("--catalog checks offline and goes with --dry-run", hint="an import reads the account")
    if dry_run:
        _dry_run(usage_file, journal_path, resend_rejected, catalog_paths, var, vars_file, api_base, live, environment)
        return
    connection, account = _connect(environment, api_base, live)
    chosen = Via(via)
    events = _events_gateway(connection, account, chosen, rate)
    meters = account_meters(account)
    journal = _journal(file, journal_path, environment, meters)
    sender: Sender = StreamSender(events, account) if chosen is Via.STREAM else V1Sender(events)
    progress = _ProgressLine(usage_file.display, sys.stderr.isatty())
    try:
        with _terminate_as_interrupt():
            report = import_file(
                usage_file,
                meters,
                sender,
                journal_path=journal,
                rejected_path=rejected_path or default_rejected(file),
                workers=workers or workers_for(events.rate_limit),
                resend_in_doubt=resend_in_doubt,
                resend_rejected=resend_rejected,
                on_progress=progress,
            )
    finally:
        progress.close()
    _print_import(report, events, _continued(file, journal_path, environment, journal))
    verified: VerifyReport | None = None
    if verify_after and not report.interrupted and report.failure is None:
        if report.totals:
            verified = _verify(report, meters, account, verify_timeout)
        else:
            click.echo("Nothing to verify: Stripe has no row of this file.")
    _finish_import(report, verified)


def _journal(file: Path, journal_path: Path | None, environment: Environment | None, meters: Meters) -> Path:
    """--journal, else the environment's journal of the file, or another that records the same account."""
    if journal_path is not None:
        return journal_path
    return journal_for(file, environment.name if environment else None, meters.account_ids)


def _continued(file: Path, journal_path: Path | None, environment: Environment | None, journal: Path) -> str:
    """Why the import continued a journal of another name than the environment's own, if it did."""
    own = default_journal(file, environment.name if environment else None)
    if journal_path is not None or journal == own:
        return ""
    return f" (it records this account: continued, not started anew as {own})"


def _dry_run(
    usage_file: UsageFile,
    journal_path: Path | None,
    resend_rejected: bool,
    catalog_paths: tuple[str, ...],
    var: tuple[str, ...],
    vars_file: str | None,
    api_base: str | None,
    live: bool,
    environment: Environment | None,
) -> None:
    if catalog_paths:
        meters = catalog_meters(load_checked(catalog_paths, var, vars_file, environment), ", ".join(catalog_paths))
    else:
        _, gateway = _connect(environment, api_base, live)
        meters = account_meters(gateway)
    journal = _journal(usage_file.path, journal_path, environment, meters)
    printer = DiagnosticPrinter()
    report = preflight(
        usage_file,
        meters,
        now=int(time.time()),
        journal_path=journal,
        resend_rejected=resend_rejected,
        on_problem=printer,
    )
    printer.finish()
    done = f", {report.already_in_journal:,} already recorded by an earlier import" if report.already_in_journal else ""
    if report.rejected_before:
        done += f", {report.rejected_before:,} rejected by an earlier import (its rejected-rows file sends them)"
    checked = f"{report.rows:,} rows checked against the meters of {meters.source}{done}"
    if not report.ok:
        raise PricebookError(
            f"{usage_file.display}: {report.bad_rows:,} of {checked} would be rejected; nothing was sent",
            hint="fix the rows above (or let the import send the others and write these to its rejected file)",
        )
    click.echo(f"{usage_file.display}: {checked}: every row can be sent. Nothing was sent (--dry-run).")


def _print_import(report: ImportReport, events: Gateway, continued: str) -> None:
    c = report.counts
    how = "the meter event stream" if report.via is Via.STREAM else "v1 meter events"
    state = "Interrupted" if report.interrupted else ("Stopped" if report.failure else "Imported")
    click.echo(f"{state}: {report.file.display}, {c.rows:,} rows in {report.seconds:.1f} s through {how}.")
    already = ""
    if c.already:
        already = f"  ({c.already_in_journal:,} recorded by an earlier run, {c.already_at_stripe:,} Stripe already had)"
    rejected = f"  (rows: {report.rejected_rows}, why: {report.rejected_file})" if c.rejected else ""
    rows = [
        ("sent", c.sent, ""),
        ("already there", c.already, already),
        ("rejected", c.rejected, rejected),
        ("not attempted", c.not_attempted, ""),
    ]
    if c.rejected_before:
        rows.append(("rejected before", c.rejected_before, f"  ({_rejected_before(report)})"))
    if c.in_doubt:
        rows.append(("in doubt", c.in_doubt, "  (sent by an interrupted run more than 23 hours ago, unanswered)"))
    for label, number, note in rows:
        click.echo(f"  {label:<16}{number:>10,}{note}")
    if report.interrupted:
        click.echo(f"  the rest of the file, after line {report.read_until:,}, was not read")
    stats = events.stats
    click.echo(f"  journal: {report.journal}{continued}")
    plural = "" if stats.requests == 1 else "s"
    click.echo(
        f"  {stats.requests:,} request{plural}, {stats.rate_limited:,} rate-limited (429) and retried, "
        f"{stats.retries:,} retries"
    )
    if report.via is Via.STREAM and c.sent:
        click.echo("  Stripe checks stream events after taking them: --verify compares the totals it counted.")


def _rejected_before(report: ImportReport) -> str:
    gone = set(report.rejected_gone)
    files = [f"{path} ({count:,}{', gone' if path in gone else ''})" for path, count in report.rejected_before]
    return f"by earlier runs, into {', '.join(files)}: their file's import sends them, not this one"


def _verify(report: ImportReport, meters: Meters, account: Gateway, timeout: float) -> VerifyReport:
    click.echo(
        f"Verifying {len(report.totals):,} customer/meter total(s) against Stripe's event summaries "
        f"(waiting up to {timeout:g} s for Stripe to process the events) ...",
        err=True,
    )

    def waiting(matching: int, compared: int) -> None:
        click.echo(f"  {matching:,} of {compared:,} match so far; asking again ...", err=True)

    return verify(
        report.totals,
        meters,
        account,
        sent_from=report.started_sending,
        sent_until=int(time.time()),
        timeout=timeout,
        on_wait=waiting,
    )


def _finish_import(report: ImportReport, verified: VerifyReport | None) -> None:
    if verified is not None:
        for skipped in verified.skipped:
            click.echo(f"  not compared: {skipped}")
        if verified.ok:
            click.echo(
                f"Verified: {verified.compared:,} customer/meter total(s) match Stripe's event summaries "
                f"({verified.seconds:.1f} s)."
            )
        else:
            for difference in verified.differences:
                click.echo(f"  differs: {difference.describe()}")
    if report.failure is not None:
        raise PricebookError(
            f"the import stopped: {report.failure.message}",
            hint="fix the cause, then run the same command again: it skips what Stripe has and sends the rest",
        )
    if report.interrupted:
        raise PricebookError(
            "the import was interrupted",
            hint="run the same command again: it continues where it stopped, and nothing is sent twice",
        )
    if report.counts.in_doubt:
        raise PricebookError(
            f"{report.counts.in_doubt:,} row(s) in doubt were not sent: an interrupted run sent them more than 23 "
            "hours ago and got no answer, and Stripe no longer keeps their identifiers from counting twice",
            hint="compare `pricebook usage summary` for their customers with the file; if Stripe does not have "
            "them, run the import again with --resend-in-doubt",
        )
    display = report.file.display
    if report.rejected_gone:
        gone = ", ".join(str(path) for path in report.rejected_gone)
        raise PricebookError(
            f"rows {display} rejected before went to {gone}, which is gone and was never imported: those rows are "
            "in no file now",
            hint=f"restore it and import it, or send them from {display}: pricebook usage import {display} "
            "--resend-rejected",
        )
    if report.counts.rejected:
        raise PricebookError(
            f"{report.counts.rejected:,} row(s) rejected; every other row was sent",
            hint=f"the rejected rows are in {report.rejected_rows}, as {display} has them, and why in "
            f"{report.rejected_file}: fix them there and import that file (pricebook usage import "
            f"{report.rejected_rows}), also when the cause was the account (a meter to create or reactivate). "
            f"Leave {display} as it is: its journal belongs to its content, and running it again does not send "
            "these rows, so they count once",
        )
    if verified is not None and not verified.ok:
        raise PricebookError(
            f"{len(verified.differences):,} total(s) differ from Stripe's event summaries",
            hint="Stripe may still be processing (try --verify-timeout), it may have dropped events it checks "
            "only after taking them (a customer it does not know), or other usage was recorded for the same "
            "customers and minutes",
        )


# -- summary --------------------------------------------------------------------------------------------------------


@command.command("summary")
@click.option("--customer", required=True, metavar="CUS", help="The Stripe customer id (cus_...).")
@click.option("--meter", "event_name", metavar="EVENT_NAME", help="The meter's event_name [the price's meter].")
@click.option("--price", "price_key", metavar="LOOKUP_KEY", help="Also show the cost under this catalog price.")
@click.option("--from", "start", metavar="TIME", help="Start (a date, ISO 8601 or Unix seconds) [this month].")
@click.option("--to", "end", metavar="TIME", help="End, exclusive [now, rounded up].")
@click.option("--by", "by", type=click.Choice([w.value for w in GroupingWindow]), help="Per hour or UTC day.")
@click.option("--currency", metavar="CUR", help="Price the usage in one of the price's currency_options.")
@click.option("--catalog", "catalog_paths", multiple=True, type=click.Path(), metavar="PATH", help="[plans/]")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@catalog_options
@connection_options
@environment_option
def summary(
    customer: str,
    event_name: str | None,
    price_key: str | None,
    start: str | None,
    end: str | None,
    by: str | None,
    currency: str | None,
    catalog_paths: tuple[str, ...],
    fmt: str,
    var: tuple[str, ...],
    vars_file: str | None,
    api_base: str | None,
    live: bool,
    environment: Environment | None,
) -> None:
    """A customer's usage of a meter over a period, from Stripe's event summaries, and what it costs."""
    price: Resource | None = None
    if price_key is not None:
        catalog = load_checked(catalog_paths or ("plans/",), var, vars_file, environment)
        price = find_quotable(catalog, price_key)
        price_meter = price.meter
        if price_meter is None:
            raise UsageError(
                f"{price.address} is not metered: its quantity is not usage",
                hint="name a metered price (recurring.usage_type metered, with a meter)",
            )
        if event_name is not None and event_name != price_meter:
            raise UsageError(
                f"{price.address} bills from the meter {price_meter!r}, not {event_name!r}",
                hint="leave out --meter: the price names its meter",
            )
        event_name = price_meter
    if event_name is None:
        raise UsageError(
            "which meter? name it with --meter EVENT_NAME, or --price LOOKUP_KEY of a metered price",
            hint="the meters are the catalog's meters, by event_name (e.g. --meter emails_sent)",
        )
    span = period(start, end, GroupingWindow(by) if by else None, now=int(time.time()))
    _, gateway = _connect(environment, api_base, live)
    meter = _meter(account_meters(gateway), event_name)
    usage = summarize(gateway, meter, customer, span)
    cost = _cost(price, usage, currency) if price is not None else None
    if fmt == "json":
        data: dict[str, Any] = usage.to_json()
        if cost is not None:
            data["cost"] = {"price": price.key if price else None, **cost[1].to_json()}
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(_summary_text(usage))
    if cost is not None and price is not None:
        terms, priced = cost
        click.echo("")
        click.echo(f"Cost under {price.address}, were this period a whole billing period:")
        click.echo(render_quote(price, terms, [priced]))


def _cost(price: Resource, usage: UsageSummary, currency: str | None) -> tuple[PriceTerms, Quote]:
    total = usage.total
    if total != int(total):
        raise NotQuotable(
            f"Stripe's total {total} is not a whole number: no price bills a fraction of a unit",
            hint="meter events carry whole numbers; look for events recorded some other way",
        )
    # a period whose usage adds up to less than zero is billed as zero (Stripe's docs, "Usage values")
    quantity = max(0, int(total))
    terms = PriceTerms.from_attrs(price.kind, price.attrs, currency)
    return terms, quote(terms, quantity)


def _summary_text(usage: UsageSummary) -> str:
    meter = usage.meter
    lines = [f"Usage of {meter.describe()} by {usage.customer}, {usage.period.describe()}:"]
    if usage.windows:
        width = max(len(f"{w.value:,.0f}") for w in usage.windows)
        for window in usage.windows:
            lines.append(f"  {time.strftime('%Y-%m-%d %H:%M', time.gmtime(window.start))}  {window.value:>{width},.0f}")
    lines.append(f"  total: {usage.total:,.0f}" if usage.total == int(usage.total) else f"  total: {usage.total}")
    if usage.total < 0:
        lines.append("  (a period's usage below zero is billed as 0)")
    return "\n".join(lines)


# -- cancel ---------------------------------------------------------------------------------------------------------


@command.command("cancel")
@click.option("--meter", "event_name", metavar="EVENT_NAME", help="The meter the events were sent to.")
@click.option("--identifier", "identifiers", multiple=True, metavar="ID", help="An event's identifier (repeatable).")
@click.option(
    "--file",
    "file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Every event an import of this file sent (from its journal).",
)
@click.option("--format", "fmt", type=click.Choice([f.value for f in FileFormat]), help="[by extension]")
@click.option(
    "--journal",
    "journal_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="PATH",
    help=f"The journal the import wrote [{JOURNAL_DEFAULT}].",
)
@connection_options
@environment_option
def cancel_command(
    event_name: str | None,
    identifiers: tuple[str, ...],
    file: Path | None,
    fmt: str | None,
    journal_path: Path | None,
    api_base: str | None,
    live: bool,
    environment: Environment | None,
) -> None:
    """Cancel meter events, by identifier or by imported file, within 24 hours of Stripe receiving them."""
    if (file is None) == (not identifiers):
        raise UsageError(
            "give --identifier ID (with --meter) or --file FILE, one of the two",
            hint="--file cancels every event an import of that file sent; --identifier one event",
        )
    _, gateway = _connect(environment, api_base, live)
    meters = account_meters(gateway)
    now = int(time.time())
    if file is None:
        if event_name is None:
            raise UsageError(
                "--identifier needs --meter EVENT_NAME: Stripe cancels an event of a meter",
                hint="the meter the event was recorded on, by event_name",
            )
        _meter(meters, event_name)
        targets = tuple(CancelTarget(event_name, identifier) for identifier in identifiers)
        report = cancel(gateway, targets, now=time.time)
    else:
        usage_file = UsageFile.at(file, FileFormat(fmt) if fmt else None)
        journal = _journal(file, journal_path, environment, meters)
        found = file_targets(file, usage_file.rows, usage_file.display, meters, journal, now=now)
        report = cancel(gateway, found.to_cancel, too_old=found.too_old, journal=found.journal, now=time.time)
    _print_cancel(report)


def _print_cancel(report: CancelReport) -> None:
    click.echo(
        f"Cancelled {len(report.cancelled):,} event(s): Stripe takes each (status pending) and removes it "
        "from the meter's usage once processed."
    )
    if report.too_old:
        click.echo(
            f"Too old: {len(report.too_old):,} event(s) Stripe received more than 24 hours ago; Stripe keeps "
            "them (an invoice credit is the way to take such usage back):"
        )
        _list(report.too_old, lambda t: f"{t.identifier} (line {t.line}, received {iso_timestamp(t.received or 0)})")
    if report.failed:
        for target, message in report.failed[:20]:
            click.echo(f"  failed: {target.identifier}: {message}", err=True)
        raise PricebookError(
            f"{len(report.failed):,} cancellation(s) failed",
            hint="run the command again for them; cancelling an event twice changes nothing",
        )


def _list(targets: Sequence[CancelTarget], describe: Callable[[CancelTarget], str]) -> None:
    for target in targets[:20]:
        click.echo(f"  {describe(target)}")
    if len(targets) > 20:
        click.echo(f"  ... and {len(targets) - 20:,} more")
