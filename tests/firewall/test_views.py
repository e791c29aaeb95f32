"""The firewall pages, checked as an operator admin and a customer would check them."""

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from firewall import services
from firewall.models import BlockedIp, SwitchNode, SyncRun, UnblockRequest
from tests.factories import CustomerFactory
from tests.otp import verify_second_factor

from .conftest import open_block

pytestmark = pytest.mark.django_db


def login(user):
    client = Client()
    client.force_login(user)
    return verify_second_factor(client, user)


def text(response):
    """The page as a reader sees it: tags dropped, whitespace collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


class StaffPageContract:
    """Every operator page: anonymous to login, customers refused and nothing changes."""

    method = "get"

    def url(self):
        raise NotImplementedError

    def payload(self, block):
        return {}

    def send(self, client, block):
        if self.method == "get":
            return client.get(self.url())
        return client.post(self.url(), self.payload(block))

    @staticmethod
    def state():
        return (
            list(UnblockRequest.objects.values_list("pk", "state")),
            SwitchNode.objects.count(),
            SyncRun.objects.count(),
        )

    def test_anonymous_is_sent_to_login(self, client, node):
        block = open_block(node, "198.51.100.7")
        before = self.state()
        response = self.send(client, block)
        assert response.status_code == 302
        assert response.url == f"{reverse('login')}?next={quote(self.url())}"
        assert self.state() == before

    def test_customer_is_refused(self, node, customer_user):
        block = open_block(node, "198.51.100.7", customer=customer_user.customer)
        before = self.state()
        response = self.send(login(customer_user), block)
        assert response.status_code == 403
        assert "Not allowed" in text(response)
        assert self.state() == before

    def test_staff_is_allowed(self, node, staff_user, fake_switches, broker):
        block = open_block(node, "198.51.100.7")
        response = self.send(login(staff_user), block)
        assert response.status_code in (200, 302)


class TestIndexAccess(StaffPageContract):
    def url(self):
        return reverse("firewall:index")


class TestUnblockAccess(StaffPageContract):
    method = "post"

    def url(self):
        return reverse("firewall:unblock")

    def payload(self, block):
        return {"ids": [block.pk], "confirm": "yes"}


class TestSyncAccess(StaffPageContract):
    method = "post"

    def url(self):
        return reverse("firewall:sync")


class TestAddNodeAccess(StaffPageContract):
    method = "post"

    def url(self):
        return reverse("firewall:add_node")

    def payload(self, block):
        return {"name": "sw9", "rpc_url": "http://127.0.0.9:5071/RPC"}


def test_index_lists_open_blocks_with_node_reason_customer_and_times(
    node, staff_user, django_assert_max_num_queries
):
    acme = CustomerFactory(name="Acme Telecom")
    open_block(node, "198.51.100.7", "auth_failures", customer=acme)
    open_block(node, "203.0.113.5", "unauthorised")
    gone = open_block(node, "192.0.2.1", "flood")
    BlockedIp.objects.filter(pk=gone.pk).update(cleared_at=timezone.now())
    client = login(staff_user)

    with django_assert_max_num_queries(20):
        response = client.get(reverse("firewall:index"))
    page = text(response)
    assert "2 blocked IPs" in page
    assert "198.51.100.7 sw1 Repeated failed SIP authentication Acme Telecom" in page
    assert "203.0.113.5 sw1 Called before it was authorised no matching entry" in page
    assert "192.0.2.1" not in page
    assert "No unblock requested" in page


def test_index_search_and_filters(node, staff_user):
    other_node = SwitchNode.objects.create(name="sw2", rpc_url="http://127.0.0.2:5071/RPC")
    acme = CustomerFactory(name="Acme Telecom")
    open_block(node, "198.51.100.7", "auth_failures", customer=acme)
    open_block(node, "198.51.100.8", "unauthorised")
    open_block(other_node, "203.0.113.5", "flood")
    client = login(staff_user)
    url = reverse("firewall:index")

    def listed(**params):
        return re.findall(
            r'<label for="block-\d+">([^<]+)</label>', client.get(url, params).content.decode()
        )

    assert sorted(listed(q="198.51")) == ["198.51.100.7", "198.51.100.8"]
    assert listed(node=other_node.pk) == ["203.0.113.5"]
    assert listed(reason="unauthorised") == ["198.51.100.8"]
    assert listed(customer=acme.pk) == ["198.51.100.7"]
    response = client.get(url, {"reason": "nonsense"})
    assert response.status_code == 200
    assert "Select a valid choice" in text(response)


def test_index_paginates(node, staff_user):
    for n in range(55):
        open_block(node, f"10.0.{n // 250}.{n % 250 + 1}")
    client = login(staff_user)
    first = client.get(reverse("firewall:index"))
    assert "Page 1 of 2" in text(first)
    assert len(re.findall(r'name="ids"', first.content.decode())) == 50
    second = client.get(reverse("firewall:index"), {"page": 2})
    assert len(re.findall(r'name="ids"', second.content.decode())) == 5


def test_unblock_asks_for_confirmation_then_requests_and_shows_the_state(node, staff_user, broker):
    blocks = [open_block(node, ip) for ip in ("198.51.100.7", "198.51.100.8")]
    open_block(node, "203.0.113.5")
    client = login(staff_user)
    ids = [block.pk for block in blocks]

    confirm = client.post(reverse("firewall:unblock"), {"ids": ids})
    assert confirm.status_code == 200
    page = text(confirm)
    assert "Unblock 2 IPs?" in page
    assert "198.51.100.7 on sw1" in page and "198.51.100.8 on sw1" in page
    assert "203.0.113.5" not in page
    assert not UnblockRequest.objects.exists()

    done = client.post(reverse("firewall:unblock"), {"ids": ids, "confirm": "yes"}, follow=True)
    page = text(done)
    assert re.search(
        r"Unblock requested for 198\.51\.100\.7, 198\.51\.100\.8: effective by \d\d:\d\d", page
    )
    assert UnblockRequest.objects.filter(state="pending", requested_by=staff_user).count() == 2
    assert re.search(r"198\.51\.100\.7 sw1 .* Pending effective by \d\d:\d\d asked by", page)

    again = client.post(reverse("firewall:unblock"), {"ids": ids, "confirm": "yes"}, follow=True)
    assert again.status_code == 200
    assert UnblockRequest.objects.count() == 2  # repeating is harmless


def test_unblock_without_selection_says_what_to_do(node, staff_user):
    response = login(staff_user).post(reverse("firewall:unblock"), {}, follow=True)
    assert "Tick the blocked IPs to unblock first." in text(response)


def test_unblock_of_a_failing_node_says_delayed(node, staff_user):
    block = open_block(node, "198.51.100.7")
    services.request_unblock(user=staff_user, blocked_ips=[block])
    since = timezone.now() - timedelta(minutes=30)
    SwitchNode.objects.filter(pk=node.pk).update(
        consecutive_failures=2, failing_since=since, last_error="htable.dump: cannot connect"
    )
    page = text(login(staff_user).get(reverse("firewall:index")))
    hhmm = timezone.localtime(since).strftime("%H:%M")
    assert f"delayed: node unreachable since {hhmm}" in page
    assert "Failures in a row 2" in page
    assert "Last error htable.dump: cannot connect" in page


def test_node_panel_shows_recent_runs(switch, node, staff_user):
    switch.ban("198.51.100.7")
    services.sync_node(node)
    switch.down = True
    services.sync_node(node)
    page = text(login(staff_user).get(reverse("firewall:index")))
    assert "unreachable since" in page
    assert "Failed 0 0 0 0 0 htable.dump: cannot connect" in page
    assert "OK 1 1 0 0 0" in page


def test_sync_now_queues_the_task(node, staff_user, broker):
    response = login(staff_user).post(reverse("firewall:sync"), follow=True)
    assert "Sync queued" in text(response)
    assert broker.llen("celery") == 1


def test_sync_now_runs_inline_when_the_broker_is_down(switch, node, staff_user, broker_down):
    switch.ban("198.51.100.7")
    response = login(staff_user).post(reverse("firewall:sync"), follow=True)
    page = text(response)
    assert "The task queue is not reachable, so the sync ran here and now: sw1: OK" in page
    assert BlockedIp.objects.filter(ip="198.51.100.7").exists()


def test_add_node(staff_user, db, broker):
    client = login(staff_user)
    response = client.post(
        reverse("firewall:add_node"), {"name": "sw1", "rpc_url": "http://127.0.0.1:5071/RPC"}
    )
    assert response.status_code == 302
    assert SwitchNode.objects.get().name == "sw1"

    response = client.post(reverse("firewall:add_node"), {"name": "sw1", "rpc_url": "nonsense"})
    assert response.status_code == 400
    page = response.content.decode()
    assert re.search(r'id="id_name_error"><li>[^<]*already exists', page)
    assert re.search(r'id="id_rpc_url_error"><li>Enter a valid URL', page)
    assert SwitchNode.objects.count() == 1


def test_customer_sees_only_blocks_on_their_own_ips_read_only(node, customer_user):
    mine = open_block(node, "198.51.100.7", "auth_failures", customer=customer_user.customer)
    open_block(node, "203.0.113.5", customer=CustomerFactory())
    open_block(node, "192.0.2.1")
    response = login(customer_user).get(reverse("firewall:customer_blocks"))
    page = text(response)
    assert response.status_code == 200
    assert "1 blocked IP" in page
    assert "198.51.100.7 Repeated failed SIP authentication" in page
    assert "203.0.113.5" not in page and "192.0.2.1" not in page
    html = response.content.decode()
    assert 'name="ids"' not in html and reverse("firewall:unblock") not in html
    assert "sw1" not in page  # operator-internal node names stay internal
    assert mine.pk


def test_customer_blocks_page_needs_login_and_sends_staff_to_the_firewall(client, staff_user):
    url = reverse("firewall:customer_blocks")
    assert client.get(url).url == f"{reverse('login')}?next={quote(url)}"
    assert login(staff_user).get(url).url == reverse("firewall:index")


def test_firewall_link_in_the_main_navigation_for_staff_only(staff_user, customer_user):
    link = f'href="{reverse("firewall:index")}"'
    assert link in login(staff_user).get(reverse("auth_config:index")).content.decode()
    assert link not in login(customer_user).get(reverse("auth_config:index")).content.decode()


class TestNodeEnabledAccess(StaffPageContract):
    method = "post"

    def url(self):
        node = SwitchNode.objects.get(name="sw1")
        return reverse("firewall:node_enabled", kwargs={"pk": node.pk})

    def payload(self, block):
        return {"enabled": "no"}

    @staticmethod
    def state():
        return list(SwitchNode.objects.values_list("pk", "enabled"))


def test_stop_and_resume_syncing_a_node(switch, node, staff_user, broker):
    client = login(staff_user)
    url = reverse("firewall:node_enabled", kwargs={"pk": node.pk})
    response = client.post(url, {"enabled": "no"}, follow=True)
    assert "sw1 is no longer synced" in text(response)
    assert "Sync sw1 again" in text(response)
    assert services.sync_all() == []

    response = client.post(url, {"enabled": "yes"}, follow=True)
    assert "sw1 is synced again" in text(response)
    assert [run.node for run in services.sync_all()] == [node]


def test_firewall_records_are_read_only_in_the_admin(node, staff_user):
    from portal.models import User

    User.objects.filter(pk=staff_user.pk).update(is_superuser=True)
    open_block(node, "198.51.100.7")
    client = login(staff_user)
    for name in ("switchnode", "blockedip", "unblockrequest", "syncrun"):
        response = client.get(reverse(f"admin:firewall_{name}_changelist"))
        assert response.status_code == 200, name
    assert client.get(reverse("admin:firewall_switchnode_add")).status_code == 403
    assert "198.51.100.7" in text(client.get(reverse("admin:firewall_blockedip_changelist")))


def test_index_queries_do_not_grow_with_the_number_of_blocks(
    node, staff_user, django_assert_max_num_queries
):
    blocks = [open_block(node, f"198.51.100.{n}", customer=CustomerFactory()) for n in range(1, 31)]
    services.request_unblock(user=staff_user, blocked_ips=blocks)
    client = login(staff_user)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("firewall:index"))
    assert text(response).count("Pending effective by") == 30 + 20  # list + recent unblocks


def test_pages_have_no_inline_script_or_style_and_load_only_portal_files(
    node, staff_user, customer_user
):
    block = open_block(node, "198.51.100.7", customer=customer_user.customer)
    staff = login(staff_user)
    pages = [
        staff.get(reverse("firewall:index")),
        staff.post(reverse("firewall:unblock"), {"ids": [block.pk]}),
        staff.get(reverse("firewall:add_node")),
        staff.post(reverse("firewall:add_node"), {"name": "", "rpc_url": ""}),
        login(customer_user).get(reverse("firewall:customer_blocks")),
    ]
    for response in pages:
        html = response.content.decode()
        assert re.findall(r"<script\b[^>]*>(?!</script>)", html) == []
        assert re.findall(r"\son[a-z]+\s*=", html) == []
        assert "style=" not in html
        for url in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert not re.match(r"(https?:)?//", url), url


def test_customers_find_their_blocked_ips_in_the_main_navigation(staff_user, customer_user):
    link = f'href="{reverse("firewall:customer_blocks")}"'
    assert link in login(customer_user).get(reverse("auth_config:index")).content.decode()
    assert link not in login(staff_user).get(reverse("auth_config:index")).content.decode()
