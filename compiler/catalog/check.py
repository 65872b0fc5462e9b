"""The offline pipeline every command starts with: files -> YAML reader -> floats where amounts go -> schema ->
rules.

Objects with schema errors (or a reading error, or a float amount) are left out of the rules, so the rules see
well-typed data; a reference to such an object (a price naming a product that has a typo in a field) is then not
reported as unknown as well.

Except where a rule explains a schema error better (`Rule.covers`: "move interval under recurring:" rather
than "unknown field `interval`"): an object whose only schema errors are such errors goes through the rules,
and each of those errors is shown only if none of the rules that explain it reported at that object. So a
schema error is never lost: it is either said better by a rule at the same object, or said by the schema.

The `adopt:` sections (the record of what the catalog takes over in each account) are read after the schema and
checked against the entries (`adoptions.check_records`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from compiler import bounds
from compiler.catalog import adoptions, files, money_floats, yaml_reader
from compiler.catalog.adoptions import AdoptionRecord, check_records, read_records
from compiler.catalog.files import (
    NO_PRESET,
    PresetVariables,
    find_files,
    load_files,
    template_variables,
    unused_var_options,
)
from compiler.catalog.rules import check_entries, covering_rules
from compiler.catalog.schema import check_document_paths
from compiler.catalog.source import Document, Entry, NodePath, iter_entries
from compiler.errors import Diagnostic, InvalidCatalog, Location, has_errors, sort_diagnostics
from compiler.heap import collector_paused
from compiler.stripe.kinds import Kind

#: every rule id reported before the schema: finding and reading the files, the YAML, floats where amounts go
#: (id -> what it checks; "(warning)" at the end marks a warning)
READING_RULE_IDS: Mapping[str, str] = {
    **files.RULE_IDS,
    **yaml_reader.RULE_IDS,
    **money_floats.RULE_IDS,
    "too-many-problems": "the check found more schema problems than PRICEBOOK_MAX_PROBLEMS and stopped",
}
#: the rule ids of the `adopt:` record's checks (id -> what it checks)
ADOPTION_RULE_IDS: Mapping[str, str] = adoptions.RULE_IDS


@dataclass(frozen=True)
class CheckResult:
    """What the offline check found: the documents, the entries fit for the rules and the model, all problems."""

    documents: tuple[Document, ...] = ()
    entries: tuple[Entry, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    files: int = 0
    #: the entries unfit for the model: the schema rejected them (most were kept from the rules, too)
    rejected: tuple[Entry, ...] = field(default=(), repr=False)
    #: the items of the `adopt:` sections the schema found no error in, in file order
    adoptions: tuple[AdoptionRecord, ...] = ()

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.is_error]

    def raise_for_errors(self) -> None:
        """For the commands after validate: an invalid catalog stops them with its diagnostics."""
        if not self.ok:
            raise InvalidCatalog(list(self.diagnostics))


def _owner(path: NodePath, owners: Mapping[NodePath, Entry]) -> Entry | None:
    """The innermost entry that contains `path` (a nested price before its product)."""
    for size in (4, 2):
        if len(path) >= size and path[:size] in owners:
            return owners[path[:size]]
    return None


def _rejected_paths(
    doc: Document, entries: Sequence[Entry], schema_paths: Sequence[NodePath], reading_errors: Sequence[Diagnostic]
) -> set[NodePath]:
    """The paths of the entries that have a schema error or a reading error inside them."""
    owners = {entry.path: entry for entry in entries}
    bad: set[NodePath] = set()
    for path in schema_paths:
        owner = _owner(path, owners)
        if owner is not None:
            bad.add(owner.path)
    if reading_errors:
        # Reading problems carry only a place: find the nodes at those places.
        places = {d.location for d in reading_errors}
        for table in (doc.positions, doc.key_positions):
            for path, location in table.items():
                owner = _owner(path, owners) if location in places else None
                if owner is not None:
                    bad.add(owner.path)
    return bad


#: the reader's errors about a value it then reads as null (a legacy octal, a tag, a tagged value that is not one)
_NULLED_BY_READER = frozenset({"yaml-octal", "yaml-tag", "yaml-value"})

#: rules that report a reference to an identity the catalog lacks, and where the reference sits
_REFERENCE_RULES: Mapping[str, Kind] = {
    "unknown-product": Kind.PRODUCT,
    "unknown-meter": Kind.METER,
    "unknown-default-price": Kind.PRICE,
}


def _reference_places(entries: Sequence[Entry], kind: Kind, names: set[str]) -> set[Location]:
    """Where the entries refer to an object of `kind` whose identity is in `names`."""
    places: set[Location] = set()
    for entry in entries:
        data = entry.data
        if kind is Kind.PRODUCT and data.get("product") in names:
            places.add(entry.where("product"))
        elif kind is Kind.METER:
            if data.get("meter") in names:
                places.add(entry.where("meter"))
            recurring = data.get("recurring")
            if isinstance(recurring, dict) and recurring.get("meter") in names:
                places.add(entry.where("recurring", "meter"))
        elif kind is Kind.PRICE and data.get("default_price") in names:
            places.add(entry.where("default_price"))
    return places


def _without_echoes(
    diagnostics: list[Diagnostic], passed: Sequence[Entry], rejected: Sequence[Entry]
) -> list[Diagnostic]:
    """Drops "unknown X" findings whose X exists but was left out of the rules for its schema errors."""
    if not rejected:
        return diagnostics
    hidden: set[tuple[str, Location]] = set()
    for rule, kind in _REFERENCE_RULES.items():
        names = {e.identity for e in rejected if e.kind is kind and e.identity is not None}
        if names:
            hidden.update((rule, place) for place in _reference_places(passed, kind, names))
    return [d for d in diagnostics if (d.rule, d.location) not in hidden]


def check_documents(
    documents: Sequence[Document], diagnostics: Sequence[Diagnostic] = (), *, files: int | None = None
) -> CheckResult:
    """The float amounts, the schema and the rules over read documents (`diagnostics` are the files' and the
    reader's; `files` how many were read).

    Once the schema has found `bounds.PROBLEMS_FOUND` problems the check stops, as a compiler does after too many
    errors: finding (and printing) a million times "must be a mapping" helps nobody, and takes minutes."""
    found: list[Diagnostic] = list(diagnostics)
    room = bounds.PROBLEMS_FOUND.count
    candidates: list[Entry] = []  # what the rules see
    rejected: list[Entry] = []  # kept from the rules
    #: schema errors a rule may say better: (the entry, the schema's diagnostic, the rules that explain it)
    deferred: list[tuple[Entry, Diagnostic, frozenset[str]]] = []
    records: list[AdoptionRecord] = []
    reading_errors: dict[str, list[Diagnostic]] = {}
    for d in diagnostics:
        if d.is_error:
            reading_errors.setdefault(d.location.file, []).append(d)
    for doc in documents:
        floats = list(money_floats.money_floats(doc))
        found.extend(floats)
        reading_errors.setdefault(doc.file, []).extend(floats)
        entries = list(iter_entries(doc))
        owners = {entry.path: entry for entry in entries}
        hard: list[NodePath] = []
        # a value the reader refused reads as null: what the schema says of the null there is an echo
        refused = {d.location for d in reading_errors.get(doc.file, []) if d.rule in _NULLED_BY_READER}
        for path, diagnostic in check_document_paths(doc):
            if len(found) + len(deferred) >= room:
                return _stopped(documents, found, diagnostic.location.file, files)
            if diagnostic.location in refused:
                hard.append(path)
                continue
            owner = _owner(path, owners)
            rules = covering_rules(owner, diagnostic.rule, path[len(owner.path) :]) if owner else frozenset()
            if owner is not None and rules:
                deferred.append((owner, diagnostic, rules))
            else:
                found.append(diagnostic)
                hard.append(path)
        records.extend(read_records(doc, adoptions.rejected_paths(hard)))
        bad = _rejected_paths(doc, entries, hard, reading_errors.get(doc.file, []))
        candidates.extend(e for e in entries if e.path not in bad)
        rejected.extend(e for e in entries if e.path in bad)
    report = check_entries(candidates)
    kept_out = {(e.doc.file, e.path) for e in rejected}
    unfit: set[tuple[str, NodePath]] = set()  # entries the rules saw that keep a schema error
    for owner, diagnostic, rules in deferred:
        place = (owner.doc.file, owner.path)
        if place not in kept_out and any((rule, *place) in report.reported for rule in rules):
            continue  # a rule said it at this entry, better
        found.append(diagnostic)
        unfit.add(place)
    found.extend(_without_echoes(report.diagnostics, candidates, rejected))
    found.extend(check_records(records, [*candidates, *rejected]))
    return CheckResult(
        documents=tuple(documents),
        entries=tuple(e for e in candidates if (e.doc.file, e.path) not in unfit),
        diagnostics=tuple(sort_diagnostics(found)),
        files=len(documents) if files is None else files,
        rejected=(*rejected, *(e for e in candidates if (e.doc.file, e.path) in unfit)),
        adoptions=tuple(records),
    )


def _stopped(documents: Sequence[Document], found: list[Diagnostic], file: str, files: int | None) -> CheckResult:
    """The result of a check that stopped at `bounds.PROBLEMS_FOUND` problems (in `file`): what it found, and why
    it found no more."""
    stop = Diagnostic(
        Location(file),
        "too-many-problems",
        f"checking stopped after {bounds.PROBLEMS_FOUND.show()}: fix these and run it again",
        bounds.PROBLEMS_FOUND.hint(),
    )
    return CheckResult(
        documents=tuple(documents),
        diagnostics=tuple(sort_diagnostics([*found, stop])),
        files=len(documents) if files is None else files,
    )


#: called with the documents as soon as they are loaded, before the schema and the rules run
OnLoaded = Callable[[Sequence[Document]], None]


def check_catalog(
    paths: Sequence[str], variables: Mapping[str, object] | None = None, *, on_loaded: OnLoaded | None = None
) -> CheckResult:
    """Load every catalog file below `paths` and check it offline."""
    files, problems = find_files(paths)
    with collector_paused():  # the whole check makes many small acyclic objects: see compiler.heap
        documents, diagnostics = load_files(files, variables or {})
        if on_loaded is not None:
            on_loaded(documents)
        return check_documents(documents, [*problems, *diagnostics], files=len(files))


def check_with_options(
    paths: Sequence[str],
    var: Sequence[str],
    vars_file: str | None,
    preset: PresetVariables = NO_PRESET,
    *,
    on_loaded: OnLoaded | None = None,
) -> CheckResult:
    """`check_catalog` with the command line's `--var NAME=VALUE` and `--vars FILE` over the `preset` variables
    (an environment's), problems as diagnostics."""
    variables, problems = template_variables(var, vars_file, preset)
    if any(p.is_error for p in problems):
        return CheckResult(diagnostics=tuple(sort_diagnostics(problems)))
    result = check_catalog(paths, variables, on_loaded=on_loaded)
    if var:
        problems = [*problems, *unused_var_options(var, find_files(paths)[0])]
    if problems:
        return CheckResult(
            documents=result.documents,
            entries=result.entries,
            diagnostics=tuple(sort_diagnostics([*result.diagnostics, *problems])),
            files=result.files,
            rejected=result.rejected,
            adoptions=result.adoptions,
        )
    return result


__all__ = ["ADOPTION_RULE_IDS", "CheckResult", "check_catalog", "check_documents", "check_with_options"]
