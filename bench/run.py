"""`make bench`: the portal's performance against its floors; results in docs/benchmarks.md.

Runs on the PostgreSQL and Redis named by DATABASE_URL and REDIS_URL, in a database of its
own (created, filled with bulk inserts, dropped at the end). Every subject is measured
interleaved with its floor in the same run, so a busy machine slows both alike.

    python -m bench.run [--scale full|tiny] [--output docs/benchmarks.md] [--json FILE]
"""

import argparse
import base64
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial
from importlib import metadata
from pathlib import Path

import requests

from . import data, processes
from .measure import ratio, rotated, summary, timed, wrk

REPO = Path(__file__).resolve().parents[1]
API_LIST = "/api/v1/ip-auth/"
PAGE_SIZES = (10, 100, 1000)


@dataclass(frozen=True)
class Scale:
    customers: int
    entries_per_customer: int
    sip_users: int
    bans: int
    unblocks: int
    small_address_view: int
    large_address_view: int
    latency_runs: int
    page_runs: int
    load_rounds: int
    load_seconds: int
    load_threads: int
    load_connections: int
    create_batches: int
    create_batch_size: int
    create_time_limit: int
    sync_runs: int
    gunicorn_workers: int


SCALES = {
    "full": Scale(
        customers=10,
        entries_per_customer=10_000,
        sip_users=1_000,
        bans=10_000,
        unblocks=1_000,
        small_address_view=10_000,
        large_address_view=100_000,
        latency_runs=200,
        page_runs=100,
        load_rounds=3,
        load_seconds=5,
        load_threads=2,
        load_connections=8,
        create_batches=20,
        create_batch_size=500,
        create_time_limit=180,
        sync_runs=5,
        gunicorn_workers=2,
    ),
    # The same code paths on data small enough for the test suite.
    "tiny": Scale(
        customers=2,
        entries_per_customer=60,
        sip_users=4,
        bans=30,
        unblocks=6,
        small_address_view=20,
        large_address_view=60,
        latency_runs=4,
        page_runs=3,
        load_rounds=1,
        load_seconds=1,
        load_threads=1,
        load_connections=2,
        create_batches=2,
        create_batch_size=8,
        create_time_limit=60,
        sync_runs=2,
        gunicorn_workers=1,
    ),
}


def ms(seconds):
    return seconds * 1000


class Bench:
    def __init__(self, scale, workdir, results, profile):
        self.scale = scale
        self.profile = profile
        self.workdir = workdir
        self.results = results
        self.http = requests.Session()
        self.http.trust_env = False

    # --- helpers ---------------------------------------------------------------------------

    def get(self, path, **kwargs):
        response = self.http.get(self.gunicorn.url + path, timeout=60, **kwargs)
        if response.status_code != 200:
            raise RuntimeError(
                f"GET {path}: HTTP {response.status_code}: {response.text[:300]}\n"
                f"gunicorn's log:\n{self.gunicorn.log_tail()}"
            )
        return response

    def api_headers(self):
        return {"Authorization": f"Bearer {self.fixture['token']}"}

    def floor_path(self, limit):
        return f"/bench/floor/ip-auth/?customer={self.fixture['customer_id']}&limit={limit}"

    def local_floor(self, limit):
        from django.db import connection

        from .views import floor_rows

        with connection.cursor() as cursor:
            return floor_rows(cursor, self.fixture["customer_id"], limit)

    # --- 1. API list -----------------------------------------------------------------------

    def api_list(self):
        api_path = f"{API_LIST}?page_size=100"
        api_ids = [
            row["id"] for row in self.get(api_path, headers=self.api_headers()).json()["results"]
        ]
        floor_ids = [row["id"] for row in self.get(self.floor_path(100)).json()["results"]]
        if api_ids != floor_ids or len(api_ids) != min(100, self.scale.entries_per_customer):
            raise RuntimeError("The floor does not read the rows the API lists.")
        samples = {"api": [], "floor_http": [], "floor_local": []}
        measure = {
            "api": lambda: self.get(api_path, headers=self.api_headers()).content,
            "floor_http": lambda: self.get(self.floor_path(100)).content,
            "floor_local": lambda: self.local_floor(100),
        }
        for turn in range(self.scale.latency_runs):
            for name in rotated(list(measure), turn):
                samples[name].append(timed(measure[name])[0])
        figures = {name: summary(values) for name, values in samples.items()}
        self.results["api_list"] = {
            **figures,
            "ratio_http_floor": ratio(figures["api"], figures["floor_http"]),
            "ratio_local_floor": ratio(figures["api"], figures["floor_local"]),
            "queries": self.query_counts(),
        }

    def query_counts(self):
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        client = Client(HTTP_AUTHORIZATION=f"Bearer {self.fixture['token']}")
        client.get(API_LIST)  # the key's once-a-minute "last used" write is not the list's
        counts = {}
        for size in PAGE_SIZES:
            with CaptureQueriesContext(connection) as captured:
                response = client.get(f"{API_LIST}?page_size={size}")
            counts[str(size)] = {
                "queries": len(captured),
                "rows": len(response.json()["results"]),
            }
            if size == 100:
                self.list_queries = [
                    query["sql"] for query in captured if "auth_config_ipauthentry" in query["sql"]
                ]
        return counts

    # --- 2. Auth tab -----------------------------------------------------------------------

    def auth_tab(self):
        cookies = self.fixture["session"]
        page = self.get("/auth/", cookies=cookies).text
        if "bench-customer" not in page and "10.0.0." not in page:
            raise RuntimeError("The Auth tab did not show the customer's entries.")
        samples = {"page": [], "floor_http": []}
        measure = {
            "page": lambda: self.get("/auth/", cookies=cookies).content,
            "floor_http": lambda: self.get(self.floor_path(100)).content,
        }
        for turn in range(self.scale.page_runs):
            for name in rotated(list(measure), turn):
                samples[name].append(timed(measure[name])[0])
        figures = {name: summary(values) for name, values in samples.items()}

        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        client = Client()
        client.cookies.load(cookies)
        with CaptureQueriesContext(connection) as captured:
            client.get("/auth/")
        self.page_queries = [
            query["sql"] for query in captured if "auth_config_ipauthentry" in query["sql"]
        ]
        self.results["auth_tab"] = {
            **figures,
            "ratio": ratio(figures["page"], figures["floor_http"]),
            "queries": len(captured),
            "html_bytes": len(page.encode()),
        }

    # --- 3. Throughput ---------------------------------------------------------------------

    def first_entry_id(self):
        """The entry the single-entry reads fetch: the customer's first in the API's order."""
        from auth_config.models import IpAuthEntry

        return (
            IpAuthEntry.objects.filter(customer_id=self.fixture["customer_id"])
            .order_by("host", "port", "id")
            .values_list("id", flat=True)
            .first()
        )

    def throughput(self):
        entry_id = self.first_entry_id()
        key = f"Authorization: Bearer {self.fixture['token']}"
        floor = self.get(f"/bench/floor/ip-auth/{entry_id}/", headers=self.api_headers()).json()
        api = self.get(f"{API_LIST}{entry_id}/", headers=self.api_headers()).json()
        if floor["id"] != api["id"] or floor["host"] != api["host"]:
            raise RuntimeError("The floor does not read the entry the API reads.")
        targets = {
            "bare": (f"{self.gunicorn.url}/bench/bare/", ()),
            "floor_detail": (f"{self.gunicorn.url}/bench/floor/ip-auth/{entry_id}/", (key,)),
            "api_detail": (f"{self.gunicorn.url}{API_LIST}{entry_id}/", (key,)),
            "api_list_100": (f"{self.gunicorn.url}{API_LIST}?page_size=100", (key,)),
        }
        rounds = {name: [] for name in targets}
        for turn in range(self.scale.load_rounds):
            for name in rotated(list(targets), turn):
                url, headers = targets[name]
                outcome = wrk(
                    url,
                    seconds=self.scale.load_seconds,
                    threads=self.scale.load_threads,
                    connections=self.scale.load_connections,
                    headers=headers,
                )
                if outcome["bad_responses"]:
                    raise RuntimeError(f"{name}: {outcome['bad_responses']} failed requests")
                rounds[name].append(outcome)
        rates = {
            name: summary([r["requests_per_second"] for r in outcomes])
            for name, outcomes in rounds.items()
        }
        self.results["throughput"] = {
            "rounds": rounds,
            "rates": rates,
            "ratio_detail": rates["api_detail"]["median"] / rates["bare"]["median"],
            "ratio_floor_detail": rates["floor_detail"]["median"] / rates["bare"]["median"],
            "ratio_list": rates["api_list_100"]["median"] / rates["bare"]["median"],
            "seconds": self.scale.load_seconds,
            "threads": self.scale.load_threads,
            "connections": self.scale.load_connections,
        }

    # --- 4. Creating entries ---------------------------------------------------------------

    def creates(self):
        from auditlog.models import LogEntry

        from auth_config.models import IpAuthEntry

        url = f"{self.gunicorn.url}{API_LIST}"
        counter = iter(range(1, 10**7))
        local = threading.local()

        def post(audit):
            session = getattr(local, "session", None)
            if session is None:
                session = local.session = requests.Session()
                session.trust_env = False
            host = data.address(100, next(counter))
            response = session.post(
                url,
                json={"host": host},
                headers={**self.api_headers(), "X-Bench-Audit": audit},
                timeout=60,
            )
            if response.status_code != 201:
                raise RuntimeError(f"POST {host}: HTTP {response.status_code}: {response.text}")

        entries_before = IpAuthEntry.objects.count()
        audit_before = LogEntry.objects.count()
        rates = {"on": [], "off": []}
        created = {"on": 0, "off": 0}
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=2 * self.scale.gunicorn_workers) as pool:
            for batch in range(self.scale.create_batches):
                if time.monotonic() - started > self.scale.create_time_limit:
                    break
                audit = "on" if batch % 2 == 0 else "off"
                size = self.scale.create_batch_size
                elapsed, _ = timed(lambda a=audit, n=size: list(pool.map(post, [a] * n)))
                rates[audit].append(size / elapsed)
                created[audit] += size
        self.results["creates"] = {
            "created": created,
            "rows_added": IpAuthEntry.objects.count() - entries_before,
            "audit_entries_added": LogEntry.objects.count() - audit_before,
            "rate_with_audit": summary(rates["on"]),
            "rate_without_audit": summary(rates["off"]),
            "audit_cost": summary(rates["off"])["median"] / summary(rates["on"])["median"],
            "clients": 2 * self.scale.gunicorn_workers,
            "batch_size": self.scale.create_batch_size,
        }

    # --- 5. Sync ---------------------------------------------------------------------------

    def run_sync(self):
        """One sync run by the Celery worker; returns (wall s, round-trips, SyncRun)."""
        from firewall.models import SyncRun
        from firewall.tasks import sync_switches

        last = SyncRun.objects.order_by("-id").values_list("id", flat=True).first() or 0
        calls_before = int(self.redis.get(self.rpc_counter) or 0)
        sync_switches.apply_async()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            run = (
                SyncRun.objects.filter(id__gt=last, finished_at__isnull=False)
                .order_by("-id")
                .first()
            )
            if run is not None:
                break
            time.sleep(0.02)
        else:
            raise RuntimeError(f"No sync run finished:\n{self.celery.log_tail()}")
        if run.outcome != "ok":
            raise RuntimeError(f"The sync did not succeed: {run.summary}")
        calls = int(self.redis.get(self.rpc_counter) or 0) - calls_before
        return (run.finished_at - run.started_at).total_seconds(), calls, run

    def open_unblocks(self, blocks):
        from firewall.models import UnblockRequest

        UnblockRequest.objects.filter(blocked_ip__in=blocks).delete()
        UnblockRequest.objects.bulk_create(UnblockRequest(blocked_ip=block) for block in blocks)

    def sync(self):
        from django.db import connection

        from firewall.models import BlockedIp, SwitchNode

        node = SwitchNode.objects.get(pk=self.fixture["node_id"])
        bans = len(self.switch_bans())
        if bans != self.scale.bans:
            raise RuntimeError(f"Kamailio loaded {bans} bans, not {self.scale.bans}")
        blocks = list(BlockedIp.objects.filter(node=node).order_by("id")[: self.scale.unblocks])
        ips = [block.ip for block in blocks]
        subject, floor, round_trips, runs = [], [], [], []
        for turn in range(self.scale.sync_runs):
            # Every turn starts with every ban in place and every unblock pending.
            missing = set(ips) - self.switch_bans()
            for ip in missing:
                self.kamailio.rpc("htable.sets", "ipban", ip, "unauthorised")
            self.open_unblocks(blocks)
            SwitchNode.objects.filter(pk=node.pk).update(address_reload_pending=True)
            for name in rotated(["sync", "floor"], turn):
                if name == "sync":
                    elapsed, calls, run = self.run_sync()
                    subject.append(elapsed)
                    round_trips.append(calls)
                    runs.append(run.summary)
                    if run.applied != len(blocks):
                        raise RuntimeError(f"Expected {len(blocks)} unblocks: {run.summary}")
                else:
                    floor.append(timed(self.sync_floor, ips)[0])
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM switch_address")
            address_rows = cursor.fetchone()[0]
        figures = {"sync": summary(subject), "floor": summary(floor)}
        self.results["sync"] = {
            **figures,
            "ratio": ratio(figures["sync"], figures["floor"]),
            "round_trips": round_trips,
            "bans": self.scale.bans,
            "unblocks": len(blocks),
            "address_rows": address_rows,
            "runs": runs,
        }

    def switch_bans(self):
        return {
            item["name"]
            for bucket in self.kamailio.rpc("htable.dump", "ipban") or []
            for item in bucket["slot"]
        }

    def sync_floor(self, ips):
        """The same round-trips with a bare client and no database: dump, one command per
        lifted IP (here: ban it again), one reload."""
        if not (self.kamailio.rpc("htable.dump", "ipban")):
            raise RuntimeError("empty ban table")
        for ip in ips:
            self.kamailio.rpc("htable.sets", "ipban", ip, "unauthorised")
        self.kamailio.rpc("permissions.addressReload")

    def reload(self):
        from django.db import connection

        from firewall.models import SwitchNode

        rows = data.set_address_view_size(self.scale.large_address_view)
        node_id = self.fixture["node_id"]

        def view_query():
            with connection.cursor() as cursor:
                cursor.execute("SELECT grp, ip_addr, mask, port, tag FROM switch_address")
                return len(cursor.fetchall())

        def sync_with_reload():
            SwitchNode.objects.filter(pk=node_id).update(address_reload_pending=True)
            return self.run_sync()

        samples = {"reload": [], "view_query": [], "sync": []}
        round_trips = []
        measure = {
            "reload": lambda: self.kamailio.rpc("permissions.addressReload"),
            "view_query": view_query,
        }
        for turn in range(self.scale.sync_runs):
            for name in rotated(["reload", "view_query", "sync"], turn):
                if name == "sync":
                    elapsed, calls, _ = sync_with_reload()
                    samples["sync"].append(elapsed)
                    round_trips.append(calls)
                else:
                    samples[name].append(timed(measure[name])[0])
        loaded = None
        if rows <= 1000:
            # Listing 100,000 addresses over JSON-RPC takes Kamailio minutes: only checked
            # on small data (the test suite's run).
            dump = self.kamailio.rpc("permissions.addressDump")
            loaded = len(dump.get("Address", dump) if isinstance(dump, dict) else dump or [])
        figures = {name: summary(values) for name, values in samples.items()}
        self.results["reload"] = {
            **figures,
            "ratio": ratio(figures["reload"], figures["view_query"]),
            "address_rows": rows,
            "loaded_by_switch": loaded,
            "round_trips": round_trips,
        }

    # --- 6. Memory -------------------------------------------------------------------------

    def gunicorn_peak(self):
        return max((processes.peak_rss_mib(pid) or 0) for pid in self.gunicorn.descendants())

    def celery_peak(self):
        return {
            "main": processes.peak_rss_mib(self.celery.pid),
            "pool": max((processes.peak_rss_mib(pid) or 0) for pid in self.celery.descendants()),
        }

    # --- EXPLAIN ---------------------------------------------------------------------------

    def explains(self):
        from django.db import connection

        from auth_config.models import SipUser

        sip_user = SipUser.objects.order_by("id").first()
        statements = {
            "API list, page of 100: " + label: sql
            for label, sql in zip(("count", "rows"), self.list_queries, strict=False)
        }
        statements.update(
            {
                "Auth tab, page of 25: " + label: sql
                for label, sql in zip(("count", "rows"), self.page_queries, strict=False)
            }
        )
        statements.update(
            {
                "switch_address (Kamailio loads it whole at start and on reload)": (
                    "SELECT grp, ip_addr, mask, port, tag FROM switch_address"
                ),
                "switch_subscriber (one lookup per digest-authenticated call)": (
                    "SELECT ha1, id, channels, flow_speed, whitelist_size FROM switch_subscriber "
                    f"WHERE username = '{sip_user.username}' AND domain = '{sip_user.realm}'"
                ),
                "switch_sip_whitelist (one query per call of a SIP user)": (
                    "SELECT CAST(count(*) AS integer) FROM switch_sip_whitelist "
                    f"WHERE sip_user_id = {sip_user.pk} "
                    "AND inet '198.51.0.7' <<= CAST(cidr AS inet)"
                ),
                "switch_ipban (Kamailio loads it whole at start)": (
                    "SELECT key_name, key_type, value_type, key_value, expires FROM switch_ipban"
                ),
            }
        )
        plans = {}
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            for label, statement in statements.items():
                cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) {statement}")
                plans[label] = {
                    "sql": statement,
                    "plan": "\n".join(row[0] for row in cursor.fetchall()),
                }
        self.results["explain"] = plans

    # --- profiles --------------------------------------------------------------------------

    def profiles(self):
        """Where an API request's time goes, in-process (pyinstrument, bench/requirements.txt).

        Only at full scale: the profiler is the benchmark's own dependency, not the tests'.
        """
        from django.test import Client
        from pyinstrument import Profiler
        from pyinstrument.renderers import ConsoleRenderer

        client = Client(HTTP_AUTHORIZATION=f"Bearer {self.fixture['token']}")
        entry_id = self.first_entry_id()
        paths = {
            "API read of one entry": f"{API_LIST}{entry_id}/",
            "API list of 100": f"{API_LIST}?page_size=100",
        }
        found = {}
        for label, path in paths.items():
            for _ in range(5):
                client.get(path)
            profiler = Profiler()
            profiler.start()
            for _ in range(50):
                client.get(path)
            profiler.stop()
            renderer = ConsoleRenderer(flat=True, flat_time="self", short_mode=True)
            text = profiler.output(renderer)
            found[label] = {
                "requests": 50,
                "seconds": profiler.last_session.duration,
                "flat": "\n".join(text.strip().splitlines()[:35]),
            }
        self.results["profiles"] = found

    def in_process(self):
        """The API read beside the bare view and the same work in raw SQL, and its parts,
        without a profiler or HTTP: what the framework adds, request by request."""
        from django.test import Client

        client = Client(HTTP_AUTHORIZATION=f"Bearer {self.fixture['token']}")
        entry_id = self.first_entry_id()
        targets = {
            "bare": "/bench/bare/",
            "floor_detail": f"/bench/floor/ip-auth/{entry_id}/",
            "api_detail": f"{API_LIST}{entry_id}/",
        }
        measure = {name: partial(client.get, path) for name, path in targets.items()}
        measure.update(self.api_read_parts(entry_id))
        samples = {name: [] for name in measure}
        for turn in range(self.scale.latency_runs * 5):
            for name in rotated(list(measure), turn):
                samples[name].append(timed(measure[name])[0])
        self.results["in_process"] = {name: summary(values) for name, values in samples.items()}

    def api_read_parts(self, entry_id):
        """The parts of an API read of one entry, each alone: {name: callable}."""
        from django.test import RequestFactory
        from rest_framework.renderers import JSONRenderer
        from rest_framework.request import Request

        from auth_config.api.serializers import IpAuthEntrySerializer
        from auth_config.models import IpAuthEntry
        from portal.api.authentication import ApiKeyAuthentication

        raw = RequestFactory().get(
            f"{API_LIST}{entry_id}/", HTTP_AUTHORIZATION=f"Bearer {self.fixture['token']}"
        )
        request = Request(raw, authenticators=[ApiKeyAuthentication()])
        user = request.user
        entry = IpAuthEntry.objects.for_user(user).get(pk=entry_id)
        data = IpAuthEntrySerializer(entry, context={"request": request}).data
        return {
            "part_key": lambda: ApiKeyAuthentication().authenticate(Request(raw)),
            "part_query": lambda: IpAuthEntry.objects.for_user(user).get(pk=entry_id),
            "part_serialiser": lambda: (
                IpAuthEntrySerializer(entry, context={"request": request}).data
            ),
            "part_render": lambda: JSONRenderer().render(data),
        }

    # --- the whole run ---------------------------------------------------------------------

    def run(self, env, base_url, db_url):
        import redis

        self.redis = redis.Redis.from_url(env["REDIS_URL"])
        self.rpc_counter = env["BENCH_RPC_COUNTER"]
        self.results["data_seconds"], self.fixture = timed(
            data.generate, self.scale, rpc_url="http://127.0.0.1:1/RPC"
        )
        self.gunicorn = processes.start_gunicorn(self.workdir, env, self.scale.gunicorn_workers)
        memory = self.results.setdefault("memory", {})
        try:
            self.step("1. API list", self.api_list)
            memory["gunicorn_after_list"] = self.gunicorn_peak()
            self.step("2. Auth tab", self.auth_tab)
            self.step("3. throughput", self.throughput)
            self.step("4. creates", self.creates)
            memory["gunicorn_after_all"] = self.gunicorn_peak()
        finally:
            self.gunicorn.stop()

        from firewall.models import SwitchNode
        from portal.celery import app

        self.results["small_address_view"] = data.set_address_view_size(
            self.scale.small_address_view
        )
        self.kamailio = processes.start_kamailio(
            self.workdir, kamailio_db_url(db_url), shm_mb=512, pkg_mb=128
        )
        try:
            SwitchNode.objects.filter(pk=self.fixture["node_id"]).update(
                rpc_url=self.kamailio.rpc_url, sync_queued_at=None
            )
            # Writes of step 4 queued runs for a switch that did not exist yet.
            app.control.purge()
            self.celery = processes.start_celery(self.workdir, env)
            try:
                self.step("5. sync", self.sync)
                self.step("5. reload", self.reload)
                memory["celery_after_sync"] = self.celery_peak()
            finally:
                self.celery.stop()
                self.redis.delete(self.rpc_counter)
        finally:
            self.kamailio.stop()
        self.step("EXPLAIN", self.explains)
        self.step("in-process", self.in_process)
        if self.profile:
            self.step("profiles", self.profiles)

    def step(self, name, function):
        print(f"bench: {name} ...", flush=True)
        elapsed, _ = timed(function)
        self.results.setdefault("step_seconds", {})[name] = elapsed
        print(f"bench: {name} done in {elapsed:.1f} s", flush=True)


def kamailio_db_url(url):
    # Kamailio's db_postgres wants postgres://user[:password]@host:port/db, like Django's.
    return url.replace("postgresql://", "postgres://", 1)


def machine():
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
    os_name = "unknown"
    release = Path("/etc/os-release")
    if release.exists():
        for line in release.read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')

    def first_line(args):
        try:
            completed = subprocess.run(args, capture_output=True, text=True, timeout=10)
        except OSError:
            return "not installed"
        return (completed.stdout or completed.stderr).strip().splitlines()[0]

    versions = {
        name: metadata.version(name)
        for name in (
            "Django",
            "djangorestframework",
            "gunicorn",
            "celery",
            "psycopg2-binary",
            "django-auditlog",
        )
    }
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "os": f"{os_name}, Linux {platform.release()}",
        "python": platform.python_version(),
        "packages": versions,
        "kamailio": first_line([processes.require_binary("kamailio", "kamailio"), "-v"]),
        "wrk": first_line(["wrk", "-v"]),
    }


def service_versions(env):
    import redis
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
        # What a commit waits for: write figures depend on it.
        durability = []
        for name in ("fsync", "synchronous_commit"):
            cursor.execute(f"SHOW {name}")
            durability.append(f"{name} {cursor.fetchone()[0]}")
    return {
        "postgresql": f"{postgres}; {', '.join(durability)}",
        "redis": redis.Redis.from_url(env["REDIS_URL"]).info("server")["redis_version"],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--output", default=str(REPO / "docs" / "benchmarks.md"))
    parser.add_argument("--json", help="also write the raw figures to this file")
    parser.add_argument("--keep-database", action="store_true")
    args = parser.parse_args(argv)

    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL server (make bench starts one).")
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("Set REDIS_URL (make bench starts a Redis).")
    scale = SCALES[args.scale]
    name = f"portal_bench_{args.scale}_{os.getpid()}"
    db_url = data.database_url(base_url, name)
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "PORTAL_ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_COOKIES": "false",
        "LOG_LEVEL": "WARNING",
        "BENCH_QUEUE": f"bench-{os.getpid()}",
        "BENCH_RPC_COUNTER": f"bench:{os.getpid()}:rpc-calls",
    }
    os.environ.update(env)
    data.recreate_database(base_url, name)
    results = {
        "scale": asdict(scale),
        "database": name,
        "machine": machine(),
        "load_before": os.getloadavg(),
    }
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        results["services"] = service_versions(env)
        with tempfile.TemporaryDirectory(prefix="portal-bench-") as workdir:
            Bench(scale, Path(workdir), results, args.scale == "full").run(env, base_url, db_url)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_database:
            data.drop_database(base_url, name)
    results["load_after"] = os.getloadavg()
    results["finished_at"] = datetime.now(UTC).isoformat()

    from .report import render

    Path(args.output).write_text(render(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    print(f"bench: results written to {args.output}")


if __name__ == "__main__":
    sys.exit(main())
