"""How to tell a user that a connection failed (`connection-failed`): the address as it may be shown, why the
network library says it failed (not the SDK's "unexpected error communicating with Stripe"), and what to check
for that address. The gateway, which converts the SDK's errors, is the one user.
"""

from __future__ import annotations

import socket
import ssl
from urllib.parse import urlsplit, urlunsplit

_WHERE = "--api-base, STRIPE_API_BASE, and the environment's api_base in pricebook.toml"


def shown_base(base: str) -> str:
    """An API base as it may be shown: without a user or password in it, and without a trailing slash."""
    parts = urlsplit(base)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", "")).rstrip("/")


def network_reason(exc: BaseException) -> str | None:
    """Why a connection failed, in a few words (`connection refused`), from the innermost error of the network
    library that says so; None when none does."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        error = todo.pop(0)
        if id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, socket.gaierror):
            return f"the host name does not resolve ({error.strerror or error})"
        if isinstance(error, ssl.SSLError):
            return f"TLS failed ({error.strerror or getattr(error, 'reason', None) or error})"
        if isinstance(error, OSError) and error.strerror:
            return error.strerror[:1].lower() + error.strerror[1:]
        inner = [error.__cause__, error.__context__, getattr(error, "reason", None), *error.args]
        todo.extend(e for e in inner if isinstance(e, BaseException))
    return None


def connection_hint(base: str | None, loopback: bool) -> str:
    """What to check when nothing answers at `base` (None: Stripe's own address, as no API base is set)."""
    if base is None:
        return (
            f"{_WHERE} are unset, so pricebook talks to Stripe: check this machine's network, DNS and proxy "
            "(HTTPS_PROXY)"
        )
    if loopback:
        return f"is `pricebook emulator` running there (`pricebook emulator --port N`)? Otherwise correct {_WHERE}"
    return f"check {_WHERE}, and this machine's network, DNS and proxy (HTTPS_PROXY)"


__all__ = ["connection_hint", "network_reason", "shown_base"]
