"""``make env-json``: ``env.json`` for ``sam local start-api --env-vars env.json``, from a running ``make run``.

SAM's emulator runs each function in a Docker container and passes it only the variables the template declares,
overridden by env.json. So the template declares, empty, every variable the local run needs (the secrets beside
their ``*_PARAM``, the SDK's DynamoDB and SES endpoints), and this file fills them per function: the simulators,
the embedded DynamoDB (and SES) of the running ``make run`` as a container reaches the host (``--host``, default
``host.docker.internal``), the local secrets, the tables' local names, and every ``*_PARAM`` blanked so that
SSM is never asked. env.json holds the local secrets: it is gitignored and written readable by its owner only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from local import template

DEFAULT_HOST = "host.docker.internal"
_HOSTNAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?")


class EnvJsonError(Exception):
    """A wrong argument or no running ``make run``: said in one line."""


def declared(logical_id: str) -> set[str]:
    """The variables the template declares for a function (Globals' and its own), conditional ones included:
    the only ones SAM passes to it, and so the only ones env.json can set."""
    loaded = template.load_template()
    globals_env = loaded.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    own = loaded["Resources"][logical_id]["Properties"].get("Environment", {}).get("Variables", {})
    return {*globals_env, *own}


def on_host(url: str, host: str) -> str:
    """``url`` (a loopback address of ``make run``) as a container reaches it: the same port on ``host``."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{host}:{parts.port}" if parts.port else host))


def build(addresses: Mapping[str, Any], host: str = DEFAULT_HOST) -> dict[str, dict[str, str]]:
    """env.json's content: for each function, the declared variables the local run sets, with their values."""
    from local.run import LOCAL_DEFAULTS  # the local runtime's own values (the simulators' credentials)

    wanted: dict[str, str] = {
        "WOOCOMMERCE_URL": on_host(str(addresses["woocommerce"]), host),
        "TOPOMER_URL": on_host(str(addresses["topomer"]), host),
        "AWS_ENDPOINT_URL_DYNAMODB": on_host(str(addresses["dynamodb"]), host),
        # The embedded server stands in for SES too (make run verifies the sender there).
        "AWS_ENDPOINT_URL_SES": on_host(str(addresses.get("ses") or addresses["dynamodb"]), host),
        # Compared with the shop's webhooks, which make run registered to its own API: its address as is.
        "WEBHOOK_BASE_URL": str(addresses["api"]),
        "CAPTURE_RETRY_BASE_SECONDS": LOCAL_DEFAULTS["CAPTURE_RETRY_BASE_SECONDS"],
    }
    out: dict[str, dict[str, str]] = {}
    for logical_id, fn in template.functions().items():
        names = declared(logical_id)
        # Each secret beside its *_PARAM, which is blanked: set, SSM is never asked.
        secrets = {k: v for k, v in LOCAL_DEFAULTS.items() if f"{k}_PARAM" in names}
        blanked = {name: "" for name in names if name.endswith("_PARAM")}
        # The template's values as the local runtime resolves them (tables by their local names), then ours.
        values = {**fn.local_environment, **wanted, **secrets, **blanked}
        out[logical_id] = {k: values[k] for k in sorted(names) if k in values}
    return out


def read_addresses(config: Path) -> dict[str, Any]:
    """Where the running ``make run`` listens (the file it writes once ready), or one line saying what to do."""
    try:
        addresses: dict[str, Any] = json.loads(config.read_text())
    except FileNotFoundError:
        raise EnvJsonError(f"{config} not found: start `make run` (in another terminal) first") from None
    except (OSError, ValueError) as exc:
        raise EnvJsonError(f"{config} is not make run's address file ({exc}): start `make run` again") from None
    if not isinstance(addresses, dict) or not {"api", "woocommerce", "topomer", "dynamodb"} <= set(addresses):
        raise EnvJsonError(f"{config} is not make run's address file: start `make run` again")
    pid = addresses.get("pid")
    if isinstance(pid, int):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            raise EnvJsonError(f"the `make run` that wrote {config} has stopped: start it again first") from None
        except PermissionError:
            pass  # alive, another user's
    return addresses


def write(content: dict[str, dict[str, str]], output: Path) -> None:
    """Readable by its owner only: it holds the local secrets."""
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(content, fh, indent=2)
        fh.write("\n")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="make env-json", description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path(".local-run.json"), help="make run's address file")
    parser.add_argument("--host", default=DEFAULT_HOST, help="the host as a container reaches it")
    parser.add_argument("--output", type=Path, default=Path("env.json"))
    args = parser.parse_args(argv)
    try:
        if not _HOSTNAME.fullmatch(args.host):
            raise EnvJsonError(f"SIM_HOST must be a host name or IPv4 address, got {args.host!r}")
        content = build(read_addresses(args.config), args.host)
        write(content, args.output)
    except (EnvJsonError, OSError) as exc:
        raise SystemExit(f"make env-json: {exc}") from None
    network = " --docker-network host" if args.host == "127.0.0.1" else ""
    print(
        f"{args.output} written for {len(content)} functions, pointing at {args.host}. Next: make build, then "
        f".venv-sam/bin/sam local start-api --env-vars {args.output} --port 3001{network}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
