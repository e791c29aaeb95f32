"""A DNS server on loopback for the tests: real UDP queries, answers from a dict.

The portal asks it through its DNS_NAMESERVER setting, exactly as it asks a real resolver.
"""

import ipaddress
import socket
import threading

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


class LoopbackNameServer:
    def __init__(self):
        self.records = {}  # name (lower case, no final dot) -> addresses (IPv4 and IPv6)
        self.silent = False  # True: receive queries and answer none, as a dead server
        self.queries = []
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self.address = self._socket.getsockname()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while True:
            try:
                data, client = self._socket.recvfrom(4096)
            except OSError:
                return  # closed
            query = dns.message.from_wire(data)
            question = query.question[0]
            name = question.name.to_text(omit_final_dot=True).lower()
            self.queries.append((name, dns.rdatatype.to_text(question.rdtype)))
            if self.silent:
                continue
            response = dns.message.make_response(query)
            if name not in self.records:
                response.set_rcode(dns.rcode.NXDOMAIN)
            else:
                version = 4 if question.rdtype == dns.rdatatype.A else 6
                found = [
                    address
                    for address in self.records[name]
                    if ipaddress.ip_address(address).version == version
                ]
                if found:
                    response.answer.append(
                        dns.rrset.from_text(
                            question.name, 60, "IN", dns.rdatatype.to_text(question.rdtype), *found
                        )
                    )
            self._socket.sendto(response.to_wire(), client)

    def close(self):
        self._socket.close()
