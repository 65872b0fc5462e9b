"""The JSON Schema check: types, enums, lengths, bounds, patterns and unknown fields of each catalog file.

`validation` compiles the schema (jsonschema's validator and a fast path); `messages` turns jsonschema's errors
into diagnostics a person can act on.
"""

from compiler.catalog.schema.messages import RULE_IDS, check_document, check_document_paths
from compiler.catalog.schema.validation import (
    compile_fast,
    fast_validator,
    schema_document,
    schema_errors,
    schema_text,
    validator,
)

__all__ = [
    "RULE_IDS",
    "check_document",
    "check_document_paths",
    "compile_fast",
    "fast_validator",
    "schema_document",
    "schema_errors",
    "schema_text",
    "validator",
]
