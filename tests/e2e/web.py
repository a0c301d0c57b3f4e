"""The tests' HTTP calls, with one TLS context for all of them.

httpx builds a TLS context, loading the whole CA bundle, for every client it makes, and ``httpx.get`` makes a
client per call. Most of the tests' calls are plain HTTP to 127.0.0.1, yet in the parallel pass that building
was over half of the pytest workers' CPU (py-spy). The context here is made once and passed as ``verify``
(httpx's public way to give it one); the verification it does is the default's.
"""

from __future__ import annotations

import functools
import ssl

import httpx

TLS = ssl.create_default_context()

Client = functools.partial(httpx.Client, verify=TLS)
request = functools.partial(httpx.request, verify=TLS)
get = functools.partial(httpx.get, verify=TLS)
post = functools.partial(httpx.post, verify=TLS)
put = functools.partial(httpx.put, verify=TLS)
delete = functools.partial(httpx.delete, verify=TLS)
