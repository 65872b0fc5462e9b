"""compiler.github against a stand-in for GitHub's API on 127.0.0.1 (tests/fake_github.py): the sticky comment found
by its marker across pages and updated in place, the merged pull request of a commit, the drift issue opened,
updated and closed, and GitHub's refusals said with the permission to check and without the token."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import pytest

from compiler.errors import GitHubError
from compiler.github.rest import GitHubApi
from compiler.github.sticky import close_issue, marked_comment, merged_pull_request, upsert_comment, upsert_issue
from tests.fake_github import REPOSITORY, FakeGitHub, serve_github
from tests.hostile import Answer, Request, as_json, hostile_server

TOKEN = "ghs_fakeTOKEN0123456789"
MARKER = "<!-- pricebook-plan environment=test -->"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with serve_github(TOKEN) as served:
        yield served


def api(github: FakeGitHub, token: str = TOKEN) -> GitHubApi:
    return GitHubApi(github.url, token, REPOSITORY)


def test_the_comment_is_found_by_its_marker_on_a_later_page_and_updated(github: FakeGitHub) -> None:
    for n in range(5):
        github.comment(7, f"LGTM {n}")
    github.comment(7, f"a reviewer quoting it inline: {MARKER} is not the plan")
    github.comment(7, "<!-- pricebook-plan environment=live -->\nthe live plan")
    created = upsert_comment(api(github), 7, f"plan one\n\n{MARKER}\n", MARKER)
    assert created.created and created.url.endswith(f"#issuecomment-{github.comments[7][-1]['id']}")
    updated = upsert_comment(api(github), 7, f"plan two\n\n{MARKER}\n", MARKER)
    assert not updated.created and updated.url == created.url
    bodies = [comment["body"] for comment in github.comments[7]]
    assert bodies.count(f"plan two\n\n{MARKER}\n") == 1 and f"plan one\n\n{MARKER}\n" not in bodies
    assert len(bodies) == 8  # nothing else added or changed
    assert bodies[-2] == "<!-- pricebook-plan environment=live -->\nthe live plan"
    pages = [seen.query.get("page", ["1"])[0] for seen in github.requests if seen.path.endswith("/issues/7/comments")]
    assert "4" in pages  # the marker was looked for past the first pages
    assert all(seen.authorization == f"Bearer {TOKEN}" for seen in github.requests)


def test_the_merged_pull_request_of_a_commit(github: FakeGitHub) -> None:
    sha = "ab" * 20
    github.pulls_of_commit[sha] = [
        {"number": 3, "merged_at": None, "merge_commit_sha": None},
        {"number": 4, "merged_at": "2026-01-02T00:00:00Z", "merge_commit_sha": "cd" * 20},
        {"number": 5, "merged_at": "2026-01-03T00:00:00Z", "merge_commit_sha": sha},
    ]
    pull = merged_pull_request(api(github), sha)
    assert pull is not None and pull["number"] == 5
    github.pulls_of_commit[sha] = [{"number": 3, "merged_at": None, "merge_commit_sha": None}]
    assert merged_pull_request(api(github), sha) is None
    github.comment(5, f"the plan\n{MARKER}")
    found = marked_comment(api(github), 5, MARKER)
    assert found is not None and found["body"] == f"the plan\n{MARKER}"


def test_the_drift_issue_is_opened_updated_and_closed(github: FakeGitHub) -> None:
    marker = "<!-- pricebook-drift environment=test -->"
    github.issues[1] = {"number": 1, "title": "a pull request", "body": marker, "state": "open", "pull_request": {}}
    github.issues[2] = {"number": 2, "title": "old drift", "body": f"x\n{marker}", "state": "closed"}
    assert close_issue(api(github), marker, "fine now") is None  # nothing open: nothing to close
    opened = upsert_issue(api(github), marker, "drift", f"one\n{marker}")
    assert opened.created and opened.number == 3
    again = upsert_issue(api(github), marker, "drift, still", f"two\n{marker}")
    assert not again.created and again.number == 3
    assert github.issues[3]["body"] == f"two\n{marker}" and github.issues[3]["title"] == "drift, still"
    closed = close_issue(api(github), marker, "the account matches again")
    assert closed is not None and closed.number == 3
    assert github.issues[3]["state"] == "closed" and github.comments[3][-1]["body"] == "the account matches again"
    assert github.issues[1]["state"] == "open" and github.issues[2]["state"] == "closed"  # untouched


def test_a_refusal_names_the_token_input_and_never_the_token(github: FakeGitHub) -> None:
    with pytest.raises(GitHubError) as refused:
        upsert_comment(api(github, token="ghs_wrongTOKEN"), 7, "x", MARKER)
    assert "GitHub refused GET /repos/acme/billing/issues/7/comments: 401 Bad credentials" in refused.value.message
    assert refused.value.hint is not None and "github-token input" in refused.value.hint
    assert "ghs_wrongTOKEN" not in f"{refused.value.message} {refused.value.hint}"


def test_an_unreachable_api_is_an_error() -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    with pytest.raises(GitHubError, match=re.escape("cannot reach GitHub's API at http://127.0.0.1")) as unreachable:
        GitHubApi(f"http://127.0.0.1:{port}", TOKEN, REPOSITORY).call("GET", "issues")
    assert unreachable.value.rule == "github-unreachable"
    assert unreachable.value.hint is not None and "GITHUB_API_URL" in unreachable.value.hint


@pytest.mark.parametrize(
    ("status", "message", "headers", "hinted"),
    [
        (401, "Bad credentials", {}, "github-token input"),
        (403, "Resource not accessible by integration", {}, "pull-requests: write"),
        (404, "Not Found", {}, "pull-requests: write"),
        (403, "API rate limit exceeded for installation", {"x-ratelimit-remaining": "0"}, "rate limit"),
        (429, "Too many requests", {}, "rate limit"),
        (422, "Validation Failed", {}, "GitHub's message says what it refused"),
        (502, "Server Error", {}, "run the job again"),
    ],
)
def test_each_refusal_has_the_rule_id_and_the_hint_of_its_status(
    status: int, message: str, headers: dict[str, str], hinted: str
) -> None:
    def refuse(request: Request) -> Answer:
        answer = as_json({"message": message}, status)
        return Answer(answer.status, answer.body, {**answer.headers, **headers})

    with hostile_server(refuse) as base, pytest.raises(GitHubError) as refused:
        GitHubApi(base, TOKEN, REPOSITORY).call("GET", "commits/abc/pulls")
    assert refused.value.rule == "github-refused"
    assert refused.value.message == f"GitHub refused GET /repos/acme/billing/commits/abc/pulls: {status} {message}"
    assert refused.value.hint is not None and hinted in refused.value.hint
    assert TOKEN not in f"{refused.value.message} {refused.value.hint}"


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (Answer(200, b"<html>sign in to the proxy</html>", {"Content-Type": "text/html"}), "not JSON"),
        (as_json({"message": "a list, not"}), "not a list"),
    ],
)
def test_an_answer_github_never_gives_is_said_so(answer: Answer, said: str) -> None:
    with hostile_server(lambda request: answer) as base, pytest.raises(GitHubError, match=said) as odd:
        list(GitHubApi(base, TOKEN, REPOSITORY).pages("issues/7/comments"))
    assert odd.value.rule == "github-unexpected-answer"
    assert odd.value.hint is not None and "GITHUB_API_URL" in odd.value.hint
