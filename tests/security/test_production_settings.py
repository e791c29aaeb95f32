"""Production (DJANGO_ENV=production) passes Django's deployment checks and refuses unsafe
configuration at start-up, with a message naming the setting to fix."""

import pytest

START = ["-c", "import django; django.setup(); print('started')"]


def test_deploy_check_passes_with_production_settings(run_in_production):
    result = run_in_production(["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_starts_with_sound_settings(run_in_production):
    result = run_in_production(START)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"DJANGO_DEBUG": "true"}, "DJANGO_DEBUG"),
        ({"DJANGO_SECRET_KEY": None}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "dev-only-insecure-secret-key-change-me"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "short-but-random-Xq81"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "ab" * 40}, "DJANGO_SECRET_KEY"),
        ({"PORTAL_ENCRYPTION_KEYS": None}, "PORTAL_ENCRYPTION_KEYS"),
        ({"PORTAL_ENCRYPTION_KEYS": ""}, "PORTAL_ENCRYPTION_KEYS"),
        ({"DJANGO_ALLOWED_HOSTS": None}, "DJANGO_ALLOWED_HOSTS"),
        ({"DJANGO_ENV": "prod"}, "DJANGO_ENV"),
        ({"DNS_NAMESERVER": "dns.example:53"}, "DNS_NAMESERVER"),
    ],
    ids=[
        "debug-on",
        "no-secret-key",
        "default-secret-key",
        "short-secret-key",
        "repetitive-secret-key",
        "no-encryption-key",
        "empty-encryption-key",
        "no-allowed-hosts",
        "misspelt-environment",
        "name-server-not-an-address",
    ],
)
def test_production_refuses_to_start(run_in_production, overrides, named):
    result = run_in_production(START, **overrides)
    assert result.returncode != 0
    assert "started" not in result.stdout
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr.strip().splitlines()[-1]


def test_production_turns_on_https_only_cookies_and_hsts(run_in_production):
    result = run_in_production(
        [
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
            "s.SECURE_HSTS_SECONDS >= 31536000, s.DEBUG)",
        ],
        SECURE_COOKIES="false",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "True", "False"]


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("192.0.2.53", "('192.0.2.53', 53)"),
        ("192.0.2.53:5353", "('192.0.2.53', 5353)"),
        ("[2001:db8::53]:5353", "('2001:db8::53', 5353)"),
        ("2001:db8::53", "('2001:db8::53', 53)"),
        ("", "None"),
    ],
)
def test_the_name_server_for_hostnames_is_read_from_the_environment(run_in_production, given, used):
    result = run_in_production(
        [
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "print(s.DNS_NAMESERVER)",
        ],
        DNS_NAMESERVER=given,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == used
