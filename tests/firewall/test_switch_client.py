"""firewall.switch_client against a real HTTP server answering like Kamailio's JSON-RPC."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from firewall.switch_client import (
    DeleteOutcome,
    ReloadInProgress,
    SwitchClient,
    SwitchError,
    SwitchUnreachable,
)

# Answers recorded from Kamailio 5.6 (jsonrpcs over xhttp): status, content type, body.
DUMP = {
    "jsonrpc": "2.0",
    "result": [
        {
            "entry": 137,
            "size": 1,
            "slot": [{"name": "2001:DB8::1", "value": "unauthorised", "type": "str"}],
        },
        {
            "entry": 253,
            "size": 2,
            "slot": [
                {"name": "198.51.100.7", "value": "auth_failures", "type": "str"},
                {"name": "not-an-ip", "value": "x", "type": "str"},
            ],
        },
    ],
    "id": 1,
}
EMPTY_DUMP = {"jsonrpc": "2.0", "result": [], "id": 1}
DELETED = {"jsonrpc": "2.0", "result": "Ok. Key deleted.", "id": 1}
KEY_NOT_FOUND = {"jsonrpc": "2.0", "error": {"code": 404, "message": "Key not found in htable."}}
ONGOING_RELOAD = {"jsonrpc": "2.0", "error": {"code": 500, "message": "ongoing reload"}, "id": 1}
INTERNAL = {"jsonrpc": "2.0", "error": {"code": 500, "message": "Internal error"}, "id": 1}
NO_METHOD = {"jsonrpc": "2.0", "error": {"code": 500, "message": "Method Not Found"}, "id": 1}
RELOAD_OK = {"jsonrpc": "2.0", "result": "Reload OK", "id": 1}


class FakeKamailio(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.received.append((self.path, body))
        status, content_type, payload, delay = self.server.answers.pop(0)
        if delay:
            time.sleep(delay)
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def kamailio():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeKamailio)
    server.received = []
    server.answers = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/RPC"

    def answer(status, payload, content_type="application/json", delay=0):
        server.answers.append((status, content_type, payload, delay))

    server.answer = answer
    yield server
    server.shutdown()
    server.server_close()


def test_dump_bans_parses_buckets_into_canonical_ips(kamailio):
    kamailio.answer(200, DUMP)
    bans = SwitchClient(kamailio.url).dump_bans()
    assert bans == {"2001:db8::1": "unauthorised", "198.51.100.7": "auth_failures"}
    path, request = kamailio.received[0]
    assert path == "/RPC"
    assert request["jsonrpc"] == "2.0"
    assert request["method"] == "htable.dump"
    assert request["params"] == ["ipban"]
    assert "id" in request


def test_empty_ban_table(kamailio):
    kamailio.answer(200, EMPTY_DUMP)
    assert SwitchClient(kamailio.url).dump_bans() == {}


def test_delete_ban_deleted_and_not_found_are_both_done(kamailio):
    kamailio.answer(200, DELETED)
    kamailio.answer(404, KEY_NOT_FOUND)
    client = SwitchClient(kamailio.url)
    assert client.delete_ban("198.51.100.7") == DeleteOutcome.DELETED
    assert client.delete_ban("2001:DB8:0::1") == DeleteOutcome.NOT_FOUND
    assert [body["params"] for _, body in kamailio.received] == [
        ["ipban", "198.51.100.7"],
        ["ipban", "2001:db8::1"],
    ]
    assert kamailio.received[0][1]["method"] == "htable.delete"


def test_a_404_that_is_not_the_htable_answer_is_an_error(kamailio):
    # A wrong path in rpc_url: xhttp's own 404 must not pass for a lifted ban.
    kamailio.answer(404, b"Not Found", content_type="text/plain")
    with pytest.raises(SwitchError) as excinfo:
        SwitchClient(kamailio.url).delete_ban("198.51.100.7")
    assert "404" in str(excinfo.value)


def test_reload_answers(kamailio):
    kamailio.answer(200, RELOAD_OK)
    kamailio.answer(500, ONGOING_RELOAD)
    client = SwitchClient(kamailio.url)
    assert client.reload_addresses() == "Reload OK"
    assert kamailio.received[0][1]["method"] == "permissions.addressReload"
    with pytest.raises(ReloadInProgress) as excinfo:
        client.reload_addresses()
    assert "ongoing reload" in str(excinfo.value)
    assert isinstance(excinfo.value, SwitchUnreachable)  # worth retrying


def test_server_errors_are_unreachable_and_a_missing_module_is_an_error(kamailio):
    kamailio.answer(500, INTERNAL)
    kamailio.answer(502, b"<html>bad gateway</html>", content_type="text/html")
    kamailio.answer(500, NO_METHOD)
    client = SwitchClient(kamailio.url)
    with pytest.raises(SwitchUnreachable, match="Internal error"):
        client.dump_bans()
    with pytest.raises(SwitchUnreachable, match="502"):
        client.dump_bans()
    with pytest.raises(SwitchError, match="Method Not Found"):
        client.dump_bans()


def test_answers_that_are_not_json_rpc_results_are_errors(kamailio):
    kamailio.answer(200, b"hello", content_type="text/plain")
    kamailio.answer(200, {"jsonrpc": "2.0", "result": 5, "id": 1})
    client = SwitchClient(kamailio.url)
    with pytest.raises(SwitchError, match="not a JSON-RPC result"):
        client.dump_bans()
    with pytest.raises(SwitchError, match="unexpected answer"):
        client.dump_bans()


def test_slow_answer_times_out_as_unreachable(kamailio):
    kamailio.answer(200, DUMP, delay=1.0)
    with pytest.raises(SwitchUnreachable, match="no answer within 0.2 s"):
        SwitchClient(kamailio.url, timeout=(1.0, 0.2)).dump_bans()


def test_nothing_listening_is_unreachable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(SwitchUnreachable, match=r"cannot connect \(connection refused\)"):
        SwitchClient(f"http://127.0.0.1:{port}/RPC", timeout=1.0).dump_bans()
