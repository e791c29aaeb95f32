"""Test settings: the production settings module on real PostgreSQL, with test secrets."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-" + "x" * 48)
os.environ.setdefault("PORTAL_ENCRYPTION_KEYS", "q1V0Rk5C2ymZrHMj4Pd5pZc1J8Xt2yLwM7uVn3bAqYs=")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("SECURE_COOKIES", "false")

from portal.settings import *  # noqa: E402,F403
from portal.settings import DATABASES  # noqa: E402

if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise RuntimeError(
        "The tests run on PostgreSQL: set DATABASE_URL, or run them with `make test`, "
        "which starts a throwaway server."
    )

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = False
