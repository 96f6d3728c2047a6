"""One exception base per package, with the Dutch user message apart from the
developer message."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

from matcher.errors import MatcherError
from providers.errors import ProvidersError
from services.errors import ServiceError
from wijzer.errors import WijzerError

BASES: dict[str, type[Exception]] = {
    "matcher": MatcherError,
    "providers": ProvidersError,
    "services": ServiceError,
    "wijzer": WijzerError,
}


def _modules(package: str) -> list[str]:
    pkg = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{package}."):
        if ".migrations" in info.name or info.name.endswith("__main__"):
            continue
        names.append(info.name)
    return names


def _own_exceptions(package: str) -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for name in _modules(package):
        module = importlib.import_module(name)
        for obj in vars(module).values():
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseException)
                and obj.__module__.split(".")[0] == package
            ):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return list(found.values())


@pytest.mark.parametrize("package", sorted(BASES))
def test_every_exception_of_a_package_derives_from_its_one_base(package: str) -> None:
    own = _own_exceptions(package)
    assert BASES[package] in own
    strays = [c.__qualname__ for c in own if not issubclass(c, BASES[package])]
    assert strays == []


@pytest.mark.parametrize("base", list(BASES.values()))
def test_user_message_stays_apart_from_the_developer_message(base: type[Exception]) -> None:
    exc = base("row 7: key 'x' not in table", user_message="Rij 7 klopt niet.")  # type: ignore[call-arg]
    assert str(exc) == "row 7: key 'x' not in table"
    assert exc.user_message == "Rij 7 klopt niet."  # type: ignore[attr-defined]
    bare = base()
    assert bare.user_message == base.default_user_message  # type: ignore[attr-defined]
    assert bare.user_message.endswith(".")  # a sentence for a person, not a code


def test_matcher_keeps_developer_text_out_of_the_user_message() -> None:
    # matcher's own messages are for developers unless a Dutch one is given
    assert MatcherError("arc 12 over capacity").user_message == MatcherError.default_user_message
