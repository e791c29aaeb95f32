"""Every route under /api/v1/ has a test class inheriting the endpoint contract."""

import importlib
import pkgutil
from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver

import tests
from tests.api.contract import CustomerEndpointContract, EndpointContract, StaffEndpointContract

# The catch-all that answers unknown paths with a JSON 404; it serves no resource.
NOT_A_RESOURCE = {"not-found"}


def api_route_names():
    (api,) = [
        entry
        for entry in get_resolver().url_patterns
        if isinstance(entry, URLResolver) and entry.namespace == "api"
    ]

    def walk(patterns):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns)
            elif isinstance(entry, URLPattern) and entry.name:
                yield entry.name

    return set(walk(api.url_patterns)) - NOT_A_RESOURCE


def contract_classes():
    """Import every test module that uses the contract, then collect its test classes."""
    root = Path(tests.__file__).parent
    for module in pkgutil.walk_packages([str(root)], prefix="tests."):
        source = root.joinpath(*module.name.split(".")[1:])
        path = source.with_suffix(".py") if not module.ispkg else source / "__init__.py"
        if path.exists() and "EndpointContract" in path.read_text():
            importlib.import_module(module.name)
    found, pending = set(), [CustomerEndpointContract, StaffEndpointContract]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            pending.append(sub)
            if sub.__name__.startswith("Test"):
                found.add(sub)
    return found


def test_every_api_route_has_a_contract_test_class():
    covered = {cls.route for cls in contract_classes()}
    missing = api_route_names() - covered
    assert not missing, (
        f"API routes without a test class inheriting tests.api.contract: {sorted(missing)}"
    )


def test_contract_classes_name_real_routes():
    routes = api_route_names()
    for cls in contract_classes():
        assert issubclass(cls, EndpointContract)
        assert cls.route in routes, f"{cls.__name__}.route = {cls.route!r} is not an API route"


def test_the_routes_of_this_app_are_found():
    assert {
        "ip-auth-list",
        "ip-auth-detail",
        "ip-auth-bulk-delete",
        "ip-auth-audit-log",
        "sip-user-list",
        "sip-user-detail",
        "sip-user-bulk-delete",
        "sip-user-audit-log",
        "sip-user-password",
    } <= api_route_names()
