"""Stripe's form encoding: `tiers[0][up_to]=inf`, `expand[]=data.tiers`, `metadata[plan]=pro`.

Decoding keeps every scalar a string and every bracketed key a nested mapping; `key[]` appends to a list.
Indexed arrays (`tiers[0]`) stay mappings keyed "0", "1", ...: the params checker turns them into lists
where the SDK's params say a list is expected, so a metadata key "0" is never mistaken for an index.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl


class FormError(ValueError):
    """A body or query string Stripe could not parse (a key used both as a value and as a hash)."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


def split_key(key: str) -> list[str]:
    """`tiers[0][up_to]` -> ["tiers", "0", "up_to"]; `expand[]` -> ["expand", ""]."""
    head, sep, rest = key.partition("[")
    if not sep:
        return [key]
    parts = [head]
    for piece in ("[" + rest).split("[")[1:]:
        parts.append(piece[:-1] if piece.endswith("]") else piece)
    return parts


def decode(text: str) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        _insert(root, split_key(key), value, key)
    return root


def _insert(node: dict[str, Any], parts: list[str], value: str, key: str) -> None:
    name = parts[0]
    if len(parts) == 1:
        node[name] = value
        return
    if parts[1] == "" and len(parts) == 2:
        current = node.setdefault(name, [])
        if not isinstance(current, list):
            raise FormError(f"Invalid array: {key}", name)
        current.append(value)
        return
    child = node.setdefault(name, {})
    if not isinstance(child, dict):
        raise FormError(f"Invalid hash: {key}", name)
    _insert(child, parts[1:], value, key)
