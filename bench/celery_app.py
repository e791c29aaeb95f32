"""The portal's Celery app, counting every JSON-RPC round-trip to a switch in Redis.

The count wraps firewall/switch_client.py's one entry point; the calls themselves are real.
"""

import os

import redis

from firewall import switch_client
from portal.celery import app

__all__ = ["app"]

COUNTER_KEY = os.environ.get("BENCH_RPC_COUNTER", "bench:rpc-calls")
_redis = redis.Redis.from_url(os.environ["REDIS_URL"])
_call = switch_client.SwitchClient.call


def _counted_call(self, method, *params):
    _redis.incr(COUNTER_KEY)
    return _call(self, method, *params)


switch_client.SwitchClient.call = _counted_call
