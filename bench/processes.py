"""The real servers the benchmarks measure: gunicorn, the Celery worker and Kamailio.

Each one gets free loopback ports, its own process group (so stopping it stops its children),
and a log file in the benchmark's work folder.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
KAMAILIO_CFG = REPO / "deploy" / "kamailio" / "kamailio.cfg"
START_TIMEOUT = 60


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_binary(name, package):
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin:/sbin")
    if not path:
        raise SystemExit(f"{name} is not installed: install Debian's '{package}' package.")
    return path


class Process:
    def __init__(self, name, args, workdir, env=None):
        self.name = name
        self.args = args
        self.log_path = Path(workdir) / f"{name}.log"
        self.env = env
        self.process = None

    def start(self):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=REPO,
                env=self.env,
                start_new_session=True,
            )
        return self

    def wait_until(self, ready, what):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start:\n{self.log_tail()}")
            try:
                if ready():
                    return self
            except (requests.ConnectionError, requests.Timeout):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name}: {what} within {START_TIMEOUT} s:\n{self.log_tail()}")

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

    def log_tail(self, lines=30):
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    @property
    def pid(self):
        return self.process.pid

    def descendants(self):
        """Every live process below this one (gunicorn's workers, Celery's pool)."""
        found, queue = [], [self.pid]
        while queue:
            pid = queue.pop()
            try:
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                found.append(child)
                queue.append(child)
        return found


def peak_rss_mib(pid):
    """The process's peak resident set size so far (VmHWM), in MiB; None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def start_gunicorn(workdir, env, workers):
    port = free_port()
    process = Process(
        "gunicorn",
        [
            sys.executable,
            *("-m", "gunicorn", "portal.wsgi:application"),
            *("--bind", f"127.0.0.1:{port}", "--workers", str(workers)),
            *("--worker-class", "sync", "--timeout", "120", "--log-level", "warning"),
        ],
        workdir,
        env,
    ).start()
    process.url = f"http://127.0.0.1:{port}"
    return process.wait_until(
        lambda: requests.get(f"{process.url}/bench/bare/", timeout=2).status_code == 200,
        "no answer",
    )


def start_celery(workdir, env):
    process = Process(
        "celery",
        [
            sys.executable,
            *("-m", "celery", "-A", "bench.celery_app", "worker"),
            # One pool process, so its peak memory is the sync's and nothing else's.
            *("--pool", "prefork", "--concurrency", "1", "--loglevel", "WARNING"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
        ],
        workdir,
        env,
    ).start()
    # The pool process exists once the worker is ready to take tasks.
    return process.wait_until(lambda: len(process.descendants()) >= 1, "no pool process")


def start_kamailio(workdir, db_url, *, shm_mb, pkg_mb):
    binary = require_binary("kamailio", "kamailio")
    sip_port = free_port(socket.SOCK_DGRAM)
    rpc_port = free_port()
    relay_port = free_port(socket.SOCK_DGRAM)
    process = Process(
        "kamailio",
        [
            binary,
            *("-f", str(KAMAILIO_CFG), "-DD", "-E", "-m", str(shm_mb), "-M", str(pkg_mb)),
            *("-Y", str(workdir), "-w", str(workdir)),
            *("-A", f'DBURL="{db_url}"'),
            *("-A", f"SIP_LISTEN=udp:127.0.0.1:{sip_port}"),
            *("-A", f"RPC_LISTEN=tcp:127.0.0.1:{rpc_port}"),
            *("-A", f'RELAY="sip:127.0.0.1:{relay_port}"'),
            *("-A", "UDP_CHILDREN=2"),
            # No spacing between address reloads: the benchmark serialises them itself, and
            # a refused reload would add the sync's retry delay to the figure.
            *("-A", "ADDRESS_RELOAD_DELTA=0"),
        ],
        workdir,
    ).start()
    process.rpc_url = f"http://127.0.0.1:{rpc_port}/RPC"
    session = requests.Session()
    session.trust_env = False

    def rpc(method, *params):
        body = {"jsonrpc": "2.0", "method": method, "params": list(params), "id": 1}
        answer = session.post(process.rpc_url, json=body, timeout=60).json()
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    process.rpc = rpc
    return process.wait_until(lambda: rpc("core.version") is not None, "no JSON-RPC answer")
