"""Just enough of a GraphQL parser for the double's endpoint: one operation, variables, fields
with aliases and arguments (variables, literals, input objects, lists), nested selections.
Fragments and directives are not parsed (gmr sends none); they are a parse error here.

Errors are ``GraphQLError`` with graphql-ruby's wording where the double knows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(
    r"(?P<skip>[\s,\ufeff]+|#[^\n]*)|(?P<punct>[!$():=\[\]{}])|(?P<name>[_A-Za-z][_0-9A-Za-z]*)"
    r'|(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?P<string>"(?:[^"\\\n]|\\.)*")'
)


class GraphQLError(Exception):
    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    def entry(self) -> dict[str, Any]:
        return {"message": self.message, **self.extra}


@dataclass(frozen=True)
class Variable:
    name: str


@dataclass
class Field:
    name: str
    alias: str
    arguments: dict[str, Any]
    selections: list[Field] = field(default_factory=list)
    line: int = 1
    column: int = 1


@dataclass
class Operation:
    kind: str  # "query" or "mutation"
    name: str
    variables: dict[str, str]  # name -> declared type text (``MlModelVersionID!``)
    selections: list[Field]


def parse(text: str) -> Operation:
    return _Parser(text).operation()


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str, int, int]] = []
        position = 0
        while position < len(text):
            found = _TOKEN.match(text, position)
            if found is None:
                line, column = _where(text, position)
                raise GraphQLError(f'Parse error on "{text[position]}" at [{line}, {column}]')
            kind = found.lastgroup or ""
            if kind != "skip":
                self.tokens.append((kind, found.group(), *_where(text, position)))
            position = found.end()
        self.at = 0

    def peek(self, value: str | None = None) -> bool:
        if self.at >= len(self.tokens):
            return False
        return value is None or self.tokens[self.at][1] == value

    def take(self, value: str | None = None, kind: str | None = None) -> tuple[str, int, int]:
        if self.at >= len(self.tokens):
            raise GraphQLError("Unexpected end of document")
        got_kind, got, line, column = self.tokens[self.at]
        if (value is not None and got != value) or (kind is not None and got_kind != kind):
            raise GraphQLError(f'Parse error on "{got}" ({got_kind.upper()}) at [{line}, {column}]')
        self.at += 1
        return got, line, column

    def operation(self) -> Operation:
        kind, name, variables = "query", "", {}
        if self.peek("query") or self.peek("mutation"):
            kind = self.take()[0]
            if self.peek() and self.tokens[self.at][0] == "name":
                name = self.take()[0]
            if self.peek("("):
                variables = self.variable_definitions()
        selections = self.selection_set()
        if self.peek():
            raise GraphQLError("This document has more than one operation (not supported)")
        return Operation(kind, name, variables, selections)

    def variable_definitions(self) -> dict[str, str]:
        self.take("(")
        found: dict[str, str] = {}
        while not self.peek(")"):
            self.take("$")
            name = self.take(kind="name")[0]
            self.take(":")
            found[name] = self.type_text()
            if self.peek("="):
                self.take("=")
                self.value()
        self.take(")")
        return found

    def type_text(self) -> str:
        if self.peek("["):
            self.take("[")
            inner = self.type_text()
            self.take("]")
            text = f"[{inner}]"
        else:
            text = self.take(kind="name")[0]
        if self.peek("!"):
            self.take("!")
            text += "!"
        return text

    def selection_set(self) -> list[Field]:
        self.take("{")
        fields = [self.field()]
        while not self.peek("}"):
            fields.append(self.field())
        self.take("}")
        return fields

    def field(self) -> Field:
        name, line, column = self.take(kind="name")
        alias = name
        if self.peek(":"):
            self.take(":")
            name = self.take(kind="name")[0]
        arguments: dict[str, Any] = {}
        if self.peek("("):
            self.take("(")
            while not self.peek(")"):
                key = self.take(kind="name")[0]
                self.take(":")
                arguments[key] = self.value()
            self.take(")")
        selections = self.selection_set() if self.peek("{") else []
        return Field(name, alias, arguments, selections, line, column)

    def value(self) -> Any:
        if self.peek("$"):
            self.take("$")
            return Variable(self.take(kind="name")[0])
        if self.peek("{"):
            self.take("{")
            found: dict[str, Any] = {}
            while not self.peek("}"):
                key = self.take(kind="name")[0]
                self.take(":")
                found[key] = self.value()
            self.take("}")
            return found
        if self.peek("["):
            self.take("[")
            items = []
            while not self.peek("]"):
                items.append(self.value())
            self.take("]")
            return items
        kind, text, _, _ = self.tokens[self.at] if self.peek() else ("", "", 0, 0)
        self.take()
        if kind == "string":
            return bytes(text[1:-1], "utf-8").decode("unicode_escape")
        if kind == "number":
            return float(text) if "." in text or "e" in text.lower() else int(text)
        return {"true": True, "false": False, "null": None}.get(text, text)


def _where(text: str, position: int) -> tuple[int, int]:
    line = text.count("\n", 0, position) + 1
    return line, position - (text.rfind("\n", 0, position) + 1) + 1
