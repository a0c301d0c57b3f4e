"""``make run``: the whole system on this machine, on embedded defaults.

Starts (unless pointed elsewhere by the environment) an embedded DynamoDB (moto server) with the
template's tables, the Topomer and WooCommerce simulators, then the HTTP API on ``127.0.0.1:$PORT``
serving exactly the template's routes through the real handlers. Ctrl-C stops everything.
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
from dataclasses import dataclass, field
from typing import Any

import boto3
from werkzeug.serving import BaseWSGIServer, make_server

from local import setup_webhooks, template
from local.apigw import LocalHttpApi
from local.lambdas import FunctionPool
from local.simulators import topomer as topomer_sim
from local.simulators import woocommerce as woo_sim

LOCAL_DEFAULTS = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "POWERTOOLS_TRACE_DISABLED": "true",
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalSystem:
    port: int
    servers: list[BaseWSGIServer] = field(default_factory=list)
    config: dict[str, str] = field(default_factory=dict)
    api: LocalHttpApi | None = None
    pools: dict[str, FunctionPool] = field(default_factory=dict)
    stop_event: threading.Event = field(default_factory=threading.Event)
    shop_sim: woo_sim.WooCommerceSimulator | None = None
    _openapi: dict[str, Any] | None = None
    _openapi_lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        for key, value in LOCAL_DEFAULTS.items():
            os.environ.setdefault(key, value)
        self._start_dynamodb()
        self._start_simulators()
        # Where the shop delivers webhooks, and what the syncs check them against.
        os.environ.setdefault("WEBHOOK_BASE_URL", f"http://127.0.0.1:{self.port}")
        environment = {key: os.environ[key] for key in PASSED_THROUGH if os.environ.get(key)}
        max_concurrency = int(os.environ.get("LOCAL_MAX_CONCURRENCY", "8"))
        for fn in template.functions().values():
            self.pools[fn.logical_id] = FunctionPool(fn, {**fn.local_environment, **environment}, max_concurrency)
        # Locally any page (a React dev server on its own port) may call the API, unless told otherwise.
        os.environ.setdefault("LOCAL_ALLOWED_ORIGINS", "*")
        self.api = LocalHttpApi(
            template.routes(), template.schedules(), self.invoke, template.cors(), openapi=self.openapi_document
        )
        server = make_server("127.0.0.1", self.port, self.api, threaded=True)
        self.servers.append(server)
        threading.Thread(target=server.serve_forever, name="http-api", daemon=True).start()
        for pool in self.pools.values():
            pool.warm()  # a cold start that fails (missing setting) fails here, loudly
        if self.shop_sim is not None:
            self._register_webhooks()  # the API answers now: WooCommerce pings a webhook it creates
        if os.environ.get("LOCAL_SCHEDULES", "on") != "off":
            self._start_schedules()
        self.api.ready.set()

    def openapi_document(self) -> dict[str, Any]:
        """The whole API's OpenAPI document (built once, when first asked for).

        Built in a process of its own: its cold starts would otherwise purge the layer's modules under the
        running containers, whose lazy imports would then load a second copy of the error classes.
        """
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

    def _start_dynamodb(self) -> None:
        endpoint = os.environ.get("DYNAMODB_ENDPOINT_URL")
        if not endpoint:
            from local.embedded_aws import serve_embedded_aws

            moto = serve_embedded_aws()
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
            server = topomer_sim.TopomerSimulator(
                os.environ["TOPOMER_CLIENT_ID"], os.environ["TOPOMER_CLIENT_SECRET"]
            ).serve()
            self.servers.append(server)
            os.environ["TOPOMER_URL"] = f"http://127.0.0.1:{server.server_port}"
            self.config["Seeded Topomer token"] = topomer_sim.SEED_TOKEN
            self.config["Seeded shopper"] = f"{topomer_sim.SEED_SHOPPER_ID} / {topomer_sim.SEED_SHOPPER_TOKEN}"
        if not os.environ.get("WOOCOMMERCE_URL"):
            # Local mode: Basic auth over plain HTTP, which a real shop refuses (it wants TLS).
            sim = woo_sim.WooCommerceSimulator(
                os.environ["WOOCOMMERCE_CONSUMER_KEY"],
                os.environ["WOOCOMMERCE_CONSUMER_SECRET"],
                local_mode=os.environ.get("WOO_SIM_LOCAL_MODE", "on") != "off",
            )
            server = sim.serve()
            self.servers.append(server)
            os.environ["WOOCOMMERCE_URL"] = f"http://127.0.0.1:{server.server_port}"
            self.shop_sim = sim
            self.config["Seeded order keys"] = ", ".join(o["order_key"] for o in sim.orders.values())
        self.config["Topomer"] = os.environ["TOPOMER_URL"]
        self.config["WooCommerce"] = os.environ["WOOCOMMERCE_URL"]

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
                        print(f"schedule {name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)

            threading.Thread(target=loop, name=f"schedule-{schedule.name}", daemon=True).start()

    def describe(self) -> str:
        lines = [f"woo-backend local runtime on http://127.0.0.1:{self.port}", "", "Routes:"]
        for route in template.routes():
            lines.append(f"  {route.method:6} {route.path:48} -> {route.function}")
        lines.append("  GET    /health")
        lines.append("  GET    /openapi.json, /docs (Swagger UI)")
        for schedule in template.schedules():
            lines.append(f"  POST   /_local/schedules/{schedule.function:30} ({schedule.expression})")
        lines += ["", "Configuration:"]
        lines += [f"  {key}: {value}" for key, value in self.config.items()]
        return "\n".join(lines)

    def stop(self) -> None:
        self.stop_event.set()
        for server in reversed(self.servers):
            server.shutdown()


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    system = LocalSystem(port=int(os.environ.get("PORT", "3000")))
    started = time.monotonic()
    system.start()
    print(system.describe(), flush=True)
    if os.environ.get("LOCAL_CONFIG_FILE"):
        # For tests and tools: where everything listens, as JSON.
        target = os.environ["LOCAL_CONFIG_FILE"]
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
    print(f"\nReady in {time.monotonic() - started:.1f}s. Ctrl-C stops everything.", flush=True)
    done = threading.Event()
    # Handled explicitly: a shell starting us in the background may have set SIGINT to "ignore".
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while not done.wait(1.0):
            pass
    finally:
        system.stop()
        print("Stopped.", flush=True)


if __name__ == "__main__":
    main()
