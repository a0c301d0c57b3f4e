"""The one registry of account actions: name, parameters, description and function. It both dispatches
requests (``AccountService.dispatch``) and describes the API (the ``describe`` action); the edge
(``woo_backend.api.account``) holds, per action, the presenter that shapes what the function returns.

The action modules (``reads``, ``writes``) fill it with their ``@action`` decorators when they are imported;
``service`` imports them, so an ``AccountService`` always has every action.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from woo_backend.domain.account.params import Params

if TYPE_CHECKING:
    from woo_backend.services.account.service import AccountService


@dataclass(frozen=True)
class Action:
    name: str
    params: type[Params]
    description: str
    run: Callable[[AccountService, int, Any], Any]
    writes: bool = False


ACTIONS: dict[str, Action] = {}


def action(name: str, params: type[Params], description: str, *, writes: bool = False) -> Callable[..., Any]:
    def register(fn: Callable[[AccountService, int, Any], Any]) -> Callable[[AccountService, int, Any], Any]:
        ACTIONS[name] = Action(name, params, description, fn, writes)
        return fn

    return register
