"""The rule ids of errors that only show while a command runs: what a server answered (or did not), the bounds
on its answers, the quote calculator's range, `compile --check`'s holding of calls against the SDK, and for
`pricebook ci`: the GitHub Actions runner's environment, GitHub's API, the event it runs on and the approval it
looks for. Neither `validate` nor `plan` can
find these ahead: they depend on what happens on the wire, or on the command line's input. This is their whole
list, for `docs/rules.md` (each error also carries a message and a hint about the request at hand); a test holds
it to the ids the code raises.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler import bounds
from compiler.bounds import Bound
from compiler.errors import UnexpectedAnswer
from compiler.stripe import conformance
from compiler.stripe.pricing import MAX_QUANTITY


@dataclass(frozen=True)
class RuntimeRule:
    id: str  # stable: `error[id]` on the command line
    means: str  # what happened, in general terms
    way_out: str  # what the user can do about it


def _raise(bound: Bound) -> str:
    return f"set {bound.env}=N to raise the bound (N in {bound.unit}; {bound.show(bound.default)} unless set)"


#: what a user checks when an answer is one Stripe never gives
_CHECK_BASE = (
    "check that --api-base (else STRIPE_API_BASE, or the environment's api_base) is unset (Stripe's API) or names "
    "`pricebook emulator`"
)

#: what a bound's message says besides the bound
_NAMED = "; the message names the request (method and path, never its query) and the address it went to"

CONNECTION_FAILED = RuntimeRule(
    "connection-failed",
    "no connection to the API base could be made (refused, a host name that does not resolve, TLS, a proxy), or "
    "it broke before the answer was whole, on every attempt pricebook makes; the message names the address (never "
    "the key) and the reason",
    "is `pricebook emulator` running at that address? Otherwise check --api-base, STRIPE_API_BASE and the "
    "environment's api_base in pricebook.toml (all unset: pricebook talks to Stripe), and this machine's network, "
    "DNS and proxy (HTTPS_PROXY)",
)
UNEXPECTED_ANSWER = RuntimeRule(
    "unexpected-answer",
    "an answer Stripe never sends: not JSON or not UTF-8, not an object, an object without an id, an error status "
    "without Stripe's error in its body, or an object of the other mode than the key's (a live-mode object for a "
    "test-mode key): whatever answered is not Stripe's API for the key's account, or something between rewrote it",
    str(UnexpectedAnswer.hint),
)
HTTP_TIMEOUT = RuntimeRule(
    "http-timeout",
    f"the server accepted no connection, or sent nothing, for {bounds.HTTP_TIMEOUT.env} "
    f"({bounds.HTTP_TIMEOUT.show(bounds.HTTP_TIMEOUT.default)} unless set) on the last attempt pricebook "
    "makes (a silence is retried while the request's deadline leaves room)" + _NAMED,
    f"check the network and the API base; on a slow link, {_raise(bounds.HTTP_TIMEOUT)}",
)
HTTP_DEADLINE = RuntimeRule(
    "http-deadline",
    f"one request got no whole answer within {bounds.HTTP_DEADLINE.env} "
    f"({bounds.HTTP_DEADLINE.show(bounds.HTTP_DEADLINE.default)} unless set), retries included: a server that "
    "sends its answer a trickle at a time, or stays silent through every retry" + _NAMED,
    f"check the network and the API base; on a slow link, {_raise(bounds.HTTP_DEADLINE)}",
)
RESPONSE_TOO_LARGE = RuntimeRule(
    "response-too-large",
    f"one answer was larger than {bounds.RESPONSE_MB.env} "
    f"({bounds.RESPONSE_MB.show(bounds.RESPONSE_MB.default)} unless set); a page of a Stripe list (100 objects) is "
    "far smaller. It is not sent again: it would be as large again" + _NAMED,
    f"{_CHECK_BASE}; if the account's answers really are that large, {_raise(bounds.RESPONSE_MB)}",
)
LIST_CURSOR = RuntimeRule(
    "list-cursor",
    "a list of the account said it had more, but its page ended in an object without an id to continue from, or "
    "it came back to a page it had sent: following it would never end. Stripe's lists do neither",
    _CHECK_BASE,
)
LIST_TOO_LONG = RuntimeRule(
    "list-too-long",
    f"a list of the account went on past {bounds.LIST_OBJECTS.env} "
    f"({bounds.LIST_OBJECTS.show(bounds.LIST_OBJECTS.default)} unless set)",
    f"{_CHECK_BASE}; for an account that does hold that many, {_raise(bounds.LIST_OBJECTS)}",
)
PLAN_FILE_TOO_LARGE = RuntimeRule(
    "plan-file-too-large",
    f"`apply --plan FILE`: the saved plan is larger than {bounds.PLAN_FILE_MB.env} "
    f"({bounds.PLAN_FILE_MB.show(bounds.PLAN_FILE_MB.default)} unless set); it is refused before it is read",
    f"check that the file is a plan saved by `pricebook plan --out FILE`; for a plan that large, "
    f"{_raise(bounds.PLAN_FILE_MB)}",
)
QUANTITY_TOO_LARGE = RuntimeRule(
    "quantity-too-large",
    f"`quote` (or `usage summary --price`) was asked about a quantity above {MAX_QUANTITY:,} (10^18), the largest "
    "pricebook computes an amount for",
    "quote a quantity of at most 10^18",
)
CI_OUTSIDE_GITHUB_ACTIONS = RuntimeRule(
    "ci-outside-github-actions",
    "`pricebook ci pr` ran outside a GitHub Actions job (no GITHUB_EVENT_NAME): it needs a pull request to comment on",
    "to see the plan comment on this machine, run `pricebook plan --format markdown`; docs/github-actions.md sets "
    "up the workflow",
)
CI_NOT_A_PULL_REQUEST = RuntimeRule(
    "ci-not-a-pull-request",
    "`pricebook ci pr` ran on a GitHub event other than a pull request",
    "run `command: pr` on pull_request, `command: apply` on a push to the main branch, `command: drift` on a schedule",
)
CI_NO_APPROVED_PLAN = RuntimeRule(
    "ci-no-approved-plan",
    "`pricebook ci apply` (with require-approval) found no plan approved for the merged commit: no pull request "
    "merged it, the pull request has no plan comment for the environment, or its comment shows no plan (the plan "
    "failed: an invalid catalog, a failed read); nothing is applied",
    "change the catalog through a pull request whose plan comment shows a plan (the action's `pr` command posts it "
    "on every push), or run the action with require-approval: false",
)
CI_PLAN_BLOCKED = RuntimeRule(
    "ci-plan-blocked",
    "`pricebook ci apply` found the merged pull request's plan comment showing a plan that problems blocked: a "
    "blocked plan has no plan hash, so nothing was approved and nothing is applied",
    "fix the problems the comment lists in a pull request: each push plans again and updates the comment, which "
    "holds a plan hash once no problem blocks the plan; merging that pull request applies it",
)
CI_ACCOUNT_DRIFTED = RuntimeRule(
    "ci-account-drifted",
    "`pricebook ci drift` found changes to make: the account differs from the catalog of the branch (someone "
    "changed Stripe outside the catalog, or an apply did not finish); the job fails so that it shows",
    "bring the change into the catalog through a pull request, or apply the catalog to undo it; the job summary "
    "and the drift issue show the changes",
)
CI_APPLY_NOT_CONVERGED = RuntimeRule(
    "ci-apply-not-converged",
    "`pricebook ci apply` applied the approved plan, and planning again still found changes",
    "someone may have changed the account while it applied: run the workflow again; if the same changes remain, "
    "report it with the plan",
)
CI_COMMAND_OUTPUT_MISSING = RuntimeRule(
    "ci-command-output-missing",
    "a pricebook command a `pricebook ci` step runs printed nothing the step can use: `plan --format markdown` no "
    "comment marker, `validate --format sarif` no SARIF",
    "the step's log shows the command (`$ pricebook ...`) and what it said: run it with the same arguments to see "
    "why; if it said nothing, report it with the log",
)
CI_EVENT_INVALID = RuntimeRule(
    "ci-event-invalid",
    "the event's payload, the file GITHUB_EVENT_PATH names, cannot be read, is not a JSON object, or a pull "
    "request event's payload names no pull request",
    "run the step in a GitHub Actions job, where the runner writes the payload; to try it elsewhere, point "
    "GITHUB_EVENT_PATH at a JSON file shaped like the event's payload",
)
CI_RUNNER_ENVIRONMENT = RuntimeRule(
    "ci-runner-environment",
    "a variable the runner sets in every workflow run is empty, or not of its form: GITHUB_REPOSITORY (owner/name), "
    "GITHUB_SHA (a commit's full id)",
    "run the step in a GitHub Actions job, and leave those variables as the runner sets them (docs/github-actions.md)",
)
CI_NO_GITHUB_TOKEN = RuntimeRule(
    "ci-no-github-token",
    "a `pricebook ci` step that talks to GitHub found GITHUB_TOKEN empty, or holding spaces or line breaks inside",
    "the action passes its github-token input, whose default is the job's github.token: leave it out, or check that "
    "the secret you give it is set (a secret that does not exist is empty)",
)
CI_FILE_UNWRITABLE = RuntimeRule(
    "ci-file-unwritable",
    "a file a `pricebook ci` step writes cannot be written: the runner's step outputs (GITHUB_OUTPUT) or job summary "
    "(GITHUB_STEP_SUMMARY), or the sarif-file input's SARIF file; the message names the file and why",
    "run the step in a GitHub Actions job, which names the runner's files; give sarif-file a file in the workspace "
    "whose directory exists",
)
GITHUB_REFUSED = RuntimeRule(
    "github-refused",
    "GitHub's REST API answered a request of a `pricebook ci` step with an error status; the message names the "
    "request (method and path), the status and GitHub's message, and the hint is the status's",
    "401: the token (the action's github-token input) is expired, revoked or not one; 403 or 404: the job's "
    "`permissions:` lack what the request needs (pull-requests: write, issues: write, contents: read) or the token "
    "is another repository's; 429, or 403 with the rate limit spent: run the job again later; 5xx: run the job "
    "again",
)
GITHUB_UNREACHABLE = RuntimeRule(
    "github-unreachable",
    "no connection to GitHub's API (GITHUB_API_URL) could be made, or it broke before the answer was whole",
    "check GITHUB_API_URL (the runner sets it; on GitHub Enterprise Server https://HOST/api/v3), and the runner's "
    "network and proxy; then run the job again",
)
GITHUB_UNEXPECTED_ANSWER = RuntimeRule(
    "github-unexpected-answer",
    "GitHub's API answered with something that is not JSON, or not a list where a list was asked for: whatever "
    "answered at GITHUB_API_URL is not GitHub's REST API, or something between rewrote it",
    "check that GITHUB_API_URL is GitHub's REST API and that no proxy answers in its place; then run the job again",
)
GITHUB_LIST_TOO_LONG = RuntimeRule(
    "github-list-too-long",
    "a list on GitHub (a pull request's comments, the repository's issues) goes on past the pages pricebook reads; "
    "what it looks for there (its sticky comment, the drift issue) might be beyond them, and posting another "
    "would make a second one",
    "delete or hide old comments of the pull request (or close old pricebook drift issues), then run the job again",
)
#: `compile --check`: one id per code of a problem the SDK's request types find in a compiled call
CONFORMANCE = tuple(
    RuntimeRule(
        conformance.rule_id(code),
        f"`compile --check`: a compiled call the stripe SDK's request types (generated from Stripe's API spec) do "
        f"not allow: {code}",
        "pricebook compiled a call Stripe refuses: please report it, with the catalog entry the error points at",
    )
    for code in conformance.CODES
)

#: every rule, in the order the reference lists them
RUNTIME_RULES: tuple[RuntimeRule, ...] = (
    CONNECTION_FAILED,
    UNEXPECTED_ANSWER,
    HTTP_TIMEOUT,
    HTTP_DEADLINE,
    RESPONSE_TOO_LARGE,
    LIST_CURSOR,
    LIST_TOO_LONG,
    PLAN_FILE_TOO_LARGE,
    QUANTITY_TOO_LARGE,
    CI_OUTSIDE_GITHUB_ACTIONS,
    CI_NOT_A_PULL_REQUEST,
    CI_NO_APPROVED_PLAN,
    CI_PLAN_BLOCKED,
    CI_ACCOUNT_DRIFTED,
    CI_APPLY_NOT_CONVERGED,
    CI_COMMAND_OUTPUT_MISSING,
    CI_EVENT_INVALID,
    CI_RUNNER_ENVIRONMENT,
    CI_NO_GITHUB_TOKEN,
    CI_FILE_UNWRITABLE,
    GITHUB_REFUSED,
    GITHUB_UNREACHABLE,
    GITHUB_UNEXPECTED_ANSWER,
    GITHUB_LIST_TOO_LONG,
    *CONFORMANCE,
)


__all__ = [
    "CI_ACCOUNT_DRIFTED",
    "CI_APPLY_NOT_CONVERGED",
    "CI_COMMAND_OUTPUT_MISSING",
    "CI_EVENT_INVALID",
    "CI_FILE_UNWRITABLE",
    "CI_NOT_A_PULL_REQUEST",
    "CI_NO_APPROVED_PLAN",
    "CI_NO_GITHUB_TOKEN",
    "CI_OUTSIDE_GITHUB_ACTIONS",
    "CI_PLAN_BLOCKED",
    "CI_RUNNER_ENVIRONMENT",
    "CONFORMANCE",
    "CONNECTION_FAILED",
    "GITHUB_LIST_TOO_LONG",
    "GITHUB_REFUSED",
    "GITHUB_UNEXPECTED_ANSWER",
    "GITHUB_UNREACHABLE",
    "HTTP_DEADLINE",
    "HTTP_TIMEOUT",
    "LIST_CURSOR",
    "LIST_TOO_LONG",
    "PLAN_FILE_TOO_LARGE",
    "QUANTITY_TOO_LARGE",
    "RESPONSE_TOO_LARGE",
    "RUNTIME_RULES",
    "UNEXPECTED_ANSWER",
    "RuntimeRule",
]
