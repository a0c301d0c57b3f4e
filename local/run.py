"""``make run``: the whole system on this machine, on embedded defaults.

Starts (unless pointed elsewhere by the environment) an embedded DynamoDB (moto server) with the
template's tables, the Topomer and WooCommerce simulators, then the HTTP API on ``127.0.0.1:$PORT``
serving exactly the template's routes through the real handlers, runs each scheduled function once (the
first sync), and prints the banner (``local.banner``). Ctrl-C (or SIGTERM) stops everything.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import boto3
from werkzeug.serving import make_server

from local import setup_webhooks, template
from local.apigw import LocalHttpApi
from local.lambdas import FunctionPool, check_cold_starts
from local.settings import LocalSettings, SettingError
from local.simulators import topomer as topomer_sim
from local.simulators import woocommerce as woo_sim

LOCAL_DEFAULTS = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "POWERTOOLS_TRACE_DISABLED": "true",
    # `make run` turns it on (pretty log lines) unless LOCAL_JSON_LOGS=1; tools loading handlers keep JSON.
    "POWERTOOLS_DEV": "false",
    "WOOCOMMERCE_CONSUMER_KEY": woo_sim.CONSUMER_KEY,
    "WOOCOMMERCE_CONSUMER_SECRET": woo_sim.CONSUMER_SECRET,
    "WOOCOMMERCE_WEBHOOK_SECRET": woo_sim.WEBHOOK_SECRET,
    "TOPOMER_CLIENT_ID": topomer_sim.CLIENT_ID,
    "TOPOMER_CLIENT_SECRET": topomer_sim.CLIENT_SECRET,
    "ACCOUNT_SIGNING_SECRET": "local-account-signing-secret",
    "ADMIN_API_KEY": "local-admin-api-key",
    # Locally every sync run retries every pending capture step (in AWS: 60 s, doubling).
    "CAPTURE_RETRY_BASE_SECONDS": "0",
}
# Variables the developer may set to override what the local runtime passes to the functions.
PASSED_THROUGH = (
    "WOOCOMMERCE_URL",
    "WOOCOMMERCE_CONSUMER_KEY",
    "WOOCOMMERCE_CONSUMER_SECRET",
    "WOOCOMMERCE_WEBHOOK_SECRET",
    "WEBHOOK_BASE_URL",
    "TOPOMER_URL",
    "TOPOMER_CLIENT_ID",
    "TOPOMER_CLIENT_SECRET",
    "ACCOUNT_SIGNING_SECRET",
    "ADMIN_API_KEY",
    "CREDITS_API_KEYS",
    "CREDITS_META_KEY",
    "DOTIX_ERROR_STATUS",
    "PROMO_TTL_HOURS",
    "PROMO_INTERVALS_CACHE_SECONDS",
    "HOLD_TTL_MINUTES",
    "CAPTURE_RETRY_BASE_SECONDS",
    "CAPTURE_MAX_ATTEMPTS",
    "UPSTREAM_READ_TIMEOUT_SECONDS",
    "BALANCE_CURRENCY",
    "POWERTOOLS_LOG_LEVEL",
    "MAIL_RATE_LIMIT_PER_HOUR",
    "MERCHANT_EMAIL",
    "MAIL_SENDER",
)
# A container idle this long ends (Lambda ends idle containers too); a function's most recently used one stays
# longer, so a developer's next call is rarely a cold start. The syncs' run every 5 minutes: theirs stay.
IDLE_CONTAINER_SECONDS = 60.0
LAST_CONTAINER_IDLE_SECONDS = 600.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server(Protocol):
    """What the runtime starts and stops: a werkzeug server here, or a process serving one (moto's)."""

    server_port: int

    def shutdown(self) -> None: ...


@dataclass
class LocalSystem:
    port: int
    settings: LocalSettings = field(default_factory=LocalSettings)
    servers: list[Server] = field(default_factory=list)
    config: dict[str, str] = field(default_factory=dict)
    api: LocalHttpApi | None = None
    pools: dict[str, FunctionPool] = field(default_factory=dict)
    stop_event: threading.Event = field(default_factory=threading.Event)
    shop_sim: woo_sim.WooCommerceSimulator | None = None
    topomer: topomer_sim.TopomerSimulator | None = None
    first_sync: dict[str, str] = field(default_factory=dict)
    _openapi: dict[str, Any] | None = None
    _openapi_lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        """Everything up, or ``SettingError`` (one line per problem) with what started stopped again."""
        os.environ.setdefault("POWERTOOLS_DEV", "false" if self.settings.json_logs else "true")
        for key, value in LOCAL_DEFAULTS.items():
            os.environ.setdefault(key, value)
        self._start_dynamodb()
        self._start_simulators()
        # Where the shop delivers webhooks, and what the syncs check them against.
        os.environ.setdefault("WEBHOOK_BASE_URL", f"http://127.0.0.1:{self.port}")
        # Locally any page (a React dev server on its own port) may call the API, unless told otherwise.
        os.environ.setdefault("LOCAL_ALLOWED_ORIGINS", "*")
        passed = {key: os.environ[key] for key in PASSED_THROUGH if os.environ.get(key)}
        for fn in template.functions().values():
            # A container's process gets this runtime's environment with the function's own on top.
            environment = {**os.environ, **fn.local_environment, **passed}
            self.pools[fn.logical_id] = FunctionPool(fn, environment, self.settings.max_concurrency)
        # A bad setting fails here, one line each, and no container is kept: each starts when first called.
        errors = check_cold_starts([(pool.function, pool.environment) for pool in self.pools.values()])
        if errors:
            raise SettingError(*_grouped(errors))
        self.api = LocalHttpApi(
            template.routes(),
            template.schedules(),
            self.invoke,
            template.cors(),
            openapi=self.openapi_document,
            containers=self.containers,
        )
        try:
            server = make_server("127.0.0.1", self.port, self.api, threaded=True)
        except OSError as exc:
            raise SettingError(f"PORT {self.port} cannot be used: {exc.strerror or exc}") from exc
        self.servers.append(server)
        threading.Thread(target=server.serve_forever, args=(0.1,), name="http-api", daemon=True).start()
        if self.shop_sim is not None:
            self._register_webhooks()  # the API answers now: WooCommerce pings a webhook it creates
        if self.settings.schedules:
            self._run_first_sync()
            self._start_schedules()
        threading.Thread(target=self._reap_idle_containers, name="reaper", daemon=True).start()
        self.api.ready.set()

    def openapi_document(self) -> dict[str, Any]:
        """The whole API's OpenAPI document (built once, when first asked for, in a process of its own)."""
        with self._openapi_lock:
            if self._openapi is None:
                built = subprocess.run(
                    [sys.executable, "-m", "local.openapi", "--print"],
                    cwd=template.ROOT,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                self._openapi = json.loads(built.stdout)
            return self._openapi

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        return self.pools[function].invoke(event)

    def containers(self) -> dict[str, list[int]]:
        """Each function's running containers (their process ids)."""
        return {name: pool.pids for name, pool in self.pools.items()}

    def _start_dynamodb(self) -> None:
        endpoint = os.environ.get("DYNAMODB_ENDPOINT_URL")
        if not endpoint:
            from local.embedded_aws import EmbeddedAwsProcess

            moto = EmbeddedAwsProcess()
            self.servers.append(moto)
            endpoint = f"http://127.0.0.1:{moto.server_port}"
            # The embedded server also stands in for SES (send_mail).
            os.environ.setdefault("AWS_ENDPOINT_URL_SES", endpoint)
            ses = boto3.client("ses", endpoint_url=endpoint)
            ses.verify_email_identity(EmailAddress=os.environ.get("MAIL_SENDER", "no-reply@example.com"))
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
        self.config["DynamoDB"] = endpoint
        created = template.create_tables(boto3.client("dynamodb", endpoint_url=endpoint))
        self.config["Tables created"] = ", ".join(created) or "(all existed)"

    def _start_simulators(self) -> None:
        if not os.environ.get("TOPOMER_URL"):
            self.topomer = topomer_sim.TopomerSimulator(
                os.environ["TOPOMER_CLIENT_ID"], os.environ["TOPOMER_CLIENT_SECRET"]
            )
            server = self.topomer.serve()
            self.servers.append(server)
            os.environ["TOPOMER_URL"] = f"http://127.0.0.1:{server.server_port}"
        if not os.environ.get("WOOCOMMERCE_URL"):
            # Local mode: Basic auth over plain HTTP, which a real shop refuses (it wants TLS).
            sim = woo_sim.WooCommerceSimulator(
                os.environ["WOOCOMMERCE_CONSUMER_KEY"],
                os.environ["WOOCOMMERCE_CONSUMER_SECRET"],
                local_mode=self.settings.woo_local_mode,
            )
            server = sim.serve()
            self.servers.append(server)
            os.environ["WOOCOMMERCE_URL"] = f"http://127.0.0.1:{server.server_port}"
            self.shop_sim = sim

    def _register_webhooks(self) -> None:
        """The service's webhooks, created in the simulated shop as `make setup-webhooks` does in a real one."""
        assert self.shop_sim is not None
        if not self.shop_sim.local_mode:
            # Like a real shop over plain HTTP, it refuses the API keys: nothing can create webhooks in it.
            self.config["Webhooks"] = "none (the shop refuses Basic auth over plain HTTP)"
            return
        base = os.environ["WEBHOOK_BASE_URL"]
        actions = setup_webhooks.setup(base, os.environ["WOOCOMMERCE_WEBHOOK_SECRET"])
        self.config["Webhooks"] = f"{len(actions)} ({', '.join(sorted({a.topic for a in actions}))}) to {base}"

    def _run_first_sync(self) -> None:
        """Each scheduled function once, at once (each in its container), so the seeded data is synced."""
        assert self.api is not None
        api = self.api

        def run(name: str) -> tuple[str, str]:
            started = time.monotonic()
            try:
                api.run_schedule(name)
            except Exception as exc:  # the next run retries, as in AWS; the runtime still starts
                return name, f"failed ({exc})"
            return name, f"done in {time.monotonic() - started:.1f} s"

        names = [s.function for s in template.schedules()]
        with ThreadPoolExecutor(max(1, len(names))) as runs:
            self.first_sync = dict(runs.map(run, names))

    def _start_schedules(self) -> None:
        assert self.api is not None
        for schedule in template.schedules():
            interval = schedule.interval_seconds
            if interval is None:
                continue

            def loop(name: str = schedule.name, every: float = interval) -> None:
                while not self.stop_event.wait(every):
                    try:
                        assert self.api is not None
                        self.api.run_schedule(name)
                    except Exception as exc:  # a failed run is retried by the next one, as in AWS
                        print(f"schedule {name} failed: {exc}", file=sys.stderr, flush=True)

            threading.Thread(target=loop, name=f"schedule-{schedule.name}", daemon=True).start()

    def _reap_idle_containers(self) -> None:
        while not self.stop_event.wait(IDLE_CONTAINER_SECONDS / 4):
            for pool in self.pools.values():
                pool.reap(IDLE_CONTAINER_SECONDS, LAST_CONTAINER_IDLE_SECONDS)

    def stop(self) -> None:
        """Everything down at once: every container asked to end, the servers shut down in parallel, then the
        containers still running after a second killed."""
        self.stop_event.set()
        for pool in self.pools.values():
            pool.close()  # each container's process sees its pipe close and ends
        threads = [threading.Thread(target=server.shutdown, daemon=True) for server in self.servers]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 1.0
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        for pool in self.pools.values():
            pool.stop(deadline)


def _grouped(errors: list[str]) -> list[str]:
    """``Function: message`` lines, one per distinct message, naming the functions it failed."""
    by_message: dict[str, list[str]] = {}
    for error in errors:
        function, _, message = error.partition(": ")
        by_message.setdefault(message, []).append(function)
    return [f"{message} ({', '.join(functions)})" for message, functions in by_message.items()]


def write_config(system: LocalSystem, target: str) -> None:
    """For tests and tools (``LOCAL_CONFIG_FILE``): where everything listens, as JSON."""
    with open(target + ".tmp", "w") as fh:
        json.dump(
            {
                "api": f"http://127.0.0.1:{system.port}",
                "topomer": os.environ["TOPOMER_URL"],
                "woocommerce": os.environ["WOOCOMMERCE_URL"],
                "dynamodb": os.environ["AWS_ENDPOINT_URL_DYNAMODB"],
                "ses": os.environ.get("AWS_ENDPOINT_URL_SES", ""),
                "pid": os.getpid(),
            },
            fh,
        )
    os.replace(target + ".tmp", target)  # readers never see half a file


def main(argv: list[str] | None = None) -> int:
    from local.banner import banner
    from woo_backend.settings import ConfigurationError

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    done = threading.Event()
    # Handled from the start: a shell starting us in the background may have set SIGINT to "ignore".
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    args = sys.argv[1:] if argv is None else argv
    started = time.monotonic()
    system: LocalSystem | None = None
    try:
        if args:
            raise SettingError(
                f"make run takes no arguments (got {' '.join(args)}): settings come from the environment"
            )
        settings = LocalSettings.from_env()
        system = LocalSystem(port=settings.port, settings=settings)
        system.start()
    except (SettingError, ConfigurationError, ValueError) as exc:
        lines = exc.lines if isinstance(exc, SettingError) else [str(exc)]
        for line in lines:
            print(f"make run: {line}", file=sys.stderr, flush=True)
        if system is not None:
            system.stop()
        return 2
    print(banner(system, time.monotonic() - started), flush=True)
    if os.environ.get("LOCAL_CONFIG_FILE"):
        write_config(system, os.environ["LOCAL_CONFIG_FILE"])
    try:
        while not done.wait(0.2):
            pass
    finally:
        stopping = time.monotonic()
        system.stop()
        print(f"Stopped. ({time.monotonic() - stopping:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything this runtime started has stopped (containers included); the interpreter's own teardown of a
    # process holding moto, boto3 and the layer would take seconds more on a busy machine.
    os._exit(code)
