from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.admin import UserAdmin
from django.db.models import Count
from django.template.response import TemplateResponse

from auth_config.services import customer_access_changed

from .models import ApiKey, Customer, User


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """Browse-only admin for records that change through the portal's services, never here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "sip_realm", "active", "user_count", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "sip_realm"]
    readonly_fields = ["created_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            # The SIP users' stored digests cover the realm: changing it would lock them all out.
            return [*self.readonly_fields, "sip_realm"]
        return self.readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_user_count=Count("users"))

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "active" in form.changed_data:
            customer_access_changed(obj)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        customer_access_changed(obj)

    def delete_queryset(self, request, queryset):
        customers = list(queryset)
        super().delete_queryset(request, queryset)
        for customer in customers:
            customer_access_changed(customer)

    @admin.display(description="users", ordering="_user_count")
    def user_count(self, customer):
        return customer._user_count


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    list_display = ["username", "email", "customer", "is_staff", "is_active", "last_login"]
    list_filter = ["is_staff", "is_active", "customer"]
    list_select_related = ["customer"]
    search_fields = ["username", "email", "first_name", "last_name", "customer__name"]
    autocomplete_fields = ["customer"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (
            "Customer",
            {
                "fields": ["customer"],
                "description": "Customer users see only this customer's entries; "
                "operator staff belong to no customer.",
            },
        ),
        ("Personal info", {"fields": ["first_name", "last_name", "email"]}),
        (
            "Permissions",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Important dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["username", "email", "customer", "password1", "password2"],
            },
        ),
    ]


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyModelAdmin):
    """Customers' API keys, for operators: who has which, when it was last used, revoke one.

    The key itself is never stored; only its prefix is shown.
    """

    list_display = ["name", "prefix", "user", "customer", "read_only", "last_used_at", "revoked_at"]
    list_filter = ["read_only", ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user", "user__customer"]
    search_fields = ["name", "prefix", "user__username", "user__customer__name"]
    fields = ["name", "prefix", "user", "read_only", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    @admin.display(description="customer", ordering="user__customer__name")
    def customer(self, api_key):
        return api_key.user.customer

    def has_revoke_permission(self, request):
        return request.user.is_staff

    @admin.action(description="Revoke selected API keys", permissions=["revoke"])
    def revoke(self, request, queryset):
        active = list(queryset.active().select_related("user"))
        if not active:
            self.message_user(request, "The selected keys are already revoked.", messages.INFO)
            return None
        if request.POST.get("confirm") != "yes":
            # Revoking cannot be undone: ask first, listing what would stop working.
            return TemplateResponse(
                request,
                "admin/portal/apikey/confirm_revoke.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Revoke API keys?",
                    "opts": self.model._meta,
                    "keys": active,
                    "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
                    "action_checkbox_name": ACTION_CHECKBOX_NAME,
                },
            )
        for api_key in active:
            api_key.revoke()
        self.message_user(
            request,
            f"{len(active)} API key(s) revoked; they no longer work.",
            messages.SUCCESS,
        )
        return None
