"""The tests' HTTP calls, with one TLS context for all of them.

httpx builds a TLS context, loading the whole CA bundle, for every client it makes, and ``httpx.get`` makes a
client per call. Most of the tests' calls are plain HTTP to 127.0.0.1, yet in the parallel pass that building
was over half of the pytest workers' CPU (py-spy). The context here is made once and passed as ``verify``
(httpx's public way to give it one); the verification it does is the default's.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx

TLS = ssl.create_default_context()


def Client(**options: Any) -> httpx.Client:
    return httpx.Client(verify=TLS, **options)


def request(method: str, url: str, **options: Any) -> httpx.Response:
    return httpx.request(method, url, verify=TLS, **options)


def get(url: str, **options: Any) -> httpx.Response:
    return httpx.get(url, verify=TLS, **options)


def post(url: str, **options: Any) -> httpx.Response:
    return httpx.post(url, verify=TLS, **options)


def put(url: str, **options: Any) -> httpx.Response:
    return httpx.put(url, verify=TLS, **options)


def patch(url: str, **options: Any) -> httpx.Response:
    return httpx.patch(url, verify=TLS, **options)


def delete(url: str, **options: Any) -> httpx.Response:
    return httpx.delete(url, verify=TLS, **options)
