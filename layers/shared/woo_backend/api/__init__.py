"""The HTTP edge of every function: the resolver and its error shapes (``resolver``), request bodies
(``bodies``), each API's request and response models (``balance``, ``promo``, ``credits``, ``account``), and the
order webhook route shared by credits and balance (``webhooks``).

Only this package (and the function folders) speaks HTTP; services return domain objects, and the models here
turn them into answers, so the OpenAPI document sees every shape.
"""

from woo_backend.api.bodies import body_fields, raw_body
from woo_backend.api.resolver import (
    STATUS_BY_KIND,
    ErrorShape,
    Guard,
    Resolver,
    create_resolver,
    error_response,
    http_entrypoint,
    json_response,
    native_error,
    status_of,
)

__all__ = [
    "STATUS_BY_KIND",
    "ErrorShape",
    "Guard",
    "Resolver",
    "body_fields",
    "create_resolver",
    "error_response",
    "http_entrypoint",
    "json_response",
    "native_error",
    "raw_body",
    "status_of",
]
