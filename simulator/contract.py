"""Twilio's documented REST contract, checked against the stand-in's traffic.

`twilio_api_v2010_used.json` (beside this module) is an extract of Twilio's OpenAPI
description of the 2010 API (github.com/twilio/twilio-oai, spec/json/twilio_api_v2010.json,
at the commit it records), written by `.ci/twilio_oai_extract.py`: the operations Holdless
uses, each with its documented request parameters and response fields.

Every request the stand-in receives is checked against it (a path and method Twilio
documents, each form field and query parameter documented, enum values in their list,
booleans and integers well formed), and so is every JSON body the stand-in answers (no
field Twilio does not document). Problems are collected here; the test suite fails any
test during which one was found (tests/conftest.py). Twilio itself ignores most unknown
parameters silently, so the stand-in still answers: the check is what makes them visible.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXTRACT = Path(__file__).with_name("twilio_api_v2010_used.json")
_PATH_PARAM = re.compile(r"\{(\w+)\}")
_BOOLEANS = frozenset({"true", "false", "True", "False"})

Form = Mapping[str, list[str]]


@dataclass(frozen=True)
class Operation:
    """One documented operation of Twilio's 2010 API."""

    operation_id: str
    method: str
    templates: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    params: Mapping[str, Mapping[str, Any]]
    response_fields: frozenset[str]
    list_key: str | None
    record_fields: frozenset[str]

    def matches(self, method: str, path: str) -> bool:
        """Whether a request with this method and path is this operation."""
        return method == self.method and any(p.match(path) for p in self.patterns)


def _pattern(template: str) -> re.Pattern[str]:
    """A path template (`.../Calls/{Sid}.json`) as a regular expression."""
    parts = _PATH_PARAM.split(template)
    # split() alternates literal text and parameter names.
    regex = "".join(re.escape(p) if i % 2 == 0 else "[^/.]+" for i, p in enumerate(parts))
    return re.compile(regex + "$")


def _operation(operation_id: str, entry: Mapping[str, Any]) -> Operation:
    return Operation(
        operation_id, entry["method"], tuple(entry["paths"]),
        tuple(_pattern(t) for t in entry["paths"]), entry["params"],
        frozenset(entry["response_fields"]), entry.get("list_key"),
        frozenset(entry.get("record_fields", ())))


@functools.cache
def extract() -> Mapping[str, Any]:
    """The committed extract of Twilio's OpenAPI description (read once)."""
    data: Mapping[str, Any] = json.loads(EXTRACT.read_text())
    return data


@functools.cache
def operations() -> tuple[Operation, ...]:
    """Every operation in the extract."""
    return tuple(_operation(k, v) for k, v in extract()["operations"].items())


def operation(operation_id: str) -> Operation:
    """The operation with this operationId; KeyError when the extract lacks it."""
    for candidate in operations():
        if candidate.operation_id == operation_id:
            return candidate
    raise KeyError(operation_id)


def operation_for(method: str, path: str) -> Operation | None:
    """The documented operation a request is, if any."""
    return next((o for o in operations() if o.matches(method, path)), None)


def _value_problem(spec: Mapping[str, Any], value: str) -> str | None:
    """Why a value does not fit its documented type or enum, or None when it does."""
    allowed = spec.get("enum") or spec.get("items", {}).get("enum")
    if allowed and value not in allowed:
        return f"value {value!r} is not one of Twilio's documented values {allowed}"
    kind = spec.get("type")
    if kind == "boolean" and value not in _BOOLEANS:
        return f"value {value!r} is not a boolean"
    if kind == "integer" and not value.lstrip("-").isdigit():
        return f"value {value!r} is not an integer"
    return None


def _param_problems(op: Operation, where: str, fields: Form) -> list[str]:
    problems = []
    for name, values in fields.items():
        spec = op.params.get(name)
        if spec is None or spec["in"] != where:
            problems.append(f"{op.operation_id}: {where} parameter {name!r} is not "
                            "documented by Twilio")
            continue
        problems += [f"{op.operation_id}: {where} parameter {name!r}: {problem}"
                     for v in values if (problem := _value_problem(spec, v)) is not None]
    return problems


def request_problems(method: str, path: str, form: Form, query: Form) -> list[str]:
    """What in a REST request Twilio does not document (empty when all of it is)."""
    op = operation_for(method, path)
    if op is None:
        return [f"{method} {_PATH_PARAM.sub('{}', _shape(path))}: not an operation Twilio "
                "documents (or not one in the extract)"]
    return _param_problems(op, "form", form) + _param_problems(op, "query", query)


def _shape(path: str) -> str:
    """A path with its sids blanked (no identifiers in messages)."""
    return re.sub(r"/[A-Z]{2}[0-9a-fA-F]{32}", "/{}", path)


def response_problems(op: Operation, body: Any) -> list[str]:
    """Fields of a JSON answer that Twilio does not document for this operation."""
    if not isinstance(body, dict) or not op.response_fields:
        return []
    problems = [f"{op.operation_id}: response field {name!r} is not documented by Twilio"
                for name in sorted(set(body) - op.response_fields)]
    if op.list_key is not None:
        extra = {k for r in body.get(op.list_key) or () for k in r} - op.record_fields
        problems += [f"{op.operation_id}: field {name!r} of a listed record is not "
                     "documented by Twilio" for name in sorted(extra)]
    return problems


def fields_read_problems(fields_read: Mapping[str, Iterable[str]]) -> list[str]:
    """Fields an app reads from Twilio's answers ({operationId: fields}) that Twilio does
    not document for that operation (for a list, fields of its records)."""
    problems = []
    for operation_id, fields in fields_read.items():
        try:
            op = operation(operation_id)
        except KeyError:
            problems.append(f"{operation_id}: not an operation in the extract")
            continue
        documented = op.record_fields if op.list_key is not None else op.response_fields
        problems += [f"{operation_id}: field {name!r} is not in Twilio's documented answer"
                     for name in fields if name not in documented]
    return problems


class ProblemLog:
    """Contract problems found while serving, kept until someone drains them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._problems: list[str] = []

    def add(self, problems: Iterable[str]) -> None:
        """Keep these problems."""
        with self._lock:
            self._problems.extend(problems)

    def drain(self) -> list[str]:
        """The problems kept so far (forgotten once returned)."""
        with self._lock:
            found, self._problems = self._problems, []
        return found


# Every stand-in in this process reports here; the test suite drains it after each test.
PROBLEMS = ProblemLog()
