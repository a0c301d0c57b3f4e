"""``make secrets STAGE=<stage>`` / ``python -m local.put_secrets --stage <stage>``: create or update the
stage's SSM SecureString parameters, the secrets the functions read.

The names come from the template's ``*_PARAM`` variables (``/woo-backend/${Stage}/...``), so the list cannot
drift from what is deployed; a name under a condition (``CREDITS_API_KEYS`` when ``CreditsApiKeysEnabled``)
is optional. Each value is taken from the variable of the same name in a local env file (``.env`` by
default, gitignored: ``WOOCOMMERCE_CONSUMER_KEY=ck_...``), else asked for without echo; an empty answer
keeps the parameter as it is. ``--list`` only prints the names, the functions reading each and whether it
exists. Values are never printed.
"""

from __future__ import annotations

import argparse
import getpass
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.template import ROOT, load_template

STAGES = ("dev", "staging", "prod")


@dataclass(frozen=True)
class Needed:
    variable: str  # the secret's variable locally (WOOCOMMERCE_CONSUMER_KEY)
    parameter: str  # its SSM name in the stage (/woo-backend/prod/woocommerce/consumer-key)
    functions: tuple[str, ...]
    condition: str | None  # set: needed only when this template condition holds


def _names(value: Any, stage: str, condition: str | None = None) -> Iterator[tuple[str, str | None]]:
    """The parameter names a ``*_PARAM`` value can take (both sides of an ``!If``)."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        yield value["Fn::Sub"].replace("${Stage}", stage), condition
    elif isinstance(value, dict) and "Fn::If" in value:
        cond, yes, no = value["Fn::If"]
        yield from _names(yes, stage, cond)
        yield from _names(no, stage, cond)
    elif isinstance(value, str):
        yield value, condition


def needed(stage: str, template: dict[str, Any] | None = None) -> list[Needed]:
    """Every secret parameter of ``stage``, with the functions that read it."""
    template = template or load_template()
    found: dict[str, tuple[str, str, list[str], str | None]] = {}
    for logical_id, res in template["Resources"].items():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        variables = res["Properties"].get("Environment", {}).get("Variables", {})
        for key, value in variables.items():
            if not key.endswith("_PARAM"):
                continue
            for name, condition in _names(value, stage):
                entry = found.setdefault(name, (key.removesuffix("_PARAM"), name, [], condition))
                entry[2].append(logical_id)
    return [Needed(v, p, tuple(sorted(fns)), c) for v, p, fns, c in sorted(found.values(), key=lambda e: e[1])]


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines (``export`` and quotes allowed, ``#`` comments skipped)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text().splitlines():
        match = re.fullmatch(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*", line)
        if not match or line.lstrip().startswith("#"):
            continue
        raw = match.group(2)
        if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
            raw = raw[1:-1]
        values[match.group(1)] = raw
    return values


def existing(client: Any, names: Sequence[str]) -> set[str]:
    """Which of ``names`` exist (no values read)."""
    found: set[str] = set()
    for start in range(0, len(names), 10):  # GetParameters takes 10 names at most
        answer = client.get_parameters(Names=list(names[start : start + 10]), WithDecryption=False)
        found |= {p["Name"] for p in answer["Parameters"]}
    return found


def describe(item: Needed, exists: bool) -> str:
    when = f"  (only when {item.condition})" if item.condition else ""
    state = "set" if exists else "MISSING"
    return f"{state:8} {item.parameter}  <- {item.variable}  [{', '.join(item.functions)}]{when}"


def put_secrets(
    client: Any,
    stage: str,
    env_values: dict[str, str],
    ask: Callable[[str], str] | None = getpass.getpass,
    out: Callable[[str], None] = print,
) -> list[str]:
    """Write every value given (env file, else ``ask``); returns the names written."""
    items = needed(stage)
    present = existing(client, [i.parameter for i in items])
    written = []
    for item in items:
        value = env_values.get(item.variable, "")
        if not value and ask is not None:
            keep = "keep" if item.parameter in present else "skip"
            value = ask(f"{item.variable} for {item.parameter} (empty: {keep}): ").strip()
        if not value:
            out(describe(item, item.parameter in present))
            continue
        client.put_parameter(Name=item.parameter, Value=value, Type="SecureString", Overwrite=True)
        written.append(item.parameter)
        out(f"{'updated' if item.parameter in present else 'created':8} {item.parameter}")
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make secrets", description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--stage", required=True, choices=STAGES)
    parser.add_argument("--env-file", type=Path, default=ROOT / ".env", help="NAME=value lines (default .env)")
    parser.add_argument("--region", help="the stack's region (default: the AWS SDK's)")
    parser.add_argument("--list", action="store_true", help="list the names and whether each is set; write nothing")
    parser.add_argument("--no-prompt", action="store_true", help="only the env file's values")
    args = parser.parse_args(argv)

    import boto3

    client = boto3.client("ssm", region_name=args.region)
    if args.list:
        items = needed(args.stage)
        present = existing(client, [i.parameter for i in items])
        for item in items:
            print(describe(item, item.parameter in present))
        return 0 if all(i.parameter in present or i.condition for i in items) else 1
    ask = None if args.no_prompt or not sys.stdin.isatty() else getpass.getpass
    written = put_secrets(client, args.stage, read_env_file(args.env_file), ask)
    print(f"{len(written)} parameter(s) written; running functions use them within 5 minutes (their cache).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
