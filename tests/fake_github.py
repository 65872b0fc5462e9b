"""A small stand-in for GitHub's REST API on 127.0.0.1, for the steps of pricebook's action: the comments of an issue
or pull request, the pull requests of a commit, and issues. It keeps what it is sent in memory, answers as GitHub
does (the fields pricebook reads, `Link` pages), refuses a request without the expected token, and records every
request. Lists come two items a page, so that reading them follows `Link: rel="next"`.

    with serve_github(token="t") as github:   # started on a free port, stopped on exit
        github.url, github.comments[7], github.issues, github.requests
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

REPOSITORY = "acme/billing"
PAGE_SIZE = 2


@dataclass(frozen=True)
class Seen:
    method: str
    path: str  # without the query
    query: dict[str, list[str]]
    body: Any
    authorization: str


@dataclass
class FakeGitHub:
    token: str
    url: str = ""
    #: issue or pull request number -> its comments, oldest first
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    #: issue number -> the issue (pull requests too, with a `pull_request` key, as GitHub lists them)
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: commit sha -> the pull requests GitHub associates with it
    pulls_of_commit: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    _next_id: int = 1000
    lock: threading.Lock = field(default_factory=threading.Lock)

    def html(self, path: str) -> str:
        return f"https://github.example/{REPOSITORY}/{path}"

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def comment(self, number: int, body: str, login: str = "someone") -> dict[str, Any]:
        """A comment made by someone on issue or pull request `number`."""
        made = {"id": self.new_id(), "body": body, "user": {"login": login}}
        made["html_url"] = self.html(f"issues/{number}#issuecomment-{made['id']}")
        self.comments.setdefault(number, []).append(made)
        return made

    def writes(self) -> list[Seen]:
        return [seen for seen in self.requests if seen.method != "GET"]


_ROUTES = [
    ("GET", re.compile(r"issues/(\d+)/comments"), "list_comments"),
    ("POST", re.compile(r"issues/(\d+)/comments"), "add_comment"),
    ("PATCH", re.compile(r"issues/comments/(\d+)"), "edit_comment"),
    ("GET", re.compile(r"commits/([0-9a-f]+)/pulls"), "commit_pulls"),
    ("GET", re.compile(r"issues"), "list_issues"),
    ("POST", re.compile(r"issues"), "add_issue"),
    ("PATCH", re.compile(r"issues/(\d+)"), "edit_issue"),
]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # keep the test output clean
        pass

    def _answer(self, status: int, payload: Any, link: str = "") -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if link:
            self.send_header("Link", link)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        github = self.server.github
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        query = parse_qs(parts.query)
        with github.lock:
            github.requests.append(Seen(method, parts.path, query, body, self.headers.get("Authorization", "")))
        if self.headers.get("Authorization") != f"Bearer {github.token}":
            self._answer(401, {"message": "Bad credentials"})
            return
        prefix = f"/repos/{REPOSITORY}/"
        if not parts.path.startswith(prefix):
            self._answer(404, {"message": "Not Found"})
            return
        rest = parts.path[len(prefix) :]
        for verb, pattern, name in _ROUTES:
            found = pattern.fullmatch(rest)
            if verb == method and found:
                with github.lock:
                    getattr(self, name)(github, query, body, *found.groups())
                return
        self._answer(404, {"message": "Not Found"})

    def _page(self, items: list[dict[str, Any]], query: dict[str, list[str]]) -> None:
        page = int(query.get("page", ["1"])[0])
        start = (page - 1) * PAGE_SIZE
        link = ""
        if start + PAGE_SIZE < len(items):
            rest = "&".join(f"{k}={v[0]}" for k, v in query.items() if k != "page")
            link = f'<{self.server.github.url}{urlsplit(self.path).path}?{rest}&page={page + 1}>; rel="next"'
        self._answer(200, items[start : start + PAGE_SIZE], link)

    def list_comments(self, github: FakeGitHub, query: Any, body: Any, number: str) -> None:
        self._page(github.comments.get(int(number), []), query)

    def add_comment(self, github: FakeGitHub, query: Any, body: Any, number: str) -> None:
        made = github.comment(int(number), body["body"], login="github-actions[bot]")
        self._answer(201, made)

    def edit_comment(self, github: FakeGitHub, query: Any, body: Any, comment_id: str) -> None:
        for comments in github.comments.values():
            for comment in comments:
                if comment["id"] == int(comment_id):
                    comment["body"] = body["body"]
                    self._answer(200, comment)
                    return
        self._answer(404, {"message": "Not Found"})

    def commit_pulls(self, github: FakeGitHub, query: Any, body: Any, sha: str) -> None:
        self._answer(200, github.pulls_of_commit.get(sha, []))

    def list_issues(self, github: FakeGitHub, query: Any, body: Any) -> None:
        state = query.get("state", ["open"])[0]
        found = [issue for issue in github.issues.values() if state == "all" or issue["state"] == state]
        self._page(sorted(found, key=lambda issue: -int(issue["number"])), query)

    def add_issue(self, github: FakeGitHub, query: Any, body: Any) -> None:
        number = max(github.issues, default=0) + 1
        issue = {"number": number, "title": body["title"], "body": body["body"], "state": "open"}
        issue["html_url"] = github.html(f"issues/{number}")
        github.issues[number] = issue
        self._answer(201, issue)

    def edit_issue(self, github: FakeGitHub, query: Any, body: Any, number: str) -> None:
        issue = github.issues.get(int(number))
        if issue is None:
            self._answer(404, {"message": "Not Found"})
            return
        issue.update({key: body[key] for key in ("title", "body", "state") if key in body})
        self._answer(200, issue)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, github: FakeGitHub) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.github = github


@contextmanager
def serve_github(token: str) -> Iterator[FakeGitHub]:
    github = FakeGitHub(token)
    server = _Server(github)
    github.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield github
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
