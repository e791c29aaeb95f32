"""A small SIP user agent over UDP for the switch tests.

sipp 3.6 answers digest challenges with MD5 only; this client also speaks SHA-256 (RFC 7616,
RFC 8760), and keeps calls up until the test hangs them up, which the channel-limit tests
need to be independent of timing.
"""

import hashlib
import re
import secrets
import socket
import time
from dataclasses import dataclass, field

T1 = 0.5  # RFC 3261 retransmission interval


@dataclass
class Response:
    status: int
    reason: str
    headers: list
    raw: str

    def header(self, name):
        return next((v for n, v in self.headers if n.lower() == name.lower()), None)

    def all(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]


@dataclass
class Call:
    call_id: str
    from_header: str
    cseq: int
    final: Response
    challenges: list = field(default_factory=list)
    to_header: str = ""
    remote_target: str = ""
    route_set: list = field(default_factory=list)

    @property
    def answered(self):
        return self.final.status == 200


def parse_response(data):
    text = data.decode("utf-8", "replace")
    head = text.split("\r\n\r\n", 1)[0]
    lines = head.split("\r\n")
    match = re.match(r"SIP/2\.0 (\d{3}) ?(.*)", lines[0])
    if not match:
        return None
    headers = []
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers.append((name.strip(), value.strip()))
    return Response(int(match.group(1)), match.group(2), headers, text)


def digest_params(challenge):
    return {
        key.lower(): quoted if quoted else bare
        for key, quoted, bare in re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]+))', challenge)
    }


def digest_authorization(challenge, *, username, password, method, uri):
    """The Proxy-Authorization value answering a Digest challenge (RFC 7616 section 3.4)."""
    params = digest_params(challenge)
    algorithm = params.get("algorithm", "MD5")
    hash_name = {"MD5": "md5", "SHA-256": "sha256"}[algorithm.upper()]

    def h(text):
        return hashlib.new(hash_name, text.encode()).hexdigest()

    ha1 = h(f"{username}:{params['realm']}:{password}")
    ha2 = h(f"{method}:{uri}")
    fields = {
        "username": f'"{username}"',
        "realm": f'"{params["realm"]}"',
        "nonce": f'"{params["nonce"]}"',
        "uri": f'"{uri}"',
        "algorithm": algorithm,
    }
    if "auth" in params.get("qop", "").split(","):
        cnonce, nc = secrets.token_hex(8), "00000001"
        fields.update(qop="auth", nc=nc, cnonce=f'"{cnonce}"')
        response = h(f"{ha1}:{params['nonce']}:{nc}:{cnonce}:auth:{ha2}")
    else:
        response = h(f"{ha1}:{params['nonce']}:{ha2}")
    fields["response"] = f'"{response}"'
    if "opaque" in params:
        fields["opaque"] = f'"{params["opaque"]}"'
    return "Digest " + ", ".join(f"{k}={v}" for k, v in fields.items())


class SipPhone:
    """A UA bound to one source address (and port) that calls through the switch."""

    def __init__(self, local_ip, switch, *, port=0, user="caller", password=None, timeout=5):
        self.switch = switch  # (host, port)
        self.user = user
        self.password = password
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((local_ip, port))
        self.local_ip, self.port = self.sock.getsockname()

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _via(self, branch):
        return f"SIP/2.0/UDP {self.local_ip}:{self.port};branch={branch};rport"

    def _send(self, lines, body=""):
        message = "\r\n".join([*lines, f"Content-Length: {len(body.encode())}", "", body])
        self.sock.sendto(message.encode(), self.switch)
        return message.encode()

    def _transaction(self, message, call_id, cseq_method):
        """Send a request, retransmitting it until a final response; returns that response."""
        deadline = time.monotonic() + self.timeout
        interval, provisional = T1, False
        while time.monotonic() < deadline:
            self.sock.settimeout(min(interval, max(deadline - time.monotonic(), 0.01)))
            try:
                data, _ = self.sock.recvfrom(65535)
            except TimeoutError:
                if not provisional:
                    self.sock.sendto(message, self.switch)
                    interval = min(interval * 2, 4)
                continue
            response = parse_response(data)
            if (
                response is None
                or response.header("Call-ID") != call_id
                or response.header("CSeq") != cseq_method
            ):
                continue
            if response.status < 200:
                provisional = True
                continue
            return response
        raise TimeoutError(f"no final response to {cseq_method} from the switch")

    def request(self, method, number="4930123456", *, to_tag=None, uri=None, route=None):
        """A request outside a call of this phone, such as OPTIONS; returns the final response.

        to_tag and route make it look like part of an existing dialog.
        """
        call_id = secrets.token_hex(12)
        to_uri = f"sip:{number}@{self.switch[0]}:{self.switch[1]}"
        lines = [
            f"{method} {uri or to_uri} SIP/2.0",
            f"Via: {self._via('z9hG4bK' + secrets.token_hex(8))}",
            f"From: <sip:{self.user}@{self.local_ip}>;tag={secrets.token_hex(4)}",
            f"To: <{to_uri}>" + (f";tag={to_tag}" if to_tag else ""),
            f"Call-ID: {call_id}",
            f"CSeq: 1 {method}",
            "Max-Forwards: 70",
        ]
        if route:
            lines.append(f"Route: {route}")
        message = self._send(lines)
        return self._transaction(message, call_id, f"1 {method}")

    def call(self, number="4930123456"):
        """INVITE through the switch, answering one 407 challenge if a password is set."""
        call_id = secrets.token_hex(12)
        from_header = f"<sip:{self.user}@{self.local_ip}>;tag={secrets.token_hex(4)}"
        uri = f"sip:{number}@{self.switch[0]}:{self.switch[1]}"
        body = (
            f"v=0\r\no=caller 1 1 IN IP4 {self.local_ip}\r\ns=-\r\n"
            f"c=IN IP4 {self.local_ip}\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n"
        )
        call = Call(call_id=call_id, from_header=from_header, cseq=0, final=None)
        authorization = None
        while True:
            call.cseq += 1
            branch = "z9hG4bK" + secrets.token_hex(8)
            lines = [
                f"INVITE {uri} SIP/2.0",
                f"Via: {self._via(branch)}",
                f"From: {from_header}",
                f"To: <{uri}>",
                f"Call-ID: {call_id}",
                f"CSeq: {call.cseq} INVITE",
                f"Contact: <sip:{self.user}@{self.local_ip}:{self.port}>",
                "Max-Forwards: 70",
                "Content-Type: application/sdp",
            ]
            if authorization:
                lines.append(f"Proxy-Authorization: {authorization}")
            message = self._send(lines, body)
            response = self._transaction(message, call_id, f"{call.cseq} INVITE")
            call.final = response
            call.to_header = response.header("To")
            if response.status == 200:
                self._ack_answer(call, response)
                return call
            self._ack_failure(call, response, uri, branch)
            if response.status != 407 or self.password is None or authorization:
                if response.status == 407:
                    call.challenges.append(response.header("Proxy-Authenticate"))
                return call
            challenge = response.header("Proxy-Authenticate")
            call.challenges.append(challenge)
            authorization = digest_authorization(
                challenge, username=self.user, password=self.password, method="INVITE", uri=uri
            )

    def _ack_failure(self, call, response, uri, branch):
        # The ACK of a non-2xx final response belongs to the INVITE transaction (same branch).
        self._send(
            [
                f"ACK {uri} SIP/2.0",
                f"Via: {self._via(branch)}",
                f"From: {call.from_header}",
                f"To: {response.header('To')}",
                f"Call-ID: {call.call_id}",
                f"CSeq: {call.cseq} ACK",
                "Max-Forwards: 70",
            ]
        )

    def _ack_answer(self, call, response):
        routes = []
        for value in response.all("Record-Route"):
            routes.extend(re.findall(r"<[^>]+>", value))
        call.route_set = list(reversed(routes))
        call.remote_target = re.search(r"<([^>]+)>", response.header("Contact")).group(1)
        self._in_dialog(call, "ACK", call.cseq)

    def _in_dialog(self, call, method, cseq):
        lines = [
            f"{method} {call.remote_target} SIP/2.0",
            f"Via: {self._via('z9hG4bK' + secrets.token_hex(8))}",
            f"From: {call.from_header}",
            f"To: {call.to_header}",
            f"Call-ID: {call.call_id}",
            f"CSeq: {cseq} {method}",
            "Max-Forwards: 70",
        ]
        if call.route_set:
            lines.append("Route: " + ", ".join(call.route_set))
        return self._send(lines)

    def hang_up(self, call):
        call.cseq += 1
        message = self._in_dialog(call, "BYE", call.cseq)
        return self._transaction(message, call.call_id, f"{call.cseq} BYE")
