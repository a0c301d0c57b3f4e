"""The routes each handler serves are exactly the ones ``template.yaml`` declares for its function."""

from __future__ import annotations

import pytest

from local import template
from local.openapi import http_functions, openapi_document

# Each document cold-starts the function, re-importing the layer: put back the modules other tests hold.
pytestmark = pytest.mark.usefixtures("layer_restored")


@pytest.mark.parametrize("function", http_functions())
def test_handler_routes_equal_template_routes(function: str) -> None:
    declared = {(r.method.lower(), r.path) for r in template.routes() if r.function == function}
    document = openapi_document(function)
    served = {(method, path) for path, operations in document["paths"].items() for method in operations}
    assert served == declared
