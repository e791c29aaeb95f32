"""The checks every API route must pass, inherited by each route's test class.

A test class per route subclasses `CustomerEndpointContract` (routes customers use on their
own objects) or `StaffEndpointContract` (operator staff only), names its `route` (URL name in
the `api` namespace) and says how to build the object it concerns and which requests it
serves. The inherited tests then check every method: no key and a revoked or unknown key are
401, a read-only key writing is 403, another customer's object is 404 and absent from lists
(customer routes) or a customer is 403 (staff routes), the owner and staff get what they asked
for, and a refused request changes nothing. `test_route_coverage.py` fails when a route has no
such class.
"""

from django.forms.models import model_to_dict
from django.urls import reverse

from portal.models import ApiKey
from tests.api.conftest import ApiClient, error_of
from tests.factories import UserFactory

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def key_for(user, read_only=False):
    return ApiKey.objects.issue(user=user, name="contract", read_only=read_only)[1]


class EndpointContract:
    route = None  # URL name in the `api` namespace, e.g. "ip-auth-detail"
    model = None  # the model whose rows the route reads or changes
    detail = True  # the route concerns one object, whose id is in the path
    staff_only = False
    # Status of each method's success.
    success = {"GET": 200, "POST": 200, "PUT": 200, "PATCH": 200, "DELETE": 204}

    def make_object(self, customer):
        """An object of `customer` the route concerns (for a collection: one it lists)."""
        raise NotImplementedError

    def requests(self, obj, *, staff=False):
        """{method: JSON body or None}: a valid request of each method the route serves."""
        raise NotImplementedError

    def path(self, obj):
        return reverse(f"api:{self.route}", kwargs={"pk": obj.pk} if self.detail else {})

    def snapshot(self):
        """Every row of the model, to show that a refused request changed nothing."""
        return sorted(str(sorted(model_to_dict(row).items())) for row in self.model.objects.all())

    def calls(self, obj, *, staff=False):
        return [
            (method, self.path(obj), body)
            for method, body in self.requests(obj, staff=staff).items()
        ]

    def listed_ids(self, response):
        return {item["id"] for item in response.json()["results"]}

    def check_success_for(self, users, customer):
        for user in users:
            api = ApiClient(key_for(user))
            for method in self.requests(self.make_object(customer), staff=user.is_staff):
                # A fresh object for each method, so a DELETE cannot spoil the next request.
                obj = self.make_object(customer)
                body = self.requests(obj, staff=user.is_staff)[method]
                response = api.request(method, self.path(obj), body)
                assert response.status_code == self.success[method], (
                    user.username,
                    method,
                    response.content,
                )
                assert response["Cache-Control"] == "no-store"

    def test_without_a_key_every_method_is_401(self, customer):
        obj = self.make_object(customer)
        before = self.snapshot()
        for method, path, body in self.calls(obj):
            response = ApiClient().request(method, path, body)
            assert response.status_code == 401, (method, path, response.content)
            assert error_of(response)["code"] == "not_authenticated"
            assert response["WWW-Authenticate"].startswith("Bearer")
        assert self.snapshot() == before

    def test_revoked_or_unknown_key_is_401(self, customer, customer_user, staff_user, make_key):
        obj = self.make_object(customer)
        before = self.snapshot()
        revoked = make_key(staff_user if self.staff_only else customer_user, revoked=True)
        for token in (revoked, revoked[:-2] + "xx", "not-a-key"):
            for method, path, body in self.calls(obj, staff=self.staff_only):
                response = ApiClient(token).request(method, path, body)
                assert response.status_code == 401, (method, path, response.content)
                assert error_of(response)["code"] == "authentication_failed"
        assert self.snapshot() == before

    def test_read_only_key_reads_but_cannot_write(self, customer, customer_user, staff_user):
        user = staff_user if self.staff_only else customer_user
        api = ApiClient(key_for(user, read_only=True))
        for method, path, body in self.calls(self.make_object(customer), staff=self.staff_only):
            before = self.snapshot()
            response = api.request(method, path, body)
            if method in SAFE_METHODS:
                assert response.status_code == self.success[method], (method, response.content)
            else:
                assert response.status_code == 403, (method, path, response.content)
                error = error_of(response)
                assert error["code"] == "permission_denied"
                assert "read-only" in error["message"]
                assert self.snapshot() == before


class CustomerEndpointContract(EndpointContract):
    """A route customers use on their own objects; staff reach every customer's."""

    def test_another_customers_object_is_404_and_not_listed(self, customer_user):
        theirs = self.make_object(UserFactory().customer)
        api = ApiClient(key_for(customer_user))
        before = self.snapshot()
        for method, path, body in self.calls(theirs):
            response = api.request(method, path, body)
            if self.detail:
                assert response.status_code == 404, (method, path, response.content)
                assert error_of(response)["code"] == "not_found"
            elif method == "GET":
                assert response.status_code == 200
                assert theirs.pk not in self.listed_ids(response)
            else:
                self.check_collection_write_on_foreign_object(response, method, theirs)
        if self.detail:
            assert self.snapshot() == before

    def check_collection_write_on_foreign_object(self, response, method, theirs):
        raise NotImplementedError

    def test_owner_and_staff_succeed(self, customer, customer_user, staff_user):
        self.check_success_for([customer_user, staff_user], customer)


class StaffEndpointContract(EndpointContract):
    """A route only operator staff may use."""

    staff_only = True

    def test_staff_succeed(self, customer, staff_user):
        self.check_success_for([staff_user], customer)

    def test_customers_get_403(self, customer, customer_user):
        api = ApiClient(key_for(customer_user))
        before = self.snapshot()
        for method, path, body in self.calls(self.make_object(customer)):
            response = api.request(method, path, body)
            assert response.status_code == 403, (method, path, response.content)
            assert error_of(response)["code"] == "permission_denied"
        assert self.snapshot() == before
