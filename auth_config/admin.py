"""Operators browse entries here; changes go through the Auth tab, where the services apply.

Secrets (UAC password, SIP digests) are never shown, only whether they are set.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html

from portal.admin import ReadOnlyModelAdmin

from . import services
from .models import IpAuthEntry, SipUser


class ReadMostlyAdmin(ReadOnlyModelAdmin):
    list_select_related = ["customer"]
    actions = ["enable", "disable"]
    portal_url_name = None

    def has_toggle_permission(self, request):
        return request.user.is_staff

    @admin.display(description="edit")
    def portal_link(self, obj):
        url = reverse(self.portal_url_name, kwargs={"pk": obj.pk})
        return format_html('<a href="{}">Open in the Auth tab</a>', url)

    def _set_enabled(self, request, queryset, enabled):
        changed, failed = 0, []
        for obj in queryset:
            try:
                self.update(request.user, obj, {"enabled": enabled})
                changed += 1
            except ValidationError as exc:
                failed.append(f"{obj}: {'; '.join(exc.messages)}")
        if changed:
            self.message_user(request, f"{changed} updated.", messages.SUCCESS)
        for failure in failed:
            self.message_user(request, failure, messages.ERROR)

    @admin.action(description="Enable selected", permissions=["toggle"])
    def enable(self, request, queryset):
        self._set_enabled(request, queryset, True)

    @admin.action(description="Disable selected", permissions=["toggle"])
    def disable(self, request, queryset):
        self._set_enabled(request, queryset, False)


@admin.register(IpAuthEntry)
class IpAuthEntryAdmin(ReadMostlyAdmin):
    portal_url_name = "auth_config:ip_edit"
    list_display = ["host", "port", "direction", "protocol", "customer", "enabled", "portal_link"]
    list_filter = ["direction", "protocol", "enabled", "customer"]
    search_fields = ["host", "manufacturer", "customer__name"]
    exclude = ["uac_password_encrypted"]
    readonly_fields = ["uac_password_set", "portal_link"]

    @admin.display(boolean=True, description="UAC password set")
    def uac_password_set(self, entry):
        return entry.uac_password_is_set

    @staticmethod
    def update(user, entry, fields):
        services.update_ip_auth_entry(user=user, entry=entry, fields=fields)


@admin.register(SipUser)
class SipUserAdmin(ReadMostlyAdmin):
    portal_url_name = "auth_config:sip_edit"
    list_display = ["username", "realm", "protocol", "customer", "enabled", "portal_link"]
    list_filter = ["protocol", "enabled", "customer"]
    search_fields = ["username", "customer__name"]
    exclude = ["ha1", "ha1_sha256", "ha1b"]
    readonly_fields = ["realm", "password_set", "password_changed_at", "portal_link"]

    @admin.display(boolean=True, description="password set")
    def password_set(self, sip_user):
        return sip_user.has_password

    @staticmethod
    def update(user, sip_user, fields):
        services.update_sip_user(user=user, sip_user=sip_user, fields=fields)
