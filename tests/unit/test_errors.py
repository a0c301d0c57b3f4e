"""Every failure has a kind, and every kind a status: a new error class without one fails here."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import woo_backend
from woo_backend.api import STATUS_BY_KIND, native_error
from woo_backend.errors import DomainError, ErrorKind, InvalidRequest, UpstreamError

# Abstract on purpose: they name a family, never a failure.
ABSTRACT = {DomainError, UpstreamError}


def _import_everything() -> None:
    for module in pkgutil.walk_packages(woo_backend.__path__, "woo_backend."):
        importlib.import_module(module.name)


def _subclasses(cls: type[DomainError]) -> list[type[DomainError]]:
    found: list[type[DomainError]] = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def test_every_error_class_has_a_kind_with_a_status_and_a_code() -> None:
    _import_everything()
    classes = [c for c in _subclasses(DomainError) if c not in ABSTRACT]
    assert len(classes) > 40  # the walk reached the whole layer
    for cls in classes:
        kind = getattr(cls, "kind", None)
        assert isinstance(kind, ErrorKind), f"{cls.__module__}.{cls.__qualname__} has no kind"
        assert kind in STATUS_BY_KIND, f"{cls.__qualname__}: kind {kind} has no status"
        assert isinstance(getattr(cls, "code", None), str), f"{cls.__qualname__} has no code"
        assert cls.code, f"{cls.__qualname__} has an empty code"


def test_every_kind_has_a_status() -> None:
    assert set(STATUS_BY_KIND) == set(ErrorKind)


@pytest.mark.parametrize("cls", sorted(ABSTRACT, key=lambda c: c.__name__))
def test_an_abstract_error_cannot_be_raised(cls: type[DomainError]) -> None:
    with pytest.raises(TypeError, match="no kind or code"):
        cls("what went wrong") if cls is DomainError else cls("woocommerce", "down")  # type: ignore[call-arg]


def test_a_subclass_that_forgets_its_kind_cannot_be_raised() -> None:
    class Forgotten(DomainError):
        code = "forgotten"

    with pytest.raises(TypeError):
        Forgotten("no kind")


def test_the_native_shape_takes_the_status_from_the_kind() -> None:
    class Odd(InvalidRequest):
        code = "odd"

    assert native_error(Odd("odd input")) == (400, {"error": {"code": "odd", "message": "odd input"}})
