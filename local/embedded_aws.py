"""The embedded AWS endpoint (moto server) that stands in for DynamoDB and SES locally.

moto applies an operation in plain Python with no item locks, so two concurrent conditional writes
(or transactions) on one item can both pass their condition. Real DynamoDB makes each of them atomic.
To keep that guarantee, which the credits and payments code relies on, requests are applied one at a
time; each takes well under a millisecond in memory.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server


class SerializedApp:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self.lock:
            # Materialise the body inside the lock: the operation runs while it is produced.
            return list(self.app(environ, start_response))


def serve_embedded_aws(host: str = "127.0.0.1", port: int = 0) -> BaseWSGIServer:
    app = SerializedApp(DomainDispatcherApplication(create_backend_app))
    server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    # Polled every 0.1 s for a shutdown (0.5 s by default): the local runtime stops within a second.
    threading.Thread(target=server.serve_forever, args=(0.1,), name="embedded-aws", daemon=True).start()
    return server
