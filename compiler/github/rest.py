"""GitHub's REST API, the few calls a workflow step makes, over the standard library.

The token goes in the Authorization header and nowhere else: never into a message, and never to another host
(a `Link` to a next page elsewhere is not followed). GitHub's refusals become `GitHubError`s (`github-refused`)
that say what to do about their status: which permission the job's token probably lacks, a spent rate limit, an
outage on GitHub's side.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

from compiler.errors import GitHubError

API_VERSION = "2022-11-28"
#: a list is read 100 items a page, at most this many pages (10,000 comments or issues)
MAX_PAGES = 100
TIMEOUT_SECONDS = 30

_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


class GitHubApi:
    """One repository's side of the API, as the job's token sees it."""

    def __init__(self, base_url: str, token: str, repository: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.repository = repository
        self._token = token

    def url(self, path: str) -> str:
        """`path` relative to the repository (`issues/3/comments`), or absolute from the API's root (`/user`)."""
        return self.base_url + (path if path.startswith("/") else f"/repos/{self.repository}/{path}")

    def _send(self, method: str, url: str, body: Mapping[str, Any] | None) -> tuple[Any, str]:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = Request(url, data=data, method=method)
        request.add_header("Accept", "application/vnd.github+json")
        request.add_header("X-GitHub-Api-Version", API_VERSION)
        request.add_header("User-Agent", "pricebook")
        request.add_header("Authorization", f"Bearer {self._token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        shown = f"{method} {urlsplit(url).path}"
        try:
            with urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                text = response.read().decode("utf-8")
                link = response.headers.get("Link", "")
        except HTTPError as exc:
            raise _refusal(shown, exc) from None
        except (URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise GitHubError(
                f"cannot reach GitHub's API at {self.base_url}: {reason}",
                hint="the runner sets GITHUB_API_URL (on GitHub Enterprise Server, https://HOST/api/v3): check it, "
                "and the runner's network and proxy; then run the job again",
                rule="github-unreachable",
            ) from None
        try:
            return (json.loads(text) if text else None), link
        except ValueError:
            raise _unexpected(f"GitHub answered {shown} with something that is not JSON") from None

    def call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        return self._send(method, self.url(path), body)[0]

    def pages(self, path: str) -> Iterator[Any]:
        """Every item of a list, following the `Link: rel="next"` pages on the API's own host."""
        url: str | None = self.url(path) + ("&" if "?" in path else "?") + "per_page=100"
        for _ in range(MAX_PAGES):
            if url is None:
                return
            items, link = self._send("GET", url, None)
            if not isinstance(items, list):
                raise _unexpected(f"GitHub answered GET {urlsplit(url).path} with something that is not a list")
            yield from items
            found = _NEXT.search(link)
            url = found.group(1) if found and _origin(found.group(1)) == _origin(self.base_url) else None
        if url is not None:  # what is looked for may be further on: never act as if it were not there
            raise GitHubError(
                f"GET {urlsplit(self.url(path)).path}: the list goes on past {MAX_PAGES} pages of 100",
                hint="delete or hide old comments of the pull request (or close old pricebook drift issues), then run "
                "the job again",
                rule="github-list-too-long",
            )


def _unexpected(message: str) -> GitHubError:
    return GitHubError(
        message,
        hint="check that GITHUB_API_URL is GitHub's REST API (the runner sets it) and that no proxy between answers "
        "in its place; then run the job again",
        rule="github-unexpected-answer",
    )


#: what to do about GitHub's refusal, by its status
_PERMISSIONS = (
    "check the job's `permissions:` (pull-requests: write to comment on a pull request, issues: write for the drift "
    "issue, contents: read) and that the action's github-token input is a token of this repository"
)
_RATE_LIMITED = (
    "the token's rate limit for GitHub's API is spent (see its x-ratelimit-reset header): run the job again later"
)
_AGAIN = "GitHub failed to answer: run the job again; if it keeps failing, GitHub's API has an outage"


def _refusal(shown: str, exc: HTTPError) -> GitHubError:
    try:
        message = str(json.loads(exc.read().decode("utf-8")).get("message", ""))
    except (ValueError, AttributeError, OSError):
        message = ""
    text = f"GitHub refused {shown}: {exc.code} {message or exc.reason}".rstrip()
    spent = exc.headers.get("x-ratelimit-remaining") == "0" if exc.headers is not None else False
    if exc.code == 429 or (exc.code == 403 and (spent or "rate limit" in message.lower())):
        hint = _RATE_LIMITED
    elif exc.code == 401:
        hint = (
            "GitHub does not take the token: the action's github-token input (its default, the job's github.token, "
            "works) is expired, revoked or not a token"
        )
    elif exc.code in (403, 404):
        hint = _PERMISSIONS
    elif exc.code >= 500:
        hint = _AGAIN
    else:
        hint = "GitHub's message says what it refused; if the request is pricebook's mistake, report it with the log"
    return GitHubError(text, hint=hint, rule="github-refused")
