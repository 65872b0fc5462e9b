"""Comments and issues a workflow keeps up to date in place, found by a hidden marker (an HTML comment in the
body that the workflow wrote there): one plan comment per pull request and environment, updated on every push;
one open drift issue per environment, updated while the drift lasts and closed when it ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from compiler.github.rest import GitHubApi


@dataclass(frozen=True)
class Posted:
    """A comment or issue written: its page, its number (issues), and whether it is new."""

    url: str
    created: bool
    number: int | None = None


def find_marked(items: Iterable[Any], marker: str) -> Mapping[str, Any] | None:
    """The first comment or issue whose body holds `marker` on a line of its own."""
    for item in items:
        body = item.get("body") if isinstance(item, Mapping) else None
        if isinstance(body, str) and marker in (line.strip() for line in body.splitlines()):
            found: Mapping[str, Any] = item
            return found
    return None


def upsert_comment(api: GitHubApi, number: int, body: str, marker: str) -> Posted:
    """Update the comment of issue or pull request `number` that holds `marker`, or add one."""
    found = find_marked(api.pages(f"issues/{number}/comments"), marker)
    if found is not None:
        updated = api.call("PATCH", f"issues/comments/{found['id']}", {"body": body})
        return Posted(str(updated.get("html_url", "")), created=False)
    created = api.call("POST", f"issues/{number}/comments", {"body": body})
    return Posted(str(created.get("html_url", "")), created=True)


def marked_comment(api: GitHubApi, number: int, marker: str) -> Mapping[str, Any] | None:
    return find_marked(api.pages(f"issues/{number}/comments"), marker)


def merged_pull_request(api: GitHubApi, sha: str) -> Mapping[str, Any] | None:
    """The merged pull request that brought commit `sha` (its merge, squash or rebased commit), if any."""
    merged = [
        pull
        for pull in api.call("GET", f"commits/{sha}/pulls") or []
        if isinstance(pull, Mapping) and pull.get("merged_at")
    ]
    for pull in merged:
        if pull.get("merge_commit_sha") == sha:
            return pull
    return merged[0] if merged else None


def open_issue(api: GitHubApi, marker: str) -> Mapping[str, Any] | None:
    """The open issue (not a pull request) whose body holds `marker`."""
    issues = (item for item in api.pages("issues?state=open") if "pull_request" not in item)
    return find_marked(issues, marker)


def upsert_issue(api: GitHubApi, marker: str, title: str, body: str) -> Posted:
    """Update the open issue that holds `marker`, or open one."""
    found = open_issue(api, marker)
    if found is not None:
        updated = api.call("PATCH", f"issues/{found['number']}", {"title": title, "body": body})
        return Posted(str(updated.get("html_url", "")), created=False, number=int(found["number"]))
    created = api.call("POST", "issues", {"title": title, "body": body})
    return Posted(str(created.get("html_url", "")), created=True, number=int(created["number"]))


def close_issue(api: GitHubApi, marker: str, comment: str) -> Posted | None:
    """Close the open issue that holds `marker`, saying why; None when there is none."""
    found = open_issue(api, marker)
    if found is None:
        return None
    api.call("POST", f"issues/{found['number']}/comments", {"body": comment})
    closed = api.call("PATCH", f"issues/{found['number']}", {"state": "closed", "state_reason": "completed"})
    return Posted(str(closed.get("html_url", "")), created=False, number=int(found["number"]))
