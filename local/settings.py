"""The local runtime's own settings (``make run``), read from the environment and checked before anything
starts: a bad one is refused with one line naming what is accepted (``SettingError``), never a traceback."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

SWITCHES = {"on": True, "off": False}
JSON_LOGS = {"1": True, "0": False}


class SettingError(Exception):
    """Settings the runtime cannot start with: one line each."""

    def __init__(self, *lines: str) -> None:
        super().__init__("; ".join(lines))
        self.lines = list(lines)


def _choice(name: str, default: str, accepted: dict[str, bool]) -> bool:
    raw = os.environ.get(name, "").strip() or default
    if raw.lower() not in accepted:
        raise SettingError(f"{name} must be {' or '.join(accepted)}, got {raw!r}")
    return accepted[raw.lower()]


def _whole(name: str, default: str, low: int, high: int, what: str) -> int:
    raw = os.environ.get(name, "").strip() or default
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise SettingError(f"{name} must be {what}, got {raw!r}")
    return int(raw)


@dataclass(frozen=True)
class LocalSettings:
    port: int = 3000
    schedules: bool = True  # LOCAL_SCHEDULES: the first sync at start-up and every schedule's runs
    max_concurrency: int = 8  # LOCAL_MAX_CONCURRENCY: containers per function, at most
    json_logs: bool = False  # LOCAL_JSON_LOGS=1: the functions log one JSON line per entry, as in AWS
    woo_local_mode: bool = True  # WOO_SIM_LOCAL_MODE: the simulated shop takes Basic auth over plain HTTP

    @classmethod
    def from_env(cls) -> LocalSettings:
        """Every setting read, and every bad one named (``SettingError`` with a line each)."""
        values: dict[str, object] = {}
        errors: list[str] = []
        readers: dict[str, Callable[[], object]] = {
            "port": lambda: _whole("PORT", "3000", 1, 65535, "a port number from 1 to 65535"),
            "schedules": lambda: _choice("LOCAL_SCHEDULES", "on", SWITCHES),
            "max_concurrency": lambda: _whole("LOCAL_MAX_CONCURRENCY", "8", 1, 64, "a whole number from 1 to 64"),
            "json_logs": lambda: _choice("LOCAL_JSON_LOGS", "0", JSON_LOGS),
            "woo_local_mode": lambda: _choice("WOO_SIM_LOCAL_MODE", "on", SWITCHES),
        }
        for field_name, read in readers.items():
            try:
                values[field_name] = read()
            except SettingError as exc:
                errors += exc.lines
        if errors:
            raise SettingError(*errors)
        return cls(**values)  # type: ignore[arg-type]
