"""Rotating the encryption key: every UAC password is re-encrypted with the new key and stays
readable once the old key is gone; a password no key can read stops the rotation unchanged."""

import pytest
from auditlog.models import LogEntry
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.test import override_settings

from auth_config import services
from auth_config.models import IpAuthEntry

pytestmark = pytest.mark.django_db

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
PASSWORDS = {"198.51.100.21": "uac-secret-one-2026", "198.51.100.22": "uac-secret-two-2026"}


def store_uac_passwords(user):
    for host, password in PASSWORDS.items():
        services.create_ip_auth_entries(
            user=user,
            hosts=[host],
            fields={"direction": "ingress", "uac_username": "trunk", "uac_password": password},
        )
    IpAuthEntry.objects.create(customer=user.customer, host="198.51.100.23", direction="ingress")


def read_all():
    return {
        entry.host: entry.get_uac_password()
        for entry in IpAuthEntry.objects.exclude(uac_password_encrypted="")
    }


def test_rotation_leaves_every_password_readable_with_only_the_new_key(customer_user, capsys):
    with override_settings(PORTAL_ENCRYPTION_KEYS=[OLD_KEY]):
        store_uac_passwords(customer_user)
        before = dict(IpAuthEntry.objects.values_list("host", "uac_password_encrypted"))
    audit_entries = LogEntry.objects.count()

    with override_settings(PORTAL_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        call_command("rotate_encryption_key")
    assert "Re-encrypted 2 UAC password(s)" in capsys.readouterr().out

    with override_settings(PORTAL_ENCRYPTION_KEYS=[NEW_KEY]):
        assert read_all() == PASSWORDS
    after = dict(IpAuthEntry.objects.values_list("host", "uac_password_encrypted"))
    assert all(after[host] != before[host] for host in PASSWORDS)
    assert after["198.51.100.23"] == ""
    for token in after.values():
        for password in PASSWORDS.values():
            assert password not in token
    # The secrets did not change, so neither the audit log nor the customer sees a change.
    assert LogEntry.objects.count() == audit_entries


def test_a_password_no_key_reads_stops_the_rotation_and_changes_nothing(customer_user):
    lost_key = Fernet.generate_key().decode()
    with override_settings(PORTAL_ENCRYPTION_KEYS=[OLD_KEY]):
        store_uac_passwords(customer_user)
    with override_settings(PORTAL_ENCRYPTION_KEYS=[lost_key]):
        services.create_ip_auth_entries(
            user=customer_user,
            hosts=["198.51.100.24"],
            fields={"direction": "ingress", "uac_username": "t", "uac_password": "lost-secret-1"},
        )
    orphan = IpAuthEntry.objects.get(host="198.51.100.24")
    before = dict(IpAuthEntry.objects.values_list("host", "uac_password_encrypted"))

    with override_settings(PORTAL_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        with pytest.raises(CommandError) as refused:
            call_command("rotate_encryption_key")
    assert f"entries {orphan.pk};" in str(refused.value)
    assert "nothing was re-encrypted" in str(refused.value)
    assert dict(IpAuthEntry.objects.values_list("host", "uac_password_encrypted")) == before
