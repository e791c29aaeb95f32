"""Timing, statistics and the load tool."""

import math
import re
import shutil
import statistics
import subprocess
import time


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def percentile(samples, fraction):
    """Nearest-rank percentile: a value that was measured, never an interpolation."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def summary(samples):
    return {
        "runs": len(samples),
        "median": statistics.median(samples),
        "p95": percentile(samples, 0.95),
    }


def ratio(subject, floor):
    return {
        "median": subject["median"] / floor["median"],
        "p95": subject["p95"] / floor["p95"],
    }


def rotated(items, turn):
    """`items` starting at a different one each turn, so no subject always goes first."""
    turn %= len(items)
    return items[turn:] + items[:turn]


def wrk(url, *, seconds, threads, connections, headers=()):
    """Requests per second that wrk reaches against `url` for `seconds` (loopback only)."""
    binary = shutil.which("wrk")
    if binary is None:
        raise SystemExit("wrk is not installed: install Debian's 'wrk' package.")
    args = [binary, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    args += ["--timeout", "10s"]
    for header in headers:
        args += ["-H", header]
    completed = subprocess.run(
        [*args, url], capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    output = completed.stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if completed.returncode != 0 or found is None:
        raise RuntimeError(f"wrk failed on {url}:\n{output}\n{completed.stderr}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    median_latency = re.search(r"^\s+50%\s+(\S+)", output, flags=re.M)
    return {
        "requests_per_second": float(found.group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "bad_responses": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1).strip() if errors else "",
        "median_latency": median_latency.group(1) if median_latency else "",
    }
