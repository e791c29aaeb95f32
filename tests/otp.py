"""Staff sessions in tests: logged in and verified with the second factor, as after a real
TOTP code (portal/two_factor.py). Customer sessions need nothing more."""

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice


def staff_device(user):
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test app", confirmed=True)


def verify_second_factor(client, user):
    """Mark the client's (already logged-in) session as verified when the user is staff."""
    if not user.is_staff:
        return client
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = staff_device(user).persistent_id
    session.save()
    return client
