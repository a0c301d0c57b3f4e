"""End-to-end fixtures: the real local runtime (``python -m local.run``) in a subprocess, over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen
from typing import Any

import httpx
import pytest
from werkzeug.serving import make_server

from local.run import LOCAL_DEFAULTS, free_port
from tests.e2e import web
from tests.e2e.shop_webhooks import Receiver

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class LocalStack:
    api: str
    topomer: str
    woocommerce: str
    dynamodb: str
    ses: str
    pid: int
    log: Path

    @property
    def client(self) -> httpx.Client:
        return web.Client(base_url=self.api, timeout=30)

    @property
    def admin(self) -> httpx.Client:
        """A client of the API sending the admin bearer."""
        headers = {"Authorization": f"Bearer {self.secret('ADMIN_API_KEY')}"}
        return web.Client(base_url=self.api, timeout=30, headers=headers)

    @property
    def shop(self) -> httpx.Client:
        """A client of the simulated shop's REST API (``wc/v3``) with the local consumer key."""
        auth = (LOCAL_DEFAULTS["WOOCOMMERCE_CONSUMER_KEY"], LOCAL_DEFAULTS["WOOCOMMERCE_CONSUMER_SECRET"])
        return web.Client(base_url=f"{self.woocommerce}/wp-json/wc/v3", auth=auth, timeout=30)

    @contextmanager
    def answer_style(self, style: str, *, name_created_id: bool = True) -> Iterator[None]:
        """Topomer answers writes in ``style`` inside the block; the style before is put back after."""
        before = self.topomer_state()["answer_style"]
        body = {"style": style, "name_created_id": name_created_id}
        web.post(f"{self.topomer}/_sim/answer_style", json=body, timeout=10).raise_for_status()
        try:
            yield
        finally:
            web.post(f"{self.topomer}/_sim/answer_style", json={"style": before}, timeout=10).raise_for_status()

    def sim(self, name: str) -> httpx.Client:
        return web.Client(base_url=getattr(self, name), timeout=30)

    def woo_state(self) -> dict[str, Any]:
        return web.get(f"{self.woocommerce}/_sim/state", timeout=10).json()

    def topomer_state(self) -> dict[str, Any]:
        return web.get(f"{self.topomer}/_sim/state", timeout=10).json()

    def set_faults(self, upstream: str, **faults: Any) -> None:
        """Make ``upstream`` (``topomer`` or ``woocommerce``) fail: ``rules=[...]``, ``error_rate``, ``latency_ms``."""
        web.post(f"{getattr(self, upstream)}/_sim/faults", json=faults, timeout=10).raise_for_status()

    def clear_faults(self, *upstreams: str) -> None:
        for upstream in upstreams or ("topomer", "woocommerce"):
            web.delete(f"{getattr(self, upstream)}/_sim/faults", timeout=10).raise_for_status()

    def run_schedule(self, logical_id: str) -> dict[str, Any]:
        response = web.post(f"{self.api}/_local/schedules/{logical_id}", timeout=120)
        response.raise_for_status()
        return response.json()

    def secret(self, name: str) -> str:
        return LOCAL_DEFAULTS[name]


@contextmanager
def start_stack(workdir: Path, extra_env: dict[str, str] | None = None) -> Iterator[LocalStack]:
    """Run ``python -m local.run`` on free ports until the block ends."""
    config_file = workdir / "config.json"
    log_file = workdir / "run.log"
    env = {
        **os.environ,
        "PORT": str(free_port()),
        "LOCAL_SCHEDULES": "off",  # tests run schedules on demand
        "LOCAL_CONFIG_FILE": str(config_file),
        "LOCAL_MAX_CONCURRENCY": "8",
        "LOCAL_JSON_LOGS": "1",  # tests read the functions' log lines as JSON, one per line
        # The clients give up after 2 s, not 5, and the simulators' timeout fault waits 2.5 s: a timeout case
        # (three attempts for a write that sets an absolute value) costs about 7 s instead of 16.
        "UPSTREAM_READ_TIMEOUT_SECONDS": "2",
        "PYTHONPATH": f"{ROOT / 'layers' / 'shared'}{os.pathsep}{ROOT}",
        **(extra_env or {}),
    }
    for key in ("TOPOMER_URL", "WOOCOMMERCE_URL", "DYNAMODB_ENDPOINT_URL"):
        env.pop(key, None)
    process = _run_until_ready(env, config_file, log_file, port_given="PORT" in (extra_env or {}))
    try:
        config = json.loads(config_file.read_text())
        yield LocalStack(log=log_file, **config)
    finally:
        _stop(process)


def _run_until_ready(env: dict[str, str], config_file: Path, log_file: Path, *, port_given: bool) -> Popen[bytes]:
    """Start the runtime and wait for its config file. Under pytest-xdist each worker starts its own stacks, so
    a port ``free_port()`` found may be taken before the runtime binds it: then again on another one (three tries)."""
    for attempt in range(3):
        with log_file.open("w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "local.run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while not config_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                output = log_file.read_text()
                if process.poll() is not None and "in use" in output and not port_given and attempt < 2:
                    env["PORT"] = str(free_port())
                    break
                _stop(process)
                raise RuntimeError(f"local runtime did not start:\n{output[-3000:]}")
            time.sleep(0.1)
        else:
            return process
    raise RuntimeError("local runtime did not start: every port tried was taken")


def _stop(process: Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with start_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


@pytest.fixture
def api(stack: LocalStack) -> Iterator[httpx.Client]:
    with stack.client as client:
        yield client


@pytest.fixture
def admin(stack: LocalStack) -> Iterator[httpx.Client]:
    with stack.admin as client:
        yield client


@pytest.fixture
def no_faults_left(stack: LocalStack) -> Iterator[None]:
    """The faults a test sets on the shared stack end with it (``pytest.mark.usefixtures``)."""
    yield
    stack.clear_faults()


# ------------------------------------------------------------------ webhooks (tests.e2e.shop_webhooks)
@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver()
    server = make_server("127.0.0.1", 0, endpoint, threaded=True)
    endpoint.url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield endpoint
    server.shutdown()


@pytest.fixture
def made_webhooks(stack: LocalStack) -> Iterator[list[int]]:
    """Ids of the webhooks a test creates: deleted when it ends."""
    ids: list[int] = []
    yield ids
    with stack.shop as client:
        for webhook_id in ids:
            client.delete(f"/webhooks/{webhook_id}", params={"force": "true"})


@pytest.fixture
def quiet_order(stack: LocalStack) -> int:
    """An order no part of the service acts on (no credits, not paid with Topomer)."""
    response = stack.sim("woocommerce").post(
        "/_sim/orders", json={"customer_id": 2, "payment_method": "cod", "line_items": [{"product_id": 12}]}
    )
    return int(response.json()["id"])
