"""Fixtures for the switch tests: the reference Kamailio on loopback, reading the test
database, a sipp UAS standing in for the carrier's core, and sipp UACs as customers.

Every instance gets free ports, so the suite can run several times side by side. A missing
Kamailio or sipp fails the tests: they are never skipped.
"""

import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import escape

import pytest
import requests
from django.db import connection

REPO = Path(__file__).resolve().parents[2]
KAMAILIO_CFG = REPO / "deploy" / "kamailio" / "kamailio.cfg"
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
CALLED_NUMBER = "4930123456"
START_TIMEOUT = 15
SIPP_TIMEOUT = 20

# Each test calls from its own loopback addresses; sipp binds them without any set-up.
_source_ips = (f"127.0.{a}.{b}" for a in itertools.count(10) for b in range(2, 250))


def require_binary(name, package):
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin:/sbin")
    if not path:
        pytest.fail(
            f"{name} is not installed; the switch tests need Debian's '{package}' package "
            f"(deploy/dev/ensure-test-packages.sh installs it)."
        )
    return path


def free_port(kind=socket.SOCK_DGRAM, ip="127.0.0.1"):
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((ip, 0))
        return sock.getsockname()[1]


def database_address():
    settings = connection.settings_dict
    return settings["HOST"] or "localhost", int(settings["PORT"] or 5432)


def database_url(address=None):
    """Kamailio's URL of the database this test runs on (pytest-django's test database)."""
    settings = connection.settings_dict
    host, port = address or database_address()
    user = quote(settings["USER"] or "", safe="")
    password = settings["PASSWORD"]
    credentials = f"{user}:{quote(password, safe='')}" if password else user
    return f"postgres://{credentials}@{host}:{port}/{settings['NAME']}"


def literal_regexp(text):
    """POSIX extended regexp matching text literally (sipp's ereg)."""
    return re.sub(r"([.\[\](){}*+?|^$\\])", r"\\\1", text)


@pytest.fixture
def source_ip():
    """A fresh loopback source address: one customer IP for one test case."""
    return lambda: next(_source_ips)


@pytest.fixture
def udp_port():
    """A free UDP port on the given source address, for a caller whose port must be known."""
    return lambda ip: free_port(socket.SOCK_DGRAM, ip)


class RpcError(Exception):
    def __init__(self, status, error):
        super().__init__(f"HTTP {status}: {error}")
        self.status = status
        self.error = error


class Switch:
    """One Kamailio process running deploy/kamailio/kamailio.cfg."""

    def __init__(self, binary, workdir, relay_port, db_url, defines):
        self.binary = binary
        self.workdir = workdir
        self.relay_port = relay_port
        self.db_url = db_url
        self.defines = defines
        self.sip_port = free_port(socket.SOCK_DGRAM)
        self.rpc_port = free_port(socket.SOCK_STREAM)
        self.address = ("127.0.0.1", self.sip_port)
        self.rpc_url = f"http://127.0.0.1:{self.rpc_port}/RPC"
        self.log_path = workdir / f"kamailio-{self.sip_port}.log"
        self.process = None

    def command(self):
        args = [
            self.binary,
            *("-f", str(KAMAILIO_CFG), "-DD", "-E", "-m", "64", "-M", "16"),
            *("-Y", str(self.workdir), "-w", str(self.workdir)),
            *("-A", f'DBURL="{self.db_url}"'),
            *("-A", f"SIP_LISTEN=udp:127.0.0.1:{self.sip_port}"),
            *("-A", f"RPC_LISTEN=tcp:127.0.0.1:{self.rpc_port}"),
            *("-A", f'RELAY="sip:127.0.0.1:{self.relay_port}"'),
            *("-A", "UDP_CHILDREN=2"),
        ]
        for name, value in self.defines.items():
            args += ["-A", name if value is True else f"{name}={value}"]
        return args

    def start(self):
        log = open(self.log_path, "ab")  # noqa: SIM115 - the process owns it until stop()
        self.process = subprocess.Popen(
            self.command(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.workdir,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"Kamailio exited at start:\n{self.log_tail()}")
            try:
                self.rpc("core.version")
                return self
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.1)
        self.stop()
        pytest.fail(
            f"Kamailio did not answer JSON-RPC within {START_TIMEOUT} s:\n{self.log_tail()}"
        )

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        # Kamailio's main process stops its children on SIGTERM; the group is ours alone.
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

    def restart(self):
        self.stop()
        return self.start()

    def log_tail(self, lines=40):
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def rpc(self, method, *params):
        body = {"jsonrpc": "2.0", "method": method, "params": list(params), "id": 1}
        response = requests.post(self.rpc_url, json=body, timeout=5)
        payload = response.json()
        if "error" in payload:
            raise RpcError(response.status_code, payload["error"])
        return payload["result"]

    def bans(self):
        """The switch's ban table: {ip: reason code}."""
        return {
            item["name"]: item["value"]
            for bucket in self.rpc("htable.dump", "ipban")
            for item in bucket["slot"]
        }


@pytest.fixture
def start_switch(transactional_db, core, tmp_path):
    """Start the reference switch on the test database; stopped after the test.

    Call it after creating the rows the switch must load at start. Keyword arguments become
    -A defines (True for a bare define), e.g. start_switch(DIGEST_SHA256=True).
    """
    binary = require_binary("kamailio", "kamailio")
    started = []

    def start(db_url=None, **defines):
        switch = Switch(binary, tmp_path, core.port, db_url or database_url(), defines)
        started.append(switch)
        return switch.start()

    yield start
    for switch in started:
        switch.stop()


@dataclass
class Core:
    port: int


@pytest.fixture(scope="module")
def core(tmp_path_factory):
    """The carrier's core behind the switch: a sipp UAS answering every call with 200."""
    binary = require_binary("sipp", "sip-tester")
    workdir = tmp_path_factory.mktemp("core")
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            *("-sf", str(SCENARIOS / "uas.xml"), "-i", "127.0.0.1", "-p", str(port)),
            *("-nostdin", "-trace_err", "-error_file", str(workdir / "errors.log")),
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / "stderr.log", "wb"),  # noqa: SIM115
        stdin=subprocess.DEVNULL,
        cwd=workdir,
        start_new_session=True,
    )
    time.sleep(0.2)
    if process.poll() is not None:
        pytest.fail(f"the sipp UAS exited at start: {(workdir / 'stderr.log').read_text()}")
    yield Core(port)
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


@dataclass
class SippResult:
    returncode: int
    log: str
    errors: str

    @property
    def outcomes(self):
        return re.findall(r"^outcome (\w+)", self.log, flags=re.M)

    def explain(self):
        return f"sipp exit code {self.returncode}\nlog:\n{self.log}\nerrors:\n{self.errors[-3000:]}"


@pytest.fixture
def sipp(tmp_path):
    """Run a sipp UAC scenario from tests/switch/scenarios against a switch.

    status/reason fill the scenario's @STATUS@/@REASON@ (the reason is matched literally).
    """
    binary = require_binary("sipp", "sip-tester")
    runs = itertools.count()

    def run(
        switch,
        scenario,
        *,
        source_ip,
        local_port=None,
        from_user="caller",
        calls=1,
        concurrent=None,
        rate=None,
        hold_ms=0,
        username=None,
        password=None,
        status="",
        reason="",
    ):
        n = next(runs)
        template = (SCENARIOS / scenario).read_text()
        rendered = template.replace("@STATUS@", str(status)).replace(
            "@REASON@", escape(literal_regexp(reason), {'"': "&quot;"})
        )
        scenario_path = tmp_path / f"{n}-{scenario}"
        scenario_path.write_text(rendered)
        log_path, error_path = tmp_path / f"{n}-log.txt", tmp_path / f"{n}-errors.txt"
        args = [
            binary,
            f"{switch.address[0]}:{switch.address[1]}",
            *("-sf", str(scenario_path), "-s", CALLED_NUMBER, "-key", "from_user", from_user),
            *("-i", source_ip, "-p", str(local_port or free_port(ip=source_ip))),
            *("-m", str(calls), "-l", str(concurrent or calls), "-d", str(hold_ms)),
            *("-nostdin", "-timeout", f"{SIPP_TIMEOUT}s", "-timeout_error"),
            *("-trace_err", "-error_file", str(error_path)),
            *("-trace_logs", "-log_file", str(log_path)),
        ]
        if rate:
            args += ["-r", str(rate)]
        if username:
            args += ["-au", username, "-ap", password]
        completed = subprocess.run(
            args,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=SIPP_TIMEOUT + 10,
        )
        return SippResult(
            completed.returncode,
            log_path.read_text() if log_path.exists() else "",
            (error_path.read_text() if error_path.exists() else "")
            + completed.stderr.decode(errors="replace"),
        )

    return run


class TcpRelay:
    """Forwards TCP connections to PostgreSQL until stop(), which makes the database
    unreachable for whoever connected through it, for real, without stopping the database."""

    def __init__(self, target):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets = []
        self.lock = threading.Lock()
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while self.running:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                if not self.running:
                    client.close()
                    upstream.close()
                    return
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source, destination):
        try:
            while data := source.recv(65536):
                destination.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, destination):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self):
        with self.lock:
            self.running = False
            self.listener.close()
            for sock in self.sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()


@pytest.fixture
def database_relay():
    relay = TcpRelay(database_address())
    relay.url = database_url(("127.0.0.1", relay.port))
    yield relay
    relay.stop()
