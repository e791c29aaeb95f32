"""The production settings, plus the benchmark's floor views and an audit-log switch.

Only `make bench` uses this module: the extra routes and the header that turns the audit log
off for one request exist nowhere else.
"""

import os

from portal.settings import *  # noqa: F403
from portal.settings import MIDDLEWARE

ROOT_URLCONF = "bench.urls"
MIDDLEWARE = [*MIDDLEWARE, "bench.views.AuditSwitchMiddleware"]
# A queue of the benchmark's own, so a shared Redis never hands its tasks to another worker.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("BENCH_QUEUE", "bench")
