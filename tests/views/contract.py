"""The access rules every Auth-tab page must keep, written once.

Each page's test class inherits `AuthTabViewContract` and says how to reach the page; a test in
test_view_contracts.py fails when a URL of auth_config has no such class.
"""

from urllib.parse import quote

from django.urls import reverse

from .helpers import login


class AuthTabViewContract:
    url_names = ()  # the auth_config URL names this class covers
    method = "get"

    def make_entry(self, customer):
        """The entry the request is about (None for pages about no single entry)."""
        return None

    def url(self, entry):
        raise NotImplementedError

    def payload(self, entry, user):
        return {}

    def send(self, client, entry, user=None):
        send = getattr(client, self.method)
        if self.method == "get":
            return send(self.url(entry))
        return send(self.url(entry), self.payload(entry, user))

    def state(self, customer):
        """What a refused request must leave untouched."""
        return None

    # What each page does for a caller who may not act on the entry, and for staff.
    def assert_out_of_reach(self, response, entry, customer):
        assert response.status_code == 404

    def assert_staff_allowed(self, response, entry):
        assert response.status_code in (200, 302)

    def test_anonymous_is_redirected_to_login(self, client, customer):
        entry = self.make_entry(customer)
        before = self.state(customer)
        response = self.send(client, entry)
        assert response.status_code == 302
        assert response.url == f"{reverse('login')}?next={quote(self.url(entry))}"
        assert self.state(customer) == before

    def test_other_customers_entry_is_out_of_reach(self, customer, other_customer_user):
        entry = self.make_entry(customer)
        before = self.state(customer)
        response = self.send(login(other_customer_user), entry, other_customer_user)
        self.assert_out_of_reach(response, entry, customer)
        assert self.state(customer) == before

    def test_staff_is_allowed(self, customer, staff_user):
        entry = self.make_entry(customer)
        response = self.send(login(staff_user), entry, staff_user)
        self.assert_staff_allowed(response, entry)


class StaffOnlyFieldsContract:
    """For form pages: customers cannot set the fields the product page reserves for staff."""

    staff_only_value = {}  # one staff-only field and a value a customer may not set

    def staff_only_payload(self, entry, user):
        return {**self.payload(entry, user), **self.staff_only_value}

    def test_customer_posting_a_staff_only_field_is_refused(self, customer, customer_user):
        entry = self.make_entry(customer)
        before = self.state(customer)
        response = login(customer_user).post(
            self.url(entry), self.staff_only_payload(entry, customer_user)
        )
        assert response.status_code == 400
        (name,) = self.staff_only_value
        assert "contact support" in " ".join(response.context["form"].errors[name])
        assert self.state(customer) == before

    def test_customer_is_not_offered_staff_only_inputs(self, customer, customer_user):
        entry = self.make_entry(customer)
        html = login(customer_user).get(self.url(entry)).content.decode()
        (name,) = self.staff_only_value
        assert f'name="{name}"' not in html
        assert "contact support" in html

    def test_staff_can_set_staff_only_fields(self, customer, staff_user):
        entry = self.make_entry(customer)
        response = login(staff_user).post(
            self.url(entry), self.staff_only_payload(entry, staff_user)
        )
        assert response.status_code == 302, response.context["form"].errors
        self.assert_staff_only_value_saved(customer)
