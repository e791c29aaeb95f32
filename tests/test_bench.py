"""`make bench` still works: the whole benchmark on tiny data, with its real servers.

The figures themselves are never asserted (they are timings); what is checked is that every
benchmark ran and measured what it says it measures.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("bench")
    output, raw = workdir / "benchmarks.md", workdir / "benchmarks.json"
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not os.environ.get(name):
            pytest.fail(f"{name} must name the test suite's server (make test sets it)")
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    completed = subprocess.run(
        [sys.executable, "-m", "bench.run", "--scale", "tiny"]
        + ["--output", str(output), "--json", str(raw)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]
    return output.read_text(), json.loads(raw.read_text())


def test_the_report_has_every_benchmark_with_its_floor_and_the_machine(tiny_run):
    report, _ = tiny_run
    for heading in (
        "## Machine",
        "## Budgets",
        "## 1. API list",
        "## 2. Auth tab",
        "## 3. Throughput under concurrent load",
        "## 4. Creating entries through the API",
        "## 5. Switch sync against the reference Kamailio",
        "## 6. Memory (peak RSS, VmHWM)",
        "## EXPLAIN",
    ):
        assert heading in report
    assert "| cores | " in report and "| PostgreSQL | " in report and "kamailio" in report
    assert "interleaved with its floor" in report


def test_list_query_count_does_not_grow_with_the_page(tiny_run):
    _, results = tiny_run
    counts = results["api_list"]["queries"]
    assert [counts[size]["rows"] for size in ("10", "100")] == [10, 60]
    assert len({count["queries"] for count in counts.values()}) == 1


def test_subjects_and_floors_were_measured_side_by_side(tiny_run):
    _, results = tiny_run
    runs = results["scale"]["latency_runs"]
    for name in ("api", "floor_http", "floor_local"):
        assert results["api_list"][name]["runs"] == runs
    assert results["auth_tab"]["page"]["runs"] == results["auth_tab"]["floor_http"]["runs"]
    rates = results["throughput"]["rates"]
    assert all(
        rates[name]["median"] > 0 for name in ("bare", "floor_detail", "api_detail", "api_list_100")
    )


def test_creating_entries_without_the_audit_log_really_writes_none(tiny_run):
    _, results = tiny_run
    creates = results["creates"]
    assert creates["rows_added"] == creates["created"]["on"] + creates["created"]["off"]
    assert creates["audit_entries_added"] == creates["created"]["on"]


def test_the_sync_ran_against_kamailio_with_one_round_trip_per_unblock(tiny_run):
    _, results = tiny_run
    sync = results["sync"]
    assert sync["round_trips"] == [1 + 1 + sync["unblocks"]] * results["scale"]["sync_runs"]
    reload = results["reload"]
    assert reload["loaded_by_switch"] == reload["address_rows"] == 60
    assert reload["round_trips"] == [2] * results["scale"]["sync_runs"]


def test_memory_was_read_from_the_real_processes(tiny_run):
    _, results = tiny_run
    memory = results["memory"]
    assert memory["gunicorn_after_list"] > 10
    assert memory["celery_after_sync"]["pool"] > 10


def test_the_benchmark_database_is_dropped_afterwards(tiny_run):
    _, results = tiny_run
    database = settings.DATABASES["default"]
    connection = psycopg2.connect(
        dbname="postgres",
        user=database["USER"],
        password=database["PASSWORD"],
        host=database["HOST"],
        port=database["PORT"],
    )
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [results["database"]])
        leftover = cursor.fetchone()[0]
    connection.close()
    assert leftover == 0


def test_the_api_read_was_taken_apart_beside_its_floors(tiny_run):
    report, results = tiny_run
    parts = results["in_process"]
    for name in ("bare", "floor_detail", "api_detail", "part_key", "part_query"):
        assert parts[name]["runs"] == results["scale"]["latency_runs"] * 5
    assert "| of which the API key lookup" in report
