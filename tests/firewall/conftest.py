"""The switch faked at its one module (firewall.switch_client), for the sync state machine."""

import socket
import threading

import pytest
from django.utils import timezone

from firewall import switch_client
from firewall.models import BlockedIp, SwitchNode


class FakeSwitch:
    """One switch node's ban table, with scripted failures."""

    def __init__(self):
        self.bans = {}
        self.down = False
        self.delete_failures = {}  # ip -> exceptions to raise on the next deletes, in order
        self.reload_refusals = 0  # how many reloads to refuse with "ongoing reload"
        self.reload_error = None
        self.calls = []
        self.expire_after_dump = set()  # bans that run out just after the next dump
        self.down_after_deletes = None  # the node dies after this many deletes
        self.dump_gate = None  # a threading.Event the dump waits for, when set
        self.dump_started = threading.Event()
        self.lock = threading.Lock()

    def ban(self, ip, reason="unauthorised"):
        self.bans[ip] = reason


class FakeClient:
    def __init__(self, switch, rpc_url, timeout):
        self.switch = switch
        self.rpc_url = rpc_url
        self.timeout = timeout

    def _unreachable(self, method):
        return switch_client.SwitchUnreachable(f"{method}: cannot connect (connection refused)")

    def dump_bans(self):
        switch = self.switch
        with switch.lock:
            switch.calls.append(("dump",))
        switch.dump_started.set()
        if switch.dump_gate is not None:
            assert switch.dump_gate.wait(30), "the test never opened the gate"
        if switch.down:
            raise self._unreachable("htable.dump")
        dump = dict(switch.bans)
        for ip in switch.expire_after_dump:
            switch.bans.pop(ip, None)
        return dump

    def delete_ban(self, ip):
        switch = self.switch
        with switch.lock:
            switch.calls.append(("delete", ip))
        if switch.down_after_deletes is not None:
            if switch.down_after_deletes == 0:
                switch.down = True
            switch.down_after_deletes -= 1
        if switch.down:
            raise self._unreachable("htable.delete")
        failures = switch.delete_failures.get(ip)
        if failures:
            raise failures.pop(0)
        if switch.bans.pop(ip, None) is None:
            return switch_client.DeleteOutcome.NOT_FOUND
        return switch_client.DeleteOutcome.DELETED

    def reload_addresses(self):
        switch = self.switch
        with switch.lock:
            switch.calls.append(("reload",))
        if switch.down:
            raise self._unreachable("permissions.addressReload")
        if switch.reload_error is not None:
            raise switch.reload_error
        if switch.reload_refusals:
            switch.reload_refusals -= 1
            raise switch_client.ReloadInProgress("permissions.addressReload: 500 ongoing reload")
        return "Reload OK"


@pytest.fixture
def fake_switches(monkeypatch):
    """{rpc_url: FakeSwitch}; every SwitchClient the services create talks to one of these."""
    switches = {}

    def make_client(rpc_url, timeout=None):
        return FakeClient(switches.setdefault(rpc_url, FakeSwitch()), rpc_url, timeout)

    monkeypatch.setattr(switch_client, "SwitchClient", make_client)
    return switches


@pytest.fixture
def node(db):
    return SwitchNode.objects.create(name="sw1", rpc_url="http://127.0.0.1:5071/RPC")


@pytest.fixture
def switch(fake_switches, node):
    fake = FakeSwitch()
    fake_switches[node.rpc_url] = fake
    return fake


@pytest.fixture(autouse=True)
def quick_reload_retries(settings):
    settings.SWITCH_RELOAD_RETRY_DELAY = 0


def open_block(node, ip, reason="unauthorised", customer=None):
    now = timezone.now()
    return BlockedIp.objects.create(
        node=node, ip=ip, reason=reason, first_seen=now, last_seen=now, customer=customer
    )


@pytest.fixture
def broker():
    """The real Redis broker the tests run with; its default queue is emptied afterwards."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("celery")
    yield client
    client.delete("celery")


@pytest.fixture
def broker_down(broker):
    """Point the Celery app at a port where nothing listens, as when Redis is down."""
    from portal.celery import app

    def reset_pools():
        app._pool = None
        app.amqp._producer_pool = None

    saved = app.conf.broker_url
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app.conf.broker_url = f"redis://127.0.0.1:{port}/0"
    reset_pools()
    yield
    app.conf.broker_url = saved
    reset_pools()
