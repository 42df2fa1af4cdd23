"""PyYAML's syntax errors in plain words, at the place the author should look.

Owns one job: a ``yaml.MarkedYAMLError`` → what is wrong, what to do, and where (1-based line
and column). PyYAML speaks of its tokens (``expected <block end>, but found '?'``); an author
thinks in keys, list items, quotes and brackets, so each common problem text is matched by a
table of patterns and said that way. Anything else keeps PyYAML's words with a general hint.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import yaml  # type: ignore[import-untyped]

__all__ = ["SyntaxProblem", "explain_syntax"]


@dataclass(frozen=True, slots=True)
class SyntaxProblem:
    """A YAML syntax error as an author reads it.

    Attributes:
        problem: what is wrong, in plain words.
        hint: what to do.
        line: 1-based line, or None when PyYAML gave no place.
        column: 1-based column, or None.
    """

    problem: str
    hint: str
    line: int | None
    column: int | None


# (problem text pattern, context words or "", at the start (context) mark?, explanation);
# an explanation gets the match and the line number, and returns (problem, hint)
_Explain = Callable[[re.Match[str], int], tuple[str, str]]
_LIST_KEY = ("a key here is not in line with the list items above it",
             "check the indentation of line {n}: a key of the last item lines up with that "
             "item's first key, after its '- '; a key after the list lines up with the key "
             "that holds the list")
_RULES: list[tuple[str, str, bool, _Explain]] = [
    (r"expected <block end>, but found '\?'", "block collection", False,
     lambda m, n: (_LIST_KEY[0], _LIST_KEY[1].format(n=n))),
    (r"expected <block end>, but found '<block mapping start>'", "block collection", False,
     lambda m, n: (_LIST_KEY[0], _LIST_KEY[1].format(n=n))),
    (r"expected <block end>, but found '(\?|<block mapping start>)'", "", False,
     lambda m, n: ("a key here is not in line with the keys above it",
                   f"check the indentation of line {n}: the keys of one mapping start at the "
                   "same column")),
    (r"expected <block end>, but found '-'", "", False,
     lambda m, n: ("a list item ('- ') here, among keys",
                   f"check the indentation of line {n}: indent it under the key that holds "
                   "the list, or line it up with the other '- ' items")),
    (r"expected <block end>, but found '<block sequence start>'", "", False,
     lambda m, n: ("a list here is not in line with the lines above it",
                   f"check the indentation of line {n}: every '- ' of one list starts at the "
                   "same column")),
    (r"expected <block end>, but found '<scalar>'", "", False,
     lambda m, n: ("more text after a complete value",
                   "a value that goes on after a closing quote or bracket needs quotes around "
                   f"all of it; else check the indentation of line {n}")),
    (r"expected <block end>, but found", "", False,
     lambda m, n: ("this does not fit the indentation of the lines above it",
                   f"check the indentation of line {n}")),
    (r"mapping values are not allowed here", "", False,
     lambda m, n: ("a ':' here that cannot start a value",
                   "put a value that contains ': ' in quotes, or fix the indentation: a key "
                   "lines up with the keys above it")),
    (r"sequence entries are not allowed here", "", False,
     lambda m, n: ("a list item ('- ') cannot start on the same line as its key",
                   "put the item on the next line, indented under the key, or quote the "
                   "value if the '-' is text")),
    (r"could not find expected ':'", "simple key", True,
     lambda m, n: ("this line has no ':' after its key",
                   "write 'key: value'; text that continues the value above is indented "
                   "under its key")),
    (r"found unknown escape character '(.+)'", "", False,
     lambda m, n: (f"'\\{m[1]}' is not an escape YAML knows inside double quotes",
                   f"use single quotes, where a backslash is plain text: '\\{m[1]}'; or "
                   f"double the backslash: \"\\\\{m[1]}\"")),
    (r"found unexpected end of stream", "quoted scalar", True,
     lambda m, n: ("this quote is never closed",
                   "end the value with the same quote; a ' inside single quotes is written "
                   "''")),
    (r"found character '(.)' that cannot start any token", "", False,
     lambda m, n: (f"a value cannot start with '{m[1]}'",
                   "put the value in quotes")),
    (r"expected ',' or '([\]}])', but got '<stream end>'", "", True,
     lambda m, n: (f"this '{'[' if m[1] == ']' else '{'}' is never closed",
                   f"close it with '{m[1]}', or put the value in quotes if it is text")),
    (r"expected ',' or '([\]}])', but got", "", False,
     lambda m, n: (f"inside {'[ ]' if m[1] == ']' else '{ }'} the entries are separated by "
                   "commas",
                   f"add a ',' before this or close with '{m[1]}'; quote a value that holds "
                   "', ' or ': '")),
    (r"found '<stream end>'", "", False,
     lambda m, n: ("the file ends in the middle of a value",
                   "close every '[' with ']', every '{' with '}' and every quote")),
    (r"found undefined alias '(.+)'", "", False,
     lambda m, n: (f"'*{m[1]}' uses an anchor '&{m[1]}' that is not defined above it",
                   "define the anchor with '&name' before using '*name'")),
    (r"expected '<document start>'", "", False,
     lambda m, n: ("more after the end of the document",
                   "the file is one document: remove the '...' or '%' line above")),
]


def explain_syntax(exc: yaml.MarkedYAMLError) -> SyntaxProblem:
    """Say a PyYAML syntax error plainly, located where the author should look.

    Args:
        exc: what ``yaml.SafeLoader`` raised while scanning, parsing or composing.

    Returns:
        The problem, a hint and its place: usually where PyYAML stopped; for a quote or a
        bracket that is never closed, and a key without ':', where it was opened.
    """
    problem = exc.problem or exc.context or "not valid YAML"
    context = str(exc.context or "")
    if "expected a single document" in context:
        return _at(exc, False, "the file holds more than one YAML document ('---')",
                   "an agent file is one document; remove the extra '---' part")
    if "'\\t'" in problem:
        return _at(exc, False, "a tab character where YAML expects spaces",
                   "replace the tab with spaces")
    for pattern, within, at_start, explain in _RULES:
        found = re.search(pattern, problem)
        if found and within in context:
            line = _mark(exc, at_start)
            text, hint = explain(found, line.line + 1 if line else 0)
            return _at(exc, at_start, text, hint)
    return _at(exc, False, problem, "check indentation, colons and quotes here")


def _mark(exc: yaml.MarkedYAMLError, at_start: bool) -> yaml.Mark | None:
    first, second = ((exc.context_mark, exc.problem_mark) if at_start
                     else (exc.problem_mark, exc.context_mark))
    return first or second


def _at(exc: yaml.MarkedYAMLError, at_start: bool, problem: str, hint: str) -> SyntaxProblem:
    mark = _mark(exc, at_start)
    return SyntaxProblem(problem, hint, mark.line + 1 if mark else None,
                         mark.column + 1 if mark else None)
