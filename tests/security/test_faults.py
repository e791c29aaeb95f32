"""Faults, each caused for real: Redis stopped, PostgreSQL stopped, a Celery worker killed in
the middle of a sync. Every part stopped here is a throwaway server or process of the test's
own, started on a free port; the suite's own servers are never touched."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg2
import pytest
import redis
import requests
from auditlog.models import LogEntry
from django.db import connection
from django.db.models.signals import post_save
from django.test import Client

from auth_config.models import IpAuthEntry
from firewall import services as firewall_services
from firewall.models import (
    BlockedIp,
    SwitchNode,
    SyncOutcome,
    SyncRun,
    UnblockRequest,
    UnblockState,
)
from tests.switch.conftest import database_url, free_port
from tests.views.helpers import ip_form

REPO = Path(__file__).resolve().parents[2]
WAIT = 120  # seconds a background part may take to catch up before the test gives up
BLOCKED = "Blocked by firewall"


def wait_for(condition, what, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    pytest.fail(f"gave up waiting: {what}")


class ThrowawayRedis:
    def __init__(self, workdir):
        self.binary = shutil.which("redis-server")
        if not self.binary:
            pytest.fail("redis-server is not installed (Debian's 'redis-server' package)")
        self.workdir = workdir
        self.port = free_port(socket.SOCK_STREAM)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [
                self.binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        client = redis.Redis.from_url(self.url)

        def up():
            if self.process.poll() is not None:
                pytest.fail(f"redis-server exited at start (is port {self.port} taken?)")
            try:
                return client.ping()
            except (redis.ConnectionError, redis.TimeoutError):
                # Refused while it binds, or a reply slowed by a loaded machine: ask again.
                return False

        wait_for(up, "the throwaway Redis to start", timeout=15)
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def throwaway_redis(tmp_path):
    server = ThrowawayRedis(tmp_path)
    yield server
    server.stop()


def portal_env(redis_url, **extra):
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        DATABASE_URL=database_url(),
        REDIS_URL=redis_url,
        PYTHONPATH=str(REPO),
        **extra,
    )
    return env


class Worker:
    """A Celery worker (with the beat scheduler inside) as production runs it."""

    def __init__(self, env, workdir):
        self.env = env
        self.workdir = workdir
        self.log_path = workdir / "worker.log"
        self.process = None

    def start(self):
        log = open(self.log_path, "ab")  # noqa: SIM115 - the process owns it
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "-B",
                "--schedule",
                str(self.workdir / "beat-schedule"),
                "--pool",
                "solo",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        return self

    def kill(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def log(self):
        return self.log_path.read_text(errors="replace")[-4000:]


@pytest.fixture
def workers(tmp_path):
    started = []

    def start(env):
        worker = Worker(env, tmp_path)
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.kill()


SAVE_SCRIPT = """
import sys, django
django.setup()
from django.test import Client
from portal.models import User
from tests.views.helpers import ip_form
client = Client()
client.force_login(User.objects.get(username=sys.argv[1]))
saved = client.post("/auth/ip/new/", ip_form(host=sys.argv[2], port=sys.argv[3]))
listed = client.get("/auth/")
print("statuses", saved.status_code, listed.status_code, sys.argv[2] in listed.content.decode())
"""


@pytest.mark.switch
def test_with_redis_stopped_the_portal_saves_and_the_beat_run_delivers_later(
    start_switch, sipp, source_ip, udp_port, customer_user, throwaway_redis, workers, settings
):
    settings.SWITCH_RELOAD_RETRY_DELAY = 0.5
    switch = start_switch(ADDRESS_RELOAD_DELTA=1)
    node = firewall_services.register_node("edge-redis", switch.rpc_url)
    # Registering queued a first run on the suite's own broker; this test's broker never saw
    # it, so the node must not count as having a run on its way.
    SwitchNode.objects.update(sync_queued_at=None)
    ip = source_ip()
    port = udp_port(ip)
    env = portal_env(throwaway_redis.url, SWITCH_SYNC_INTERVAL="10")

    # Redis is down (never started): the customer still saves, and sees the entry listed.
    saved = subprocess.run(
        [sys.executable, "-c", SAVE_SCRIPT, customer_user.username, ip, str(port)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert saved.returncode == 0, saved.stderr[-3000:]
    assert "statuses 302 200 True" in saved.stdout, saved.stdout + saved.stderr[-3000:]
    assert "Could not queue a switch sync" in saved.stderr
    assert IpAuthEntry.objects.filter(host=ip, customer=customer_user.customer).exists()
    node.refresh_from_db()
    assert node.address_reload_pending
    assert not SyncRun.objects.filter(node=node).exists()

    # Redis comes back; the worker's scheduled run carries the change to the switch.
    throwaway_redis.start()
    worker = workers(env)
    wait_for(
        lambda: (
            SyncRun.objects.filter(node=node, outcome=SyncOutcome.OK).exists()
            and not type(node).objects.get(pk=node.pk).address_reload_pending
        ),
        "the scheduled sync after Redis came back",
    )
    assert "firewall.tasks.sync_switches" in worker.log()
    call = sipp(switch, "call.xml", source_ip=ip, local_port=port)
    assert call.returncode == 0, call.explain()


class Blackhole:
    """A JSON-RPC address that accepts connections and never answers: a hung switch."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/RPC"
        self.connected = threading.Event()
        self.held = []
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)
            self.connected.set()

    def close(self):
        for conn in self.held:
            conn.close()
        self.sock.close()


@pytest.mark.switch
def test_a_worker_killed_during_a_sync_loses_no_unblock(
    start_switch, sipp, source_ip, staff_user, throwaway_redis, workers, settings
):
    settings.SWITCH_RELOAD_RETRY_DELAY = 0.5
    switch = start_switch(ADDRESS_RELOAD_DELTA=1)
    hung = Blackhole()
    # The hung node is synced first, so the worker is inside the sync when it is killed.
    firewall_services.register_node("a-hung", hung.url)
    node = firewall_services.register_node("b-edge", switch.rpc_url)
    SwitchNode.objects.update(sync_queued_at=None)
    ip = source_ip()
    refused = sipp(switch, "refused.xml", source_ip=ip, status=403, reason=BLOCKED)
    assert refused.returncode == 0, refused.explain()
    assert firewall_services.sync_node(node).outcome == SyncOutcome.OK
    block = BlockedIp.objects.open().get(ip=ip)
    firewall_services.request_unblock(user=staff_user, blocked_ips=[block])
    assert ip in switch.bans()

    throwaway_redis.start()
    env = portal_env(throwaway_redis.url, SWITCH_SYNC_INTERVAL="10")
    worker = workers(env)
    queued = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "portal", "call", "firewall.tasks.sync_switches"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert queued.returncode == 0, queued.stderr
    assert hung.connected.wait(WAIT), worker.log()
    worker.kill()

    # Killed mid-run: nothing is marked done that the switch has not confirmed.
    request = UnblockRequest.objects.get(blocked_ip=block)
    assert request.state in (UnblockState.PENDING, UnblockState.RETRYING)
    assert ip in switch.bans()

    # The hung node comes back refusing at once; a new worker's runs finish the job.
    hung.close()
    workers(env)
    wait_for(
        lambda: UnblockRequest.objects.get(pk=request.pk).state == UnblockState.VERIFIED,
        "the unblock to be verified after the worker restarted",
    )
    assert ip not in switch.bans()
    assert UnblockRequest.objects.filter(blocked_ip=block).count() == 1


class ThrowawayPostgres:
    """A PostgreSQL cluster of the test's own (initdb/pg_ctl), which it can stop and start."""

    def __init__(self, workdir):
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not found:
            pytest.fail("PostgreSQL is not installed (Debian's 'postgresql' package)")
        self.bin = found[-1].parent
        self.workdir = workdir
        self.data = workdir / "pg"
        self.port = free_port(socket.SOCK_STREAM)
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, *args):
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def create(self):
        self.data.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres")
            shutil.chown(self.data, "postgres")
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        return self.start()

    def start(self):
        options = f"-h 127.0.0.1 -p {self.port} -k {self.workdir} -c fsync=off"
        self.run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.workdir / "pg.log"),
            "-w",
            "-o",
            options,
            "start",
        )
        return self

    def stop(self):
        if (self.data / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")


@pytest.fixture
def throwaway_postgres():
    # Under /tmp itself: the postgres user cannot reach into pytest's root-only folders.
    workdir = Path(tempfile.mkdtemp(prefix="portal-fault-pg."))
    os.chmod(workdir, 0o755)
    server = ThrowawayPostgres(workdir)
    yield server
    server.stop()
    shutil.rmtree(workdir, ignore_errors=True)


SETUP_SCRIPT = """
import django
django.setup()
from portal.models import ApiKey, Customer, User
customer = Customer.objects.create(name="Fault Test")
user = User.objects.create_user("faulty", password="fault-test-login-pw-2026", customer=customer)
print("token", ApiKey.objects.issue(user=user, name="fault")[1])
"""


@pytest.fixture
def portal_on_throwaway_postgres(throwaway_postgres, tmp_path):
    throwaway_postgres.create()
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="tests.settings",
        DATABASE_URL=throwaway_postgres.url,
        PYTHONPATH=str(REPO),
    )
    for args in (["manage.py", "migrate", "--noinput"], ["-c", SETUP_SCRIPT]):
        done = subprocess.run(
            [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-3000:]
    token = done.stdout.split("token ")[1].strip()
    port = free_port(socket.SOCK_STREAM)
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 - the process owns it
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"

    def serving():
        try:
            return requests.get(f"{base}/accounts/login/", timeout=5).status_code == 200
        except requests.ConnectionError:
            return False

    wait_for(serving, "gunicorn to serve the portal", timeout=60)
    yield base, token, throwaway_postgres
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(20)


def test_with_postgresql_stopped_pages_and_api_answer_503_and_nothing_is_written(
    portal_on_throwaway_postgres,
):
    base, token, postgres = portal_on_throwaway_postgres
    api = {"Authorization": f"Bearer {token}"}
    browser = requests.Session()
    browser.get(f"{base}/accounts/login/")
    logged_in = browser.post(
        f"{base}/accounts/login/",
        {
            "username": "faulty",
            "password": "fault-test-login-pw-2026",
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
        headers={"Referer": f"{base}/accounts/login/"},
    )
    assert logged_in.url == f"{base}/auth/"
    assert requests.get(f"{base}/api/v1/ip-auth/", headers=api).status_code == 200

    postgres.stop()
    page = browser.get(f"{base}/auth/")
    assert page.status_code == 503
    assert "database cannot be reached" in page.text
    assert "Traceback" not in page.text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    listed = requests.get(f"{base}/api/v1/ip-auth/", headers=api)
    assert listed.status_code == 503
    assert listed.json()["error"]["code"] == "service_unavailable"
    saved = browser.post(
        f"{base}/auth/ip/new/",
        {
            "host": "192.0.2.150\n192.0.2.151",
            "direction": "egress",
            "channels": "0",
            "flow_speed": "0",
            "enabled": "on",
            "protocol": "udp",
            "dial_pattern": "e164",
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
        headers={"Referer": f"{base}/auth/ip/new/"},
    )
    assert saved.status_code == 503
    created = requests.post(f"{base}/api/v1/ip-auth/", json={"host": "192.0.2.152"}, headers=api)
    assert created.status_code == 503
    assert "database cannot be reached" in created.json()["error"]["message"]

    # Back up: the portal recovers by itself, and none of the refused saves was written.
    postgres.start()
    wait_for(lambda: browser.get(f"{base}/auth/").status_code == 200, "the portal to recover")
    entries = requests.get(f"{base}/api/v1/ip-auth/", headers=api).json()
    assert entries["count"] == 0


def test_a_connection_lost_in_the_middle_of_a_save_answers_503_and_writes_nothing(
    transactional_db, customer_user
):
    hosts = ["192.0.2.171", "192.0.2.172", "192.0.2.173"]
    client = Client(raise_request_exception=False)
    client.force_login(customer_user)
    saved = []
    audit_entries = LogEntry.objects.count()

    def cut_the_connection(sender, instance, **kwargs):
        # After the second of three entries is saved, PostgreSQL ends this session.
        saved.append(instance.host)
        if len(saved) == 2:
            backend = connection.connection.get_backend_pid()
            with psycopg2.connect(database_url()) as other, other.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [backend])

    post_save.connect(cut_the_connection, sender=IpAuthEntry)
    try:
        response = client.post("/auth/ip/new/", ip_form(host="\n".join(hosts)))
    finally:
        post_save.disconnect(cut_the_connection, sender=IpAuthEntry)
    assert saved[:2] == hosts[:2]
    assert response.status_code == 503
    assert "database cannot be reached" in response.content.decode()

    connection.close()
    assert not IpAuthEntry.objects.filter(host__in=hosts).exists()
    assert LogEntry.objects.count() == audit_entries
    # The portal carries on with a new connection.
    assert client.get("/auth/").status_code == 200
