"""``make openapi``: one OpenAPI document for the whole HTTP API, merged from each function's (Powertools
generates those from the routes), written to ``docs/openapi.json``; ``--print`` writes it to stdout (for the local
runtime). ``--check`` regenerates it to a temporary file and fails with the diff when the committed document
differs (``make openapi-check``, part of ``make test``).
"""

from __future__ import annotations

import difflib
import json
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from local import template
from local.lambdas import Container
from local.run import LOCAL_DEFAULTS
from woo_backend.api.openapi import ACCOUNT_CREDENTIALS

OUT = template.ROOT / "docs" / "openapi.json"
# Cold starts need settings; these are never called.
PLACEHOLDERS = {**LOCAL_DEFAULTS, "WOOCOMMERCE_URL": "http://127.0.0.1:9", "TOPOMER_URL": "http://127.0.0.1:9"}
# Powertools' default for a request it cannot validate; this API answers 400 in its own shape instead.
POWERTOOLS_VALIDATION = "#/components/schemas/HTTPValidationError"
DESCRIPTION = (
    "Store credits (with a Dotix-compatible API), Topomer balance payments, promo codes and the customer "
    'account. Native errors: `{"error": {"code": "...", "message": "..."}}`; the Dotix routes answer Dotix\'s '
    'shapes and the account API `{"result": false, "error", "code"}`. Credentials are checked before the body. '
    "Account API: " + ACCOUNT_CREDENTIALS
)


def http_functions() -> list[str]:
    return sorted({route.function for route in template.routes()})


def openapi_document(function: str, environment: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``function``'s own document, from a cold start of it with ``environment`` (placeholders by default)."""
    fn = template.functions()[function]
    settings = {**PLACEHOLDERS, **fn.local_environment} if environment is None else dict(environment)
    module = Container(fn, settings).module
    schema: dict[str, Any] = json.loads(module.app.get_openapi_json_schema())
    return schema


def _drop_default_validation_error(operation: dict[str, Any]) -> None:
    response = operation["responses"].get("422", {})
    if response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref") == POWERTOOLS_VALIDATION:
        del operation["responses"]["422"]


def merge(documents: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """One document: every function's paths, schemas and security schemes (a name two define differently fails)."""
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    schemes: dict[str, Any] = {}
    for function, document in documents.items():
        for path, operations in document.get("paths", {}).items():
            for method, operation in operations.items():
                if method in paths.get(path, {}):
                    raise ValueError(f"{method.upper()} {path} is served by two functions")
                operation.setdefault("tags", [function.removesuffix("Function")])
                _drop_default_validation_error(operation)
                paths.setdefault(path, {})[method] = operation
        components = document.get("components", {})
        for target, found in (
            (schemas, components.get("schemas", {})),
            (schemes, components.get("securitySchemes", {})),
        ):
            for name, value in found.items():
                if target.setdefault(name, value) != value:
                    raise ValueError(f"{function} defines {name} unlike another function")
    # Powertools' validation schemas go when no route refers to them any more (ValidationError only via the others).
    for name in ("HTTPValidationError", "ResponseValidationError", "ValidationError"):
        if f"#/components/schemas/{name}" not in json.dumps([paths, schemas]):
            schemas.pop(name, None)
    return {
        "openapi": "3.1.0",
        "info": {"title": "woo-backend", "version": "1.0.0", "description": DESCRIPTION},
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(schemas.items())), "securitySchemes": schemes},
    }


def document(environments: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, Any]:
    """The whole HTTP API's document; ``environments`` gives a function's settings (placeholders otherwise)."""
    return merge(
        {function: openapi_document(function, (environments or {}).get(function)) for function in http_functions()}
    )


def render(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def check(committed: Path = OUT) -> list[str]:
    """The unified diff between the committed document and a fresh one (empty when they agree)."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "openapi.json"
        fresh.write_text(render(document()))
        old = committed.read_text() if committed.exists() else ""
        return list(
            difflib.unified_diff(
                old.splitlines(keepends=True),
                fresh.read_text().splitlines(keepends=True),
                fromfile=str(committed.relative_to(template.ROOT)),
                tofile="generated from the code",
            )
        )


def main(argv: list[str]) -> int:
    if argv[:1] == ["--check"]:
        diff = check()
        if diff:
            sys.stderr.writelines(diff[:200])
            print("\ndocs/openapi.json differs from the code: run `make openapi` and commit it", file=sys.stderr)
            return 1
        print("docs/openapi.json matches the code", file=sys.stderr)
        return 0
    if argv[:1] == ["--print"]:
        sys.stdout.write(render(document()))
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(render(document()))
    print(OUT.relative_to(template.ROOT), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
