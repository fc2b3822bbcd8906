# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check recorded HTTP answers against an upstream OpenAPI 3.0 document (``shared/specs/``).

An answer is valid when its path and method are an operation of the document, its status is one of that
operation's documented responses, and its JSON body validates against the response schema. Schemas are
checked with ``jsonschema`` (Draft 4, which OpenAPI 3.0's schema dialect extends) after turning
``nullable: true`` into a ``null`` type; ``$ref``s resolve inside the document.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path

import jsonschema
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]


def specs_dir() -> Path:
    """``$LAB_SPECS``, else ``../shared/specs`` beside the repository."""
    return Path(os.environ.get("LAB_SPECS") or REPO_ROOT.parent / "shared" / "specs")


class _Yaml12Loader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
    """YAML as OpenAPI reads it: only true/false are booleans (PyYAML's YAML 1.1 makes ``on``/``off`` booleans)."""


_Yaml12Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                    list("tTfF"))


def _nullable(node):
    if isinstance(node, dict):
        node = {key: _nullable(value) for key, value in node.items()}
        if node.pop("nullable", False) and "type" in node:
            node["type"] = [node["type"], "null"]
        return node
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    return node


class OpenApi:
    """One OpenAPI 3.0 document; :meth:`problems` says what is wrong with an answer (empty: valid)."""

    def __init__(self, name: str, prefixes=("",)):
        path = specs_dir() / name
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: set LAB_SPECS to a copy of shared/specs")
        self.doc = _nullable(yaml.load(path.read_text(encoding="utf-8"), Loader=_Yaml12Loader))  # nosec - safe loader
        self.prefixes = sorted(prefixes, key=len, reverse=True)
        self.routes = []
        for template, item in self.doc["paths"].items():
            pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
            self.routes.append((re.compile(pattern), template, item))

    def operation(self, method: str, path: str):
        """(template, operation) for ``method path`` (query and prefix removed), or (None, None)."""
        path = path.split("?", 1)[0]
        for prefix in self.prefixes:
            if prefix and path.startswith(prefix + "/"):
                path = path[len(prefix):]
                break
        path = path.rstrip("/") or "/"
        for pattern, template, item in self.routes:
            if pattern.match(path) and method.lower() in item:
                return template, item[method.lower()]
        return None, None

    def problems(self, method: str, path: str, status: int, body) -> list[str]:
        """Why the answer ``status``/``body`` to ``method path`` does not follow the document."""
        template, operation = self.operation(method, path)
        if operation is None:
            return [f"{method} {path}: no such operation in the document"]
        responses = operation.get("responses") or {}
        response = responses.get(str(status)) or responses.get(status) or responses.get("default")
        if response is None:
            return [f"{method} {template}: status {status} is not documented (documented: {sorted(map(str, responses))})"]
        content = response.get("content") or {}
        if not content:
            return [] if body in (None, "") else [f"{method} {template} {status}: a body where none is documented"]
        schema = next(iter(content.values())).get("schema") or {}
        root = copy.deepcopy(schema)
        root["components"] = self.doc.get("components") or {}
        validator = jsonschema.Draft4Validator(root, format_checker=jsonschema.FormatChecker())
        return [f"{method} {template} {status}: {'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message}"
                for error in validator.iter_errors(body)]
