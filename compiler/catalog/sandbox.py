"""Jinja2's sandbox with bounds on the work a template may do.

Jinja2's `SandboxedEnvironment` keeps a template from reaching Python's internals, but not from asking for any
amount of time or memory: `{{ 'a' * 1000000000 }}`, `{{ 10 ** 100000000 }}`, nested `range(100000)` loops or
`lipsum(n=10000000)` each run for seconds and take gigabytes. `BoundedEnvironment` stops each of them, with a
`TemplateLimit` naming the bound, at the template line that asked:

- time (`bounds.TEMPLATE_SECONDS`): the compiled template checks the clock at the start of every block it runs
  (each loop iteration, branch, macro body), and every call checks it too;
- size (`bounds.FILE_MB`, the size of a catalog file: a template's values and output are catalog text): every
  operation that can build a long string or list (`*`, `+`, `%`, `~`, the padding, joining and formatting
  filters and string methods, `lipsum`, printing a value) works out the size of what it would build before
  building it, and every call's and filter's result is measured after;
- integers (`bounds.TEMPLATE_DIGITS`): `*` and `**` work out the digits of their result before computing it;
- recursion (`bounds.TEMPLATE_CALL_DEPTH`): calls (macros, `loop(...)` in recursive loops) nested at once.
"""

from __future__ import annotations

import functools
import math
import re
import string
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import jinja2
import jinja2.compiler
import jinja2.nodes
import jinja2.sandbox
from jinja2.filters import make_attrgetter
from jinja2.utils import generate_lorem_ipsum

from compiler import bounds
from compiler.bounds import Bound

_LOG10_2 = math.log10(2)
#: characters a word of `lipsum` takes at most, with its space (the longest lorem ipsum word is 12 letters)
_LIPSUM_WORD = 14


class TemplateLimit(Exception):
    """A template went beyond one of pricebook's bounds; `rule` is the diagnostic's id, `bound` the bound."""

    def __init__(self, rule: str, message: str, bound: Bound, *, line: int = 0) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.bound = bound
        self.line = line  # where, when known otherwise than from the traceback


def digits(number: int) -> int:
    """The decimal digits of `number` (from its bits: exact or one too many, never too few)."""
    return max(1, math.ceil(abs(number).bit_length() * _LOG10_2))


def text_size(value: Any, limit: int) -> int:
    """About how many characters `str(value)` has (never fewer), counting only up to just past `limit`.

    Walks nested lists and mappings without recursion, so a list of a million long strings (each within the
    bound) is measured without printing it."""
    if type(value) is str:  # the common cases first: this runs for every value a template prints
        return len(value)
    if type(value) is int:
        return math.ceil(value.bit_length() * _LOG10_2) + 2
    total = 0
    stack: list[Any] = [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item) + 2  # the quotes `repr` adds inside a list
        elif isinstance(item, bool) or item is None:
            total += 5
        elif isinstance(item, int):
            total += digits(item) + 1
        elif isinstance(item, dict):
            total += 2 + 2 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += 2 + 2 * len(item)
            stack.extend(item)
        else:
            total += 24  # a number, a macro, a namespace, an undefined: short when printed
    return total


#: a printf-style conversion: `%(name)-08.3f`, with its width and precision (digits or `*`)
_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?([diouxXeEfFgGcrsa%])")


def _widths(spec: str) -> list[int]:
    """The widths and precisions written in a `str.format` spec (`>30`, `.2f`, `08,d`)."""
    return [int(n) for n in re.findall(r"\d+", spec)]


class Budget:
    """What one template may still do: its deadline, the size of any value, the digits of any integer, calls."""

    def __init__(self) -> None:
        self.deadline = time.monotonic() + bounds.TEMPLATE_SECONDS.value
        self.chars = bounds.file_bytes()
        self.digits = bounds.TEMPLATE_DIGITS.count
        self.max_depth = bounds.TEMPLATE_CALL_DEPTH.count
        self.depth = 0

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise TemplateLimit(
                "template-timeout",
                f"the template ran longer than {bounds.TEMPLATE_SECONDS.show()}",
                bounds.TEMPLATE_SECONDS,
            )

    def size(self, size: int, what: str, unit: str = "characters") -> None:
        """Refuses to build `what` of `size` characters (or items) when that is beyond the bound."""
        if size > self.chars:
            raise TemplateLimit(
                "template-too-large",
                f"the template would build {what} of {size:,} {unit}, more than a catalog file may hold "
                f"({bounds.FILE_MB.show()})",
                bounds.FILE_MB,
            )

    def text(self, value: Any, what: str) -> None:
        self.size(text_size(value, self.chars), what)

    def integer(self, count: int) -> None:
        """Refuses to compute an integer of `count` digits when that is beyond the bound."""
        if count > self.digits:
            raise TemplateLimit(
                "template-integer",
                f"the template would compute an integer of about {count:,} digits, more than "
                f"{bounds.TEMPLATE_DIGITS.show()}",
                bounds.TEMPLATE_DIGITS,
            )

    def result(self, value: Any, what: str) -> Any:
        """`value`, measured: a string, list or mapping beyond the size bound, or an integer beyond the digits."""
        if isinstance(value, str):
            self.size(len(value), what)
        elif isinstance(value, (list, tuple, dict, set, frozenset)):
            self.size(len(value), what, "items")
        elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
            self.integer(digits(value))
        return value

    def enter(self) -> None:
        self.depth += 1
        if self.depth > self.max_depth:
            raise TemplateLimit(
                "template-recursion",
                f"calls nest deeper than {bounds.TEMPLATE_CALL_DEPTH.show()} (a macro that calls itself without end?)",
                bounds.TEMPLATE_CALL_DEPTH,
            )

    # -- sizes worked out before building ------------------------------------------------------------------------

    def printf(self, template: str, values: Any) -> None:
        """`template % values`: its widths and precisions, and the values printed."""
        size = len(template) + text_size(values, self.chars)
        if not any(c in template for c in "123456789*"):  # no width or precision: the common case
            self.size(size, "a formatted string")
            return
        star = [v for v in (values if isinstance(values, tuple) else (values,)) if isinstance(v, int)]
        for width, precision, _ in _PRINTF.findall(template):
            for number in (width, precision):
                if number == "*":
                    size += max((abs(v) for v in star), default=0)
                elif number:
                    size += int(number)
        self.size(size, "a formatted string")

    def str_format(self, template: str, args: Iterable[Any], kwargs: Mapping[str, Any]) -> None:
        """`template.format(*args, **kwargs)`: the widths in its fields, and the values printed."""
        size = len(template) + text_size(list(args), self.chars) + text_size(dict(kwargs), self.chars)
        try:
            fields = list(string.Formatter().parse(template))
        except ValueError:
            fields = []  # str.format will say what is wrong
        for _, _, spec, _ in fields:
            if spec and "{" in spec:  # a width taken from the arguments
                size += sum(abs(v) for v in (*args, *kwargs.values()) if isinstance(v, int) and not isinstance(v, bool))
            size += sum(_widths(spec or ""))
        self.size(size, "a formatted string")

    def binop(self, operator: str, left: Any, right: Any) -> None:
        """The size of `left <operator> right`, before it is computed."""
        ints = isinstance(left, int) and isinstance(right, int)
        if operator == "**" and ints and right > 0 and abs(left) > 1:
            self.integer(math.ceil(right * math.log10(abs(left))))
        elif operator == "*" and ints:
            if left.bit_length() + right.bit_length() > 64:
                self.integer(digits(left) + digits(right))
        elif operator == "*":
            sequence, times = (left, right) if isinstance(right, int) else (right, left)
            if isinstance(sequence, (str, list, tuple)) and isinstance(times, int):
                self.size(len(sequence) * times, f"{_kind(sequence)} repeated {times:,} times", _unit(sequence))
        elif operator == "+" and isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
            self.size(len(left) + len(right), _kind(left), _unit(left))
        elif operator == "%" and isinstance(left, str):
            self.printf(left, right)


def _kind(value: object) -> str:
    return "a string" if isinstance(value, str) else "a list"


def _unit(value: object) -> str:
    return "characters" if isinstance(value, str) else "items"


class _CodeGenerator(jinja2.compiler.CodeGenerator):
    """The template compiled with a clock check at the start of every block, and `~` measuring its parts."""

    def blockvisit(self, nodes: Iterable[jinja2.nodes.Node], frame: jinja2.compiler.Frame) -> None:
        self.writeline("environment.budget.tick()")
        super().blockvisit(nodes, frame)

    def visit_Concat(self, node: jinja2.nodes.Concat, frame: jinja2.compiler.Frame) -> None:
        # Jinja2's own, with the parts measured before they are turned into strings and joined
        if frame.eval_ctx.volatile:
            func_name = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            func_name = "markup_join"
        else:
            func_name = "str_join"
        self.write(f"{func_name}(environment.concat_parts((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write(")))")


class BoundedEnvironment(jinja2.sandbox.SandboxedEnvironment):
    """A sandbox for one template: a new one for each template, since it carries that template's `Budget`."""

    code_generator_class = _CodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        self.budget = Budget()
        super().__init__(finalize=self._printed, **options)
        self.filters = {name: self._bounded_filter(name, f) for name, f in self.filters.items()}
        self.globals["lipsum"] = self._lipsum

    def concat_parts(self, parts: tuple[Any, ...]) -> tuple[Any, ...]:
        self.budget.size(sum(text_size(p, self.budget.chars) for p in parts), "a string joined with `~`")
        return parts

    def _printed(self, value: Any) -> Any:
        self.budget.text(value, "output")
        return value

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        self.budget.binop(operator, left, right)
        return self.budget.result(super().call_binop(context, operator, left, right), f"the result of `{operator}`")

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budget = __self.budget
        budget.tick()
        args = __self._before_call(__obj, args, kwargs)
        budget.enter()
        try:
            result = super().call(__context, __obj, *args, **kwargs)
        finally:
            budget.depth -= 1
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, (list, dict, set)):  # append, extend, update... grow their object
            budget.size(len(owner), "a list or mapping", "items")
        return budget.result(result, "a call's result")

    def _before_call(self, obj: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[Any, ...]:
        """The size of what a string method would build, worked out before it runs (the arguments, with an
        iterable to join made a list so that it can be measured)."""
        method = getattr(obj, "__wrapped__", obj)  # the sandbox wraps str.format
        owner = getattr(method, "__self__", None)
        if not isinstance(owner, str):
            return args
        name = getattr(method, "__name__", "")
        budget = self.budget
        if name in ("ljust", "rjust", "center", "zfill") and args and isinstance(args[0], int):
            budget.size(args[0], "a padded string")
        elif name == "expandtabs":
            size = args[0] if args else kwargs.get("tabsize", 8)
            if isinstance(size, int):
                budget.size(len(owner) + owner.count("\t") * size, "a string with tabs expanded")
        elif name == "join" and args:
            items = list(args[0])
            budget.size(text_size(items, budget.chars) + len(owner) * len(items), "a joined string")
            return (items, *args[1:])
        elif name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
            budget.size(_replaced_size(owner, args[0], args[1], args[2] if len(args) > 2 else -1), "a string")
        elif name in ("format", "format_map"):
            named = {k: v for k, v in kwargs.items() if not k.startswith("_")}
            if name == "format_map" and args and isinstance(args[0], Mapping):
                named = dict(args[0])
                args_seen: tuple[Any, ...] = ()
            else:
                args_seen = args
            budget.str_format(owner, args_seen, named)
        return args

    def _lipsum(self, n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
        self.budget.size(n * max * _LIPSUM_WORD, "lorem ipsum")
        return generate_lorem_ipsum(n, html, min, max)

    def _bounded_filter(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        check = _FILTER_CHECKS.get(name)
        budget = self.budget
        environment = self

        @functools.wraps(func)  # keeps Jinja2's mark of what the filter is passed first
        def bounded(*args: Any, **kwargs: Any) -> Any:
            if check is not None:
                args, kwargs = check(environment, func, args, kwargs)
            return budget.result(func(*args, **kwargs), f"the result of `|{name}`")

        return bounded


def _replaced_size(text: str, old: str, new: str, count: int | None) -> int:
    found = len(text) + 1 if not old else text.count(old)
    if count is not None and count >= 0:
        found = min(found, count)
    return len(text) + found * (len(new) - len(old))


# -- filters that could build far more than they are given: their sizes worked out before they run ----------------

#: (environment, the filter, its args, its kwargs) -> the args and kwargs to run it with
_Check = Callable[
    [BoundedEnvironment, Callable[..., Any], tuple[Any, ...], dict[str, Any]], tuple[tuple[Any, ...], dict[str, Any]]
]


def _argument(args: tuple[Any, ...], kwargs: Mapping[str, Any], index: int, name: str, default: Any) -> Any:
    """A filter's argument by position (after the value, and after what Jinja2 passes first) or name."""
    return args[index] if len(args) > index else kwargs.get(name, default)


def _skip(func: Callable[..., Any]) -> int:
    """How many arguments Jinja2 puts before the value (the context, eval context or environment)."""
    return 1 if getattr(func, "jinja_pass_arg", None) is not None else 0


def _check_center(env: BoundedEnvironment, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    width = _argument(args, kwargs, _skip(func) + 1, "width", 80)
    if isinstance(width, int):
        env.budget.size(width, "a centred string")
    return args, kwargs


def _check_indent(env: BoundedEnvironment, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    skip = _skip(func)
    text = str(args[skip]) if len(args) > skip else ""
    width = _argument(args, kwargs, skip + 1, "width", 4)
    indent = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
    env.budget.size(len(text) + (text.count("\n") + 1) * indent, "an indented string")
    return args, kwargs


def _check_format(env: BoundedEnvironment, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    skip = _skip(func)
    if len(args) > skip:
        env.budget.printf(str(args[skip]), kwargs or tuple(args[skip + 1 :]))
    return args, kwargs


def _check_wordwrap(env: BoundedEnvironment, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    skip = _skip(func)
    text = str(args[skip]) if len(args) > skip else ""
    wrap = _argument(args, kwargs, skip + 3, "wrapstring", None)
    env.budget.size(len(text) + (len(text) + 1) * len(str(wrap or "\n")), "a wrapped string")
    return args, kwargs


def _check_join(env: BoundedEnvironment, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    skip = _skip(func)
    if len(args) <= skip:
        return args, kwargs
    items = list(args[skip])
    attribute = _argument(args, kwargs, skip + 2, "attribute", None)
    if attribute is not None:
        items = [make_attrgetter(env, attribute)(item) for item in items]
    separator = _argument(args, kwargs, skip + 1, "d", "")
    size = text_size(items, env.budget.chars) + len(str(separator)) * len(items)
    env.budget.size(size, "a joined string")
    kwargs = {k: v for k, v in kwargs.items() if k != "attribute"}
    return (*args[:skip], items, *args[skip + 1 : skip + 2]), kwargs


def _check_replace(env: BoundedEnvironment, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    skip = _skip(func)
    if len(args) > skip:
        text = str(args[skip])
        old = str(_argument(args, kwargs, skip + 1, "old", ""))
        new = str(_argument(args, kwargs, skip + 2, "new", ""))
        count = _argument(args, kwargs, skip + 3, "count", None)
        env.budget.size(_replaced_size(text, old, new, count if isinstance(count, int) else None), "a string")
    return args, kwargs


def _check_count(keyword: str, what: str) -> _Check:
    """`batch(linecount)` and `slice(slices)`: that many items or lists, whatever the value holds."""

    def check(env: BoundedEnvironment, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        count = _argument(args, kwargs, _skip(func) + 1, keyword, 0)
        if isinstance(count, int):
            env.budget.size(count, what, "items")
        return args, kwargs

    return check


def _check_sum(env: BoundedEnvironment, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    skip = _skip(func)
    start = _argument(args, kwargs, skip + 2, "start", 0)
    if len(args) > skip and isinstance(start, (str, list, tuple)):  # adding up strings or lists
        items = list(args[skip])
        size = len(start) + sum(len(i) for i in items if isinstance(i, (str, list, tuple)))
        env.budget.size(size, "a sum of strings or lists", "characters or items")
        args = (*args[:skip], items, *args[skip + 1 :])
    return args, kwargs


def _check_printed(env: BoundedEnvironment, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    skip = _skip(func)
    if len(args) > skip:
        env.budget.text(args[skip], "a printed value")
    return args, kwargs


_FILTER_CHECKS: Mapping[str, _Check] = {
    "center": _check_center,
    "indent": _check_indent,
    "format": _check_format,
    "wordwrap": _check_wordwrap,
    "join": _check_join,
    "replace": _check_replace,
    "batch": _check_count("linecount", "batches (`|batch`)"),
    "slice": _check_count("slices", "slices (`|slice`)"),
    "sum": _check_sum,
    "string": _check_printed,
    "tojson": _check_printed,
    "pprint": _check_printed,
    "e": _check_printed,
    "escape": _check_printed,
    "forceescape": _check_printed,
    "urlencode": _check_printed,
    "xmlattr": _check_printed,
}


__all__ = ["BoundedEnvironment", "Budget", "TemplateLimit", "digits", "text_size"]
