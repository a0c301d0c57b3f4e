"""The embedded AWS endpoint (moto server) that stands in for DynamoDB and SES locally.

moto applies an operation in plain Python with no item locks, so two concurrent conditional writes
(or transactions) on one item can both pass their condition. Real DynamoDB makes each of them atomic.
To keep that guarantee, which the credits and payments code relies on, requests are applied one at a
time; each takes well under a millisecond in memory.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
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


class EmbeddedAwsProcess:
    """The embedded endpoint in a process of its own (``python -m local.embedded_aws``), for the local runtime.

    In the runtime's process it shared one interpreter lock with the API gateway and the simulators: with 8
    clients reading at once that process was the bottleneck (about 4 ms of CPU per read, moto a third of it) and
    8 clients read no faster than one. It prints its port, then serves until it is terminated or its stdin
    closes (the runtime gone, even killed)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local.embedded_aws"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.strip().isdigit():
            self.shutdown()
            raise RuntimeError("the embedded AWS endpoint (moto) did not start")
        self.server_port = int(line)

    def shutdown(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the runtime stops us
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request (the runtime logs its own)
    server = serve_embedded_aws()
    print(server.server_port, flush=True)
    # The runtime reads no more of the pipe: anything printed later goes where the runtime's own output goes.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdin.read()  # until the runtime closes it, or ends
    os._exit(0)


if __name__ == "__main__":
    main()
