"""Helpers for the security tests: the portal run as production runs it, in a subprocess."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

# The reference switch and sipp, for the fault tests that must see a change reach the switch.
from tests.switch.conftest import core, sipp, source_ip, start_switch, udp_port  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
TEST_FERNET_KEY = "q1V0Rk5C2ymZrHMj4Pd5pZc1J8Xt2yLwM7uVn3bAqYs="


def production_env(**overrides):
    """The environment of a production start: DJANGO_ENV=production and real-looking secrets.

    Variables the test settings set for themselves are dropped, so the subprocess sees only
    what a production deployment would.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PORTAL_", "SECURE_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(60),
        PORTAL_ENCRYPTION_KEYS=TEST_FERNET_KEY,
        DJANGO_ALLOWED_HOSTS="portal.example.com",
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_python(args, env, timeout=120):
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def run_in_production():
    def run(args, **overrides):
        return run_python(args, production_env(**overrides))

    return run
