from cryptography.fernet import InvalidToken
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from auth_config.models import IpAuthEntry
from portal import crypto


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored UAC password with the first key of PORTAL_ENCRYPTION_KEYS. "
        "Put the new key first, keep the old ones after it, run this, then remove the old keys."
    )

    def handle(self, *args, **options):
        fernet = crypto.fernet()
        with transaction.atomic():
            # Locked so a save during the rotation cannot be overwritten with an older secret.
            rows = list(
                IpAuthEntry.objects.exclude(uac_password_encrypted="")
                .select_for_update()
                .values_list("pk", "uac_password_encrypted")
            )
            rotated, unreadable = [], []
            for pk, token in rows:
                try:
                    rotated.append((pk, fernet.rotate(token.encode()).decode()))
                except InvalidToken:
                    unreadable.append(pk)
            if unreadable:
                # Nothing is written: removing an old key now would lose these for good.
                raise CommandError(
                    "No key in PORTAL_ENCRYPTION_KEYS decrypts the UAC password of IP-auth "
                    f"entries {', '.join(map(str, unreadable))}; nothing was re-encrypted. "
                    "Add the key they were written with and run this again."
                )
            # A queryset update: the secret itself is unchanged, so this is no change for the
            # audit log or the switch.
            for pk, token in rotated:
                IpAuthEntry.objects.filter(pk=pk).update(uac_password_encrypted=token)
        self.stdout.write(f"Re-encrypted {len(rotated)} UAC password(s) with the current key.")
