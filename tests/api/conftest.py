import json

import pytest
from django.test import Client

from portal.models import ApiKey


class ApiClient:
    """The Django test client speaking JSON with a bearer key, through every middleware."""

    def __init__(self, token=None, remote_addr="127.0.0.1"):
        self.token = token
        self.client = Client(REMOTE_ADDR=remote_addr)

    def request(
        self, method, path, body=None, *, raw=None, content_type="application/json", **extra
    ):
        headers = dict(extra.pop("headers", {}))
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        return self.client.generic(
            method, path, data=data, content_type=content_type, headers=headers, **extra
        )

    def get(self, path, params=None, **extra):
        return self.client.get(
            path,
            params or {},
            headers={"Authorization": f"Bearer {self.token}"} if self.token else {},
            **extra,
        )

    def post(self, path, body=None, **kwargs):
        return self.request("POST", path, body, **kwargs)

    def put(self, path, body=None, **kwargs):
        return self.request("PUT", path, body, **kwargs)

    def patch(self, path, body=None, **kwargs):
        return self.request("PATCH", path, body, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def make_key(db):
    def make(user, *, read_only=False, revoked=False):
        api_key, token = ApiKey.objects.issue(user=user, name="test key", read_only=read_only)
        if revoked:
            api_key.revoke()
        return token

    return make


@pytest.fixture
def api_as(make_key):
    """An ApiClient holding a fresh key of `user`."""

    def make(user, **key_options):
        return ApiClient(make_key(user, **key_options))

    return make


@pytest.fixture
def customer_api(api_as, customer_user):
    return api_as(customer_user)


@pytest.fixture
def staff_api(api_as, staff_user):
    return api_as(staff_user)


def error_of(response):
    """The `error` object of an API error response, after checking the shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "field", "details"}, error
    assert (
        error["details"]
        and error["details"][0]["message"] == error["message"]
        or len(error["details"]) > 1
    )
    return error


def fields_in_error(response):
    return {detail["field"] for detail in error_of(response)["details"]}
