"""The local loop a newcomer meets: the banner, the first sync, access lines, pretty logs, one-line refusals of
bad settings, stopping on SIGINT and SIGTERM, containers started on demand and serving one event at a time."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from local.run import free_port
from tests.e2e import web
from tests.e2e.conftest import ROOT, LocalStack, start_stack

pytestmark = pytest.mark.e2e

SEEDED_ORDERS = [
    "wc_order_seedCompleted",
    "wc_order_seedProcessing",
    "wc_order_seedBankWire",
    "wc_order_seedMixed",
]


@pytest.fixture(scope="module")
def newcomer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """``make run`` as a newcomer starts it: schedules on (so the first sync runs), pretty logs."""
    workdir = tmp_path_factory.mktemp("newcomer")
    with start_stack(workdir, {"LOCAL_SCHEDULES": "on", "LOCAL_JSON_LOGS": "0"}) as running:
        yield running


def banner(stack: LocalStack) -> str:
    text = stack.log.read_text()
    return text[text.index("woo-backend local runtime on") : text.index("Ctrl-C stops everything.")]


# ------------------------------------------------------------------ banner and first sync
def test_the_seeded_order_answers_at_once(newcomer: LocalStack) -> None:
    """The first sync ran before the runtime said it was ready: the README's first example works at once."""
    response = web.get(f"{newcomer.api}/credits/v1/orders/wc_order_seedCompleted")
    assert response.status_code == 200, response.text
    assert response.json()["balance"] > 0


def test_banner_groups_routes_by_function(newcomer: LocalStack) -> None:
    text = banner(newcomer)
    credits = text.index("  CreditsFunction:")
    assert credits < text.index("    GET    /credits/v1/orders/{order_key}") < text.index("  BalanceFunction:")
    assert "  AccountFunction:\n    POST   /account/v1" in text
    assert re.search(r"BalanceSyncFunction: rate\(5 minutes\); now: curl -XPOST \S+/_local/schedules/", text)


def test_banner_shows_what_a_newcomer_needs(newcomer: LocalStack) -> None:
    text = banner(newcomer)
    assert newcomer.secret("ADMIN_API_KEY") in text
    assert re.search(r"tpm_local_token_alice\s+alice@example.com\s+balance 150.00 EUR", text)
    assert re.search(r"tpm_local_token_bob\s+bob@example.com\s+balance 20.00 EUR", text)
    assert "410 token_expired" in text
    assert f"{newcomer.topomer}/_sim/tokens" in text
    assert f"{newcomer.topomer}/_sim/reset" in text
    for key in [*SEEDED_ORDERS, "wc_order_seedTopomer"]:
        assert key in text
    assert "make credentials UID=1" in text
    for path in ("/openapi.json", "/docs", "/admin"):
        assert f"{newcomer.api}{path}" in text


def test_a_fresh_topomer_token_pays_once_more(newcomer: LocalStack) -> None:
    """What the banner says to do once a seeded token is spent: a new token with a balance from the simulator."""
    made = web.post(f"{newcomer.topomer}/_sim/tokens", json={"balance": "42.50"})
    assert made.status_code == 201
    token = made.json()["token"]
    balance = web.get(f"{newcomer.api}/balance/v1/balance", headers={"X-Topomer-Token": token})
    assert balance.status_code == 200
    assert balance.json()["balance"] == "42.50"
    assert web.post(f"{newcomer.topomer}/_sim/tokens", json={"balance": "-1"}).status_code == 400


# ------------------------------------------------------------------ logs
def test_one_access_line_per_request_without_keys_or_query(newcomer: LocalStack) -> None:
    start = len(newcomer.log.read_text())
    response = web.get(f"{newcomer.api}/credits/v1/orders/wc_order_seedMixed", params={"api_key": "sekrit-123"})
    assert response.status_code == 200
    web.get(f"{newcomer.api}/no/such/route")
    time.sleep(0.2)
    text = newcomer.log.read_text()[start:]
    assert re.search(r"^GET /credits/v1/orders/\*\*\* 200 \d+ ms CreditsFunction$", text, re.MULTILINE), text
    assert re.search(r"^GET /no/such/route 404 \d+ ms -$", text, re.MULTILINE), text
    assert "wc_order_seedMixed" not in text
    assert "sekrit-123" not in text


def test_function_logs_are_pretty_and_show_no_event(newcomer: LocalStack) -> None:
    text = newcomer.log.read_text()
    assert re.search(r'^\{\n    "level":', text, re.MULTILINE), "POWERTOOLS_DEV: indented log entries"
    assert '"rawPath"' not in text  # never Powertools' debug dump of the whole event
    assert "wc_order_seedCompleted" not in text.replace(banner(newcomer), "")


def test_json_logs_on_request(stack: LocalStack) -> None:
    """LOCAL_JSON_LOGS=1 (the tests' stack): one JSON object per line, as in AWS."""
    stack.run_schedule("CreditsSyncFunction")
    lines = [line for line in stack.log.read_text().splitlines() if line.startswith("{")]
    assert lines
    assert all(isinstance(json.loads(line), dict) for line in lines)


# ------------------------------------------------------------------ containers
def test_containers_start_on_demand(newcomer: LocalStack) -> None:
    before = web.get(f"{newcomer.api}/_local/containers").json()
    assert before["AccountFunction"] == []  # never called: no container, no memory
    assert before["AdminFunction"] == []
    assert len(before["CreditsSyncFunction"]) == 1  # the first sync's
    assert web.get(f"{newcomer.api}/promo/v1/intervals").status_code == 200
    assert len(web.get(f"{newcomer.api}/_local/containers").json()["PromoFunction"]) == 1


def test_concurrent_requests_each_get_their_own_answer(newcomer: LocalStack) -> None:
    """Powertools keeps the request being resolved on a class: two requests in one process would see each
    other's. Each container is a process serving one event at a time, so every answer is its own request's."""

    def read(index: int) -> tuple[str, str]:
        key = SEEDED_ORDERS[index % len(SEEDED_ORDERS)]
        with web.Client(base_url=newcomer.api, timeout=30) as client:
            return key, client.get(f"/credits/v1/orders/{key}").json().get("order_key", "")

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(read, range(160)))
    assert all(asked == answered for asked, answered in answers)
    running = web.get(f"{newcomer.api}/_local/containers").json()["CreditsFunction"]
    assert 1 < len(running) <= 8
    assert os.getpid() not in running


# ------------------------------------------------------------------ refusals and stopping
@dataclass
class Exited:
    code: int
    stderr: str


def run_with(**env: str) -> Exited:
    environment = {
        **os.environ,
        "PORT": str(free_port()),
        "PYTHONPATH": f"{ROOT / 'layers' / 'shared'}{os.pathsep}{ROOT}",
        **env,
    }
    args = environment.pop("ARGS", "").split()
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "local.run", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return Exited(done.returncode, done.stderr)


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"PORT": "abc"}, "PORT must be a port number from 1 to 65535, got 'abc'"),
        ({"LOCAL_SCHEDULES": "maybe"}, "LOCAL_SCHEDULES must be on or off, got 'maybe'"),
        ({"LOCAL_JSON_LOGS": "yes"}, "LOCAL_JSON_LOGS must be 1 or 0, got 'yes'"),
        ({"ARGS": "--port 4000"}, "make run takes no arguments"),
        ({"DOTIX_ERROR_STATUS": "maybe"}, "DOTIX_ERROR_STATUS must be 200 or 4xx, got 'maybe'"),
    ],
)
def test_a_bad_setting_is_one_line_and_exit_code_2(env: dict[str, str], said: str) -> None:
    exited = run_with(**env)
    assert exited.code == 2, exited.stderr
    lines = [line for line in exited.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, exited.stderr
    assert lines[0].startswith("make run: ")
    assert said in lines[0]


def test_two_bad_settings_are_a_line_each() -> None:
    exited = run_with(PORT="0", LOCAL_SCHEDULES="maybe")
    assert exited.code == 2
    assert len(exited.stderr.strip().splitlines()) == 2
    assert "Traceback" not in exited.stderr


@contextmanager
def running(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    config = tmp_path / "config.json"
    env = {
        **os.environ,
        "PORT": str(free_port()),
        "LOCAL_CONFIG_FILE": str(config),
        "LOCAL_SCHEDULES": "on",
        "PYTHONPATH": f"{ROOT / 'layers' / 'shared'}{os.pathsep}{ROOT}",
    }
    with (tmp_path / "run.log").open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "local.run"], cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while not config.exists():
            assert process.poll() is None, (tmp_path / "run.log").read_text()
            assert time.monotonic() < deadline
            time.sleep(0.1)
        api = json.loads(config.read_text())["api"]
        assert web.get(f"{api}/credits/v1/orders/wc_order_seedCompleted").status_code == 200  # containers up
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def descendants(pid: int) -> list[str]:
    found, todo = [], [str(pid)]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").iterdir():
            try:
                below = (task / "children").read_text().split()
            except FileNotFoundError:  # a thread that just ended
                continue
            found += below
            todo += below
    return found


def alive(pid: str) -> bool:
    """Running, not a zombie left for its new parent to reap."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_stops_within_3_seconds(tmp_path: Path, signum: int) -> None:
    with running(tmp_path) as process:
        children = descendants(process.pid)
        assert len(children) >= 4  # the fork server and the first sync's containers, at least
        started = time.monotonic()
        process.send_signal(signum)
        process.wait(timeout=10)
        assert time.monotonic() - started < 3
        assert process.returncode == 0
        assert "Stopped." in (tmp_path / "run.log").read_text()
        time.sleep(0.5)
        assert not [pid for pid in children if alive(pid)]
