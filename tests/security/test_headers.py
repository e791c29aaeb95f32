"""Security headers on every kind of response, and CSRF on every form and htmx request."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from auth_config.models import IpAuthEntry
from tests.factories import IpAuthEntryFactory
from tests.otp import verify_second_factor
from tests.views.helpers import ip_form


def login(user):
    client = Client()
    client.force_login(user)
    return verify_second_factor(client, user)


def csp_directives(response):
    policy = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


def assert_security_headers(response):
    directives = csp_directives(response)
    scripts = directives.get("script-src", directives["default-src"])
    assert scripts == ["'self'"], scripts
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("anonymous", "/accounts/login/"),
        ("anonymous", "/auth/"),
        ("anonymous", "/no-such-page/"),
        ("anonymous", "/api/v1/ip-auth/"),
        ("anonymous", "/api/docs/"),
        ("anonymous", "/api/schema/"),
        ("customer", "/auth/"),
        ("customer", "/auth/ip/new/"),
        ("customer", "/api-keys/"),
        ("customer", "/firewall/"),
        ("staff", "/firewall/"),
        ("staff", "/admin/"),
    ],
)
def test_every_kind_of_response_carries_the_security_headers(who, path, customer_user, staff_user):
    client = {"anonymous": Client(), "customer": None, "staff": None}[who] or login(
        customer_user if who == "customer" else staff_user
    )
    response = client.get(path)
    assert response.status_code in (200, 302, 401, 403, 404)
    assert_security_headers(response)


@pytest.mark.django_db
def test_a_bad_request_error_page_carries_the_headers():
    client = Client(raise_request_exception=False)
    response = client.get("/auth/", HTTP_HOST="evil.example.net")
    assert response.status_code == 400
    assert_security_headers(response)


def test_production_sends_hsts_and_redirects_plain_http(run_in_production):
    script = (
        "import django; django.setup(); from django.test import Client; c = Client(); "
        "r = c.get('/accounts/login/', HTTP_HOST='portal.example.com', secure=True); "
        "print(r.status_code, r['Strict-Transport-Security']); "
        "r = c.get('/accounts/login/', HTTP_HOST='portal.example.com'); "
        "print(r.status_code, r['Location'])"
    )
    result = run_in_production(["-c", script])
    assert result.returncode == 0, result.stderr
    secure, plain = result.stdout.strip().splitlines()[-2:]
    status, hsts = secure.split(" ", 1)
    assert status == "200"
    assert re.fullmatch(r"max-age=(\d+); includeSubDomains; preload", hsts)
    assert int(hsts.split("=")[1].split(";")[0]) >= 31536000
    assert plain == "301 https://portal.example.com/accounts/login/"


@pytest.mark.django_db
def test_development_sends_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/accounts/login/")


POST_FORM = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", re.S | re.I)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("anonymous", "/accounts/login/"),
        ("customer", "/auth/"),
        ("customer", "/auth/ip/new/"),
        ("customer", "/auth/sip/new/"),
        ("customer", "/api-keys/"),
        ("staff", "/firewall/"),
        ("staff", "/auth/"),
    ],
)
def test_every_post_form_carries_a_csrf_token(who, path, customer_user, staff_user):
    IpAuthEntryFactory(customer=customer_user.customer)
    client = (
        Client()
        if who == "anonymous"
        else login(customer_user if who == "customer" else staff_user)
    )
    html = client.get(path).content.decode()
    forms = POST_FORM.findall(html)
    assert forms, f"{path} should have a form to check"
    for body in forms:
        assert 'name="csrfmiddlewaretoken"' in body


@pytest.mark.django_db
def test_htmx_requests_carry_the_csrf_token_and_are_refused_without_it(customer_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer_user)
    page = client.get("/auth/").content.decode()
    token = re.search(r"<body hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'>", page)[1]
    url = reverse("auth_config:ip_create")
    data = ip_form(host="198.51.100.33")

    refused = client.post(url, data, HTTP_HX_REQUEST="true")
    assert refused.status_code == 403
    assert not IpAuthEntry.objects.filter(customer=customer_user.customer).exists()

    accepted = client.post(url, data, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code in (200, 302)
    assert IpAuthEntry.objects.filter(customer=customer_user.customer).count() == 1
