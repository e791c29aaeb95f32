"""The reference Kamailio enforcing what the portal stores, proven with real SIP traffic."""

import re
import subprocess
import time

import pytest
from django.utils import timezone

from auth_config import services
from firewall.models import BlockedIp, SwitchNode, UnblockRequest
from tests.switch.conftest import KAMAILIO_CFG, require_binary
from tests.switch.sipclient import SipPhone

pytestmark = pytest.mark.switch

PASSWORD = "correct-horse-battery-7"
BLOCKED = "Blocked by firewall"


def authorise(user, host, port, **fields):
    (entry,) = services.create_ip_auth_entries(
        user=user, hosts=[host], fields={"port": port, **fields}
    )
    return entry


def add_sip_user(user, customer, username, **fields):
    sip_user, _ = services.create_sip_user(
        user=user,
        customer=customer if user.is_staff else None,
        fields={"username": username, **fields},
        password=PASSWORD,
    )
    return sip_user


def wait_for(condition, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_documented_start_command_listens_on_loopback_defaults(tmp_path):
    """The README's command with only DBURL: SIP on 127.0.0.1:5070, JSON-RPC on :5071."""
    kamailio = require_binary("kamailio", "kamailio")
    checked = subprocess.run(
        [kamailio, "-c", "-f", str(KAMAILIO_CFG), "-m", "256", "-M", "32"]
        + ["-Y", str(tmp_path), "-A", 'DBURL="postgres://portal@127.0.0.1:5432/portal"'],
        capture_output=True,
        text=True,
        timeout=30,
    )
    output = checked.stdout + checked.stderr
    assert checked.returncode == 0, output
    listening = re.findall(r"(udp|tcp): 127\.0\.0\.1 \[127\.0\.0\.1\]:(\d+)", output)
    assert sorted(listening) == [("tcp", "5071"), ("udp", "5070")]


def test_authorised_address_and_port_is_relayed(
    customer_user, start_switch, sipp, source_ip, udp_port
):
    ip = source_ip()
    port = udp_port(ip)
    authorise(customer_user, ip, port)
    switch = start_switch()

    answered = sipp(switch, "call.xml", source_ip=ip, local_port=port, calls=2)
    assert answered.returncode == 0, answered.explain()
    with SipPhone(ip, switch.address, port=port) as trunk:
        assert trunk.request("OPTIONS").status == 200

    # The same customer address from a port it did not register: refused, but not banned.
    other_port = sipp(
        switch,
        "refused.xml",
        source_ip=ip,
        local_port=udp_port(ip),
        status=403,
        reason="Source port not authorised",
    )
    assert other_port.returncode == 0, other_port.explain()
    assert switch.bans() == {}


def test_switch_is_no_open_relay(customer_user, start_switch, core, source_ip):
    """A request dressed as part of a dialog the switch never set up goes nowhere."""
    switch = start_switch()
    with SipPhone(source_ip(), switch.address) as stranger:
        route = f"<sip:{switch.address[0]}:{switch.address[1]};lr>"
        response = stranger.request(
            "BYE", to_tag="a1b2c3", uri=f"sip:victim@127.0.0.1:{core.port}", route=route
        )
    assert (response.status, response.reason) == (481, "Call/Transaction Does Not Exist")


def test_cidr_range_is_authorised(customer_user, start_switch, sipp, source_ip, udp_port):
    ip = source_ip()
    network = ip.rsplit(".", 1)[0] + ".0/24"
    port = udp_port(ip)
    authorise(customer_user, network, port)
    switch = start_switch()

    result = sipp(switch, "call.xml", source_ip=ip, local_port=port)
    assert result.returncode == 0, result.explain()


def test_an_egress_hostname_is_authorised_by_the_address_it_resolves_to(
    customer_user, start_switch, sipp, source_ip, udp_port, name_server
):
    ip, elsewhere = source_ip(), source_ip()
    port = udp_port(ip)
    name_server.records["pbx.customer.example"] = [ip]
    authorise(customer_user, "pbx.customer.example", port)
    services.refresh_host_addresses()
    switch = start_switch()

    answered = sipp(switch, "call.xml", source_ip=ip, local_port=port)
    assert answered.returncode == 0, answered.explain()
    # Only the address the name has: another one is a stranger.
    refused = sipp(switch, "refused.xml", source_ip=elsewhere, status=403, reason=BLOCKED)
    assert refused.returncode == 0, refused.explain()


def test_unknown_address_is_refused_and_banned(customer_user, start_switch, sipp, source_ip):
    authorise(customer_user, source_ip(), 5060)
    switch = start_switch()
    stranger = source_ip()

    first = sipp(switch, "refused.xml", source_ip=stranger, status=403, reason=BLOCKED)
    assert first.returncode == 0, first.explain()
    assert switch.bans() == {stranger: "unauthorised"}

    # Banned now: refused even as a SIP user would be, without a challenge.
    add_sip_user(customer_user, None, "late-alice")
    again = sipp(
        switch,
        "refused.xml",
        source_ip=stranger,
        from_user="late-alice",
        status=403,
        reason=BLOCKED,
    )
    assert again.returncode == 0, again.explain()


def test_disabled_entry_is_not_authorised(customer_user, start_switch, sipp, source_ip, udp_port):
    ip = source_ip()
    port = udp_port(ip)
    authorise(customer_user, ip, port, enabled=False)
    switch = start_switch()

    result = sipp(switch, "refused.xml", source_ip=ip, local_port=port, status=403, reason=BLOCKED)
    assert result.returncode == 0, result.explain()
    assert switch.bans() == {ip: "unauthorised"}


def test_sip_user_is_challenged_then_relayed(
    customer, customer_user, start_switch, sipp, source_ip
):
    add_sip_user(customer_user, customer, "alice")
    switch = start_switch()

    result = sipp(
        switch,
        "digest.xml",
        source_ip=source_ip(),
        from_user="alice",
        username="alice",
        password=PASSWORD,
    )
    assert result.returncode == 0, result.explain()
    assert switch.bans() == {}


def test_wrong_password_is_challenged_again(customer_user, start_switch, sipp, source_ip):
    add_sip_user(customer_user, None, "alice")
    switch = start_switch()

    result = sipp(
        switch,
        "digest_refused.xml",
        source_ip=source_ip(),
        from_user="alice",
        username="alice",
        password="not-the-password",
        status=407,
        reason="Proxy Authentication Required",
    )
    assert result.returncode == 0, result.explain()
    assert switch.bans() == {}


def test_repeated_digest_failures_ban_the_source(customer_user, start_switch, sipp, source_ip):
    add_sip_user(customer_user, None, "alice")
    switch = start_switch(AUTH_FAILURE_LIMIT=3)
    guesser = source_ip()
    attempt = {
        "source_ip": guesser,
        "from_user": "alice",
        "username": "alice",
        "password": "guess-number-one",
    }

    first_two = sipp(
        switch,
        "digest_refused.xml",
        calls=2,
        concurrent=1,
        status=407,
        reason="Proxy Authentication Required",
        **attempt,
    )
    assert first_two.returncode == 0, first_two.explain()
    third = sipp(switch, "digest_refused.xml", status=403, reason=BLOCKED, **attempt)
    assert third.returncode == 0, third.explain()
    assert switch.bans() == {guesser: "auth_failures"}

    # The right password no longer helps from that address.
    after = sipp(
        switch,
        "refused.xml",
        source_ip=guesser,
        from_user="alice",
        status=403,
        reason=BLOCKED,
    )
    assert after.returncode == 0, after.explain()


def test_sip_user_whitelist(customer_user, start_switch, sipp, source_ip):
    inside = source_ip()
    network = inside.rsplit(".", 1)[0] + ".0/24"
    outside = inside.replace("127.0.", "127.1.", 1)
    add_sip_user(customer_user, None, "bob", whitelist=[network])
    switch = start_switch()
    credentials = {"from_user": "bob", "username": "bob", "password": PASSWORD}

    allowed = sipp(switch, "digest.xml", source_ip=inside, **credentials)
    assert allowed.returncode == 0, allowed.explain()

    refused = sipp(
        switch,
        "digest_refused.xml",
        source_ip=outside,
        status=403,
        reason="Source address not in whitelist",
        **credentials,
    )
    assert refused.returncode == 0, refused.explain()
    # A customer's SIP user calling from a new place is not an attack.
    assert switch.bans() == {}


def test_disabled_sip_user_is_unknown(customer_user, start_switch, sipp, source_ip):
    add_sip_user(customer_user, None, "carol", enabled=False)
    switch = start_switch()
    ip = source_ip()

    result = sipp(
        switch, "refused.xml", source_ip=ip, from_user="carol", status=403, reason=BLOCKED
    )
    assert result.returncode == 0, result.explain()
    assert switch.bans() == {ip: "unauthorised"}


def test_sha256_digest(customer_user, start_switch, source_ip):
    add_sip_user(customer_user, None, "dave")
    switch = start_switch(DIGEST_SHA256=True)

    with SipPhone(source_ip(), switch.address, user="dave", password=PASSWORD) as phone:
        call = phone.call()
        assert call.answered, call.final.raw
        assert "algorithm=SHA-256" in call.challenges[0]
        assert phone.hang_up(call).status == 200

    with SipPhone(source_ip(), switch.address, user="dave", password="wrong-password-1") as phone:
        call = phone.call()
        assert call.final.status == 407
        assert len(call.challenges) == 2
    assert switch.bans() == {}


def test_default_switch_challenges_with_md5(customer_user, start_switch, source_ip):
    add_sip_user(customer_user, None, "erin")
    switch = start_switch()

    with SipPhone(source_ip(), switch.address, user="erin", password=PASSWORD) as phone:
        call = phone.call()
        assert call.answered, call.final.raw
        assert "SHA-256" not in call.challenges[0]
        phone.hang_up(call)


def test_channel_limit_of_an_address(customer_user, start_switch, source_ip):
    ip = source_ip()
    with SipPhone(ip, None) as phone:
        authorise(customer_user, ip, phone.port, channels=2)
        phone.switch = start_switch().address

        first, second = phone.call(), phone.call()
        assert first.answered and second.answered
        third = phone.call()
        assert (third.final.status, third.final.reason) == (503, "Channel limit reached")

        assert phone.hang_up(first).status == 200
        fourth = phone.call()
        assert fourth.answered, fourth.final.raw
        phone.hang_up(second)
        phone.hang_up(fourth)


def test_channel_limit_of_a_sip_user(customer, customer_user, staff_user, start_switch, source_ip):
    add_sip_user(staff_user, customer, "frank", channels=1)
    switch = start_switch()

    with SipPhone(source_ip(), switch.address, user="frank", password=PASSWORD) as phone:
        first = phone.call()
        assert first.answered, first.final.raw
        second = phone.call()
        assert (second.final.status, second.final.reason) == (503, "Channel limit reached")
        phone.hang_up(first)
        third = phone.call()
        assert third.answered, third.final.raw
        phone.hang_up(third)


def test_flow_speed_limit(customer_user, start_switch, sipp, source_ip, udp_port):
    ip, limit, calls = source_ip(), 3, 10
    port = udp_port(ip)
    authorise(customer_user, ip, port, flow_speed=limit)
    switch = start_switch()

    result = sipp(
        switch,
        "limited.xml",
        source_ip=ip,
        local_port=port,
        calls=calls,
        rate=1000,
        reason="Call rate limit reached",
    )
    assert result.returncode == 0, result.explain()
    answered = result.outcomes.count("answered")
    # One burst may straddle the start of a new second: at most two windows' worth passes.
    assert limit <= answered <= 2 * limit, result.log
    assert result.outcomes.count("refused") == calls - answered


def test_unlimited_entry_takes_a_burst(customer_user, start_switch, sipp, source_ip, udp_port):
    ip = source_ip()
    port = udp_port(ip)
    authorise(customer_user, ip, port, channels=0, flow_speed=0)
    switch = start_switch()

    result = sipp(
        switch,
        "limited.xml",
        source_ip=ip,
        local_port=port,
        calls=20,
        rate=1000,
        hold_ms=300,
        reason="no refusal expected",
    )
    assert result.returncode == 0, result.explain()
    assert result.outcomes == ["answered"] * 20


def test_restart_keeps_bans_and_never_restores_lifted_ones(
    customer_user, staff_user, start_switch, sipp, source_ip, udp_port
):
    node = SwitchNode.objects.create(name="edge-1", rpc_url="http://127.0.0.1:1/RPC")
    now = timezone.now()
    banned, lifting, lifted, cleared, flooded = (source_ip() for _ in range(5))

    def block(ip, reason="unauthorised", **fields):
        return BlockedIp.objects.create(
            ip=ip, node=node, reason=reason, first_seen=now, last_seen=now, **fields
        )

    block(banned, reason="auth_failures")
    UnblockRequest.objects.create(blocked_ip=block(lifting), requested_by=staff_user)
    UnblockRequest.objects.create(
        blocked_ip=block(lifted), requested_by=staff_user, state="verified"
    )
    block(cleared, cleared_at=now)
    block(flooded, reason="flood")

    switch = start_switch()
    assert switch.bans() == {banned: "auth_failures"}
    result = sipp(switch, "refused.xml", source_ip=banned, status=403, reason=BLOCKED)
    assert result.returncode == 0, result.explain()

    # An address authorised after its unblock gets through after a restart.
    port = udp_port(lifting)
    authorise(customer_user, lifting, port)
    switch.restart()
    assert switch.bans() == {banned: "auth_failures"}
    result = sipp(switch, "call.xml", source_ip=lifting, local_port=port)
    assert result.returncode == 0, result.explain()


def test_unreachable_database_bans_nobody(
    customer_user, start_switch, sipp, source_ip, database_relay, udp_port
):
    trunk = source_ip()
    port = udp_port(trunk)
    authorise(customer_user, trunk, port)
    add_sip_user(customer_user, None, "grace")
    switch = start_switch(db_url=database_relay.url)
    member = source_ip()
    before = sipp(
        switch,
        "digest.xml",
        source_ip=member,
        from_user="grace",
        username="grace",
        password=PASSWORD,
    )
    assert before.returncode == 0, before.explain()

    database_relay.stop()

    stranger = source_ip()
    unknown = sipp(
        switch,
        "refused.xml",
        source_ip=stranger,
        from_user="mallory",
        status=503,
        reason="Service temporarily unavailable",
    )
    assert unknown.returncode == 0, unknown.explain()
    sip_user = sipp(
        switch,
        "refused.xml",
        source_ip=member,
        from_user="grace",
        status=503,
        reason="Service temporarily unavailable",
    )
    assert sip_user.returncode == 0, sip_user.explain()
    assert switch.bans() == {}
    # Authorised addresses are cached on the switch: trunks keep working meanwhile.
    relayed = sipp(switch, "call.xml", source_ip=trunk, local_port=port)
    assert relayed.returncode == 0, relayed.explain()


def test_no_bans_while_shared_memory_is_low(customer_user, start_switch, sipp, source_ip):
    # Declaring more free memory necessary than exists puts the switch in its low-memory state.
    switch = start_switch(MIN_FREE_SHM_PERCENT=101)
    stranger = source_ip()

    result = sipp(
        switch,
        "refused.xml",
        source_ip=stranger,
        status=503,
        reason="Service temporarily unavailable",
    )
    assert result.returncode == 0, result.explain()
    assert switch.bans() == {}


def test_flood_ban_expires(customer_user, start_switch, source_ip):
    add_sip_user(customer_user, None, "heidi")
    # Longer than pike remembers the burst (remove_latency), or the next request re-bans.
    switch = start_switch(FLOOD_DENSITY=5, FLOOD_BAN_SECONDS=6, HTABLE_TIMER=1)
    ip = source_ip()

    with SipPhone(ip, switch.address, user="heidi", timeout=3) as phone:
        answers = [phone.request("OPTIONS").reason for _ in range(20)]
        assert answers[0] == "Forbidden"
        assert BLOCKED in answers
        assert switch.bans() == {ip: "flood"}

        assert wait_for(lambda: switch.bans() == {}), "the flood ban did not expire"
        assert phone.request("OPTIONS").reason == "Forbidden"
