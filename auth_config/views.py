"""Pages of the Auth tab.

Views parse a form, call a service and map its ValidationError back onto the form; every
entry they touch is looked up through `AuthTabView.scoped()`, the one place the caller's
customer is applied.
"""

from urllib.parse import urlencode

from auditlog.models import LogEntry
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.text import capfirst
from django.views import View
from django.views.generic import TemplateView

from firewall import services as firewall_services
from portal import crypto
from portal.audit import REDACTED_EMPTY, visible_actor

from . import services
from .addresses import normalize_address, split_addresses
from .filtersets import SipUserFilterSet
from .forms import (
    IpAuthEntryForm,
    IpAuthTabFilterSet,
    SipUserForm,
    StaffIpAuthTabFilterSet,
    StaffSipUserFilterSet,
)
from .models import IpAuthEntry, SipUser, prefetch_resolved_addresses
from .templatetags.auth_tab import audit_value

PAGE_SIZE = 25
MAX_CHECKED_HOSTS = 50
AUDIT_PAGE_SIZE = 20
# Session key holding a generated SIP password (encrypted) until its one showing.
GENERATED_PASSWORD_KEY = "auth_config.generated_password"


class AuthTabView(LoginRequiredMixin, View):
    """Base of every Auth-tab page: login required, and the only source of scoped entries."""

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return self.handle_no_permission()
        if not user.is_staff and user.customer_id is None:
            return TemplateResponse(request, "auth_config/not_linked.html", status=403)
        self.prepare(**kwargs)
        return super().dispatch(request, *args, **kwargs)

    def prepare(self, **kwargs):
        """Load what the URL names, once the caller is known."""

    def scoped(self, model):
        return model.objects.for_user(self.request.user).select_related("customer")


class EntryView(AuthTabView):
    """A page about one entry of `model`: another customer's entry is a 404."""

    model = None
    entry = None

    def prepare(self, pk=None, **kwargs):
        if pk is not None:
            self.entry = get_object_or_404(self.scoped(self.model), pk=pk)


class IndexView(AuthTabView, TemplateView):
    template_name = "auth_config/index.html"
    partials = {
        "ip-results": "auth_config/_ip_results.html",
        "sip-results": "auth_config/_sip_results.html",
    }

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        # One URL answers with the whole page or one section: caches must keep them apart.
        patch_vary_headers(response, ["HX-Request", "HX-Target"])
        return response

    def get_template_names(self):
        # A live search or page change replaces only the section it came from.
        target = self.request.htmx.target if self.request.htmx else None
        return [self.partials.get(target, self.template_name)]

    def section(self, model, filtersets, prefix):
        queryset = self.scoped(model)
        filterset_class = filtersets[1] if self.request.user.is_staff else filtersets[0]
        filterset = filterset_class(self.request.GET or None, queryset=queryset, prefix=prefix)
        # An unusable filter value (a customer id that does not exist) is ignored, not fatal.
        rows = filterset.qs
        page = Paginator(rows, PAGE_SIZE).get_page(self.request.GET.get(f"{prefix}-page"))
        if model is IpAuthEntry:
            # Entries whose address a switch has blocked carry a badge with reason and time.
            page.object_list = list(page.object_list)
            blocked = firewall_services.open_blocks_for_entries(page.object_list)
            for entry in page.object_list:
                entry.open_blocks = blocked.get(entry.pk, [])
            # An egress hostname shows the addresses it was last looked up to have.
            prefetch_resolved_addresses(page.object_list)
        searching = any(
            value
            for key, value in self.request.GET.items()
            if key.startswith(f"{prefix}-") and not key.endswith("-page")
        )
        other_params = [
            (key, value)
            for key, value in self.request.GET.items()
            if not key.startswith(f"{prefix}-")
        ]
        return {
            "filter": filterset,
            "page": page,
            "page_param": f"{prefix}-page",
            "searching": searching,
            "other_params": other_params,
            "clear_url": "?" + urlencode(other_params),
        }

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "ip": self.section(IpAuthEntry, (IpAuthTabFilterSet, StaffIpAuthTabFilterSet), "ip"),
            "sip": self.section(SipUser, (SipUserFilterSet, StaffSipUserFilterSet), "sip"),
            "show_customer": self.request.user.is_staff,
        }


class EntryFormView(EntryView):
    form_class = None
    template_name = None

    def get_form(self, data=None):
        return self.form_class(data, user=self.request.user, instance=self.entry)

    def render_form(self, form, status=200):
        form.link_errors()
        return TemplateResponse(
            self.request,
            self.template_name,
            {"form": form, "entry": self.entry},
            status=status,
        )

    def get(self, request, *args, **kwargs):
        return self.render_form(self.get_form())

    def post(self, request, *args, **kwargs):
        form = self.get_form(request.POST)
        if form.is_valid():
            try:
                response = self.save(form)
            except ValidationError as exc:
                form.apply_errors(exc)
            else:
                if not form.errors:
                    return response
        return self.render_form(form, status=400)


def tell_about_blocks(request, entries):
    """Say at once when a saved address is blocked on a switch, and what happens to it."""
    hosts = [entry.host for entry in entries]
    for notice in firewall_services.block_notices(entries[0].customer_id, hosts):
        messages.warning(request, notice)


class IpHostCheckView(AuthTabView):
    """While a customer types addresses, say at once which of them the switch has blocked."""

    def get(self, request):
        hosts = []
        for raw in split_addresses(request.GET.get("host", ""))[:MAX_CHECKED_HOSTS]:
            try:
                hosts.append(normalize_address(raw))
            except ValidationError:
                continue  # the form reports bad addresses when it is sent
        customer_id = request.user.customer_id
        if request.user.is_staff:
            customer_id = self.customer_id_param(request.GET.get("customer"))
        notices = (
            firewall_services.block_notices(customer_id, hosts) if hosts and customer_id else []
        )
        return TemplateResponse(request, "auth_config/_host_blocks.html", {"notices": notices})

    @staticmethod
    def customer_id_param(raw):
        return int(raw) if raw and raw.isdigit() and len(raw) < 12 else None


class IpEntryCreateView(EntryFormView):
    form_class = IpAuthEntryForm
    template_name = "auth_config/ip_form.html"

    def save(self, form):
        changes = form.changes()
        if form.errors:
            return None
        created = services.create_ip_auth_entries(
            user=self.request.user,
            hosts=form.hosts(),
            fields=changes,
            customer=form.cleaned_data.get("customer"),
        )
        hosts = ", ".join(entry.host for entry in created)
        noun = "entry" if len(created) == 1 else "entries"
        messages.success(self.request, f"Added {len(created)} IP-auth {noun}: {hosts}.")
        tell_about_blocks(self.request, created)
        return redirect("auth_config:index")


class IpEntryUpdateView(EntryFormView):
    model = IpAuthEntry
    form_class = IpAuthEntryForm
    template_name = "auth_config/ip_form.html"

    def save(self, form):
        changes = form.changes()
        if form.errors:
            return None
        entry = services.update_ip_auth_entry(
            user=self.request.user, entry=self.entry, fields=changes
        )
        messages.success(self.request, f"Saved {entry.host}.")
        tell_about_blocks(self.request, [entry])
        return redirect("auth_config:ip_edit", pk=entry.pk)


def remember_generated_password(request, sip_user, password):
    # Kept encrypted, and only until the next page shows it once.
    request.session[GENERATED_PASSWORD_KEY] = {
        "sip_user": sip_user.pk,
        "token": crypto.encrypt(password),
    }


class SipUserCreateView(EntryFormView):
    form_class = SipUserForm
    template_name = "auth_config/sip_form.html"

    def save(self, form):
        changes = form.changes()
        if form.errors:
            return None
        _, password = form.new_password()
        sip_user, generated = services.create_sip_user(
            user=self.request.user,
            fields=changes,
            password=password,
            customer=form.cleaned_data.get("customer"),
        )
        if generated:
            remember_generated_password(self.request, sip_user, generated)
            return redirect("auth_config:sip_password", pk=sip_user.pk)
        messages.success(self.request, f"Added SIP user {sip_user.username}.")
        return redirect("auth_config:index")


class SipUserUpdateView(EntryFormView):
    model = SipUser
    form_class = SipUserForm
    template_name = "auth_config/sip_form.html"

    def save(self, form):
        changes = form.changes()
        if form.errors:
            return None
        wanted, password = form.new_password()
        generated = None
        if wanted:
            sip_user, generated = services.update_sip_user_and_password(
                user=self.request.user, sip_user=self.entry, fields=changes, password=password
            )
        else:
            sip_user = services.update_sip_user(
                user=self.request.user, sip_user=self.entry, fields=changes
            )
        if generated:
            remember_generated_password(self.request, sip_user, generated)
            return redirect("auth_config:sip_password", pk=sip_user.pk)
        if wanted:
            messages.success(self.request, f"Saved {sip_user.username} with its new password.")
        else:
            messages.success(self.request, f"Saved {sip_user.username}.")
        return redirect("auth_config:sip_edit", pk=sip_user.pk)


class GeneratedPasswordView(EntryView):
    """Shows a generated SIP password once; a reload finds it gone."""

    model = SipUser

    def get(self, request, *args, **kwargs):
        pending = request.session.get(GENERATED_PASSWORD_KEY)
        password = None
        if pending and pending.get("sip_user") == self.entry.pk:
            del request.session[GENERATED_PASSWORD_KEY]
            password = crypto.decrypt(pending["token"])
        response = TemplateResponse(
            request,
            "auth_config/sip_password.html",
            {"entry": self.entry, "password": password},
        )
        add_never_cache_headers(response)
        return response


class BulkDeleteView(AuthTabView):
    """Ticked ids -> a page listing what will go -> confirm deletes, cancel keeps."""

    model = None
    noun_plural = None
    service = None

    def get(self, request, *args, **kwargs):
        return redirect("auth_config:index")

    def post(self, request, *args, **kwargs):
        ids = request.POST.getlist("ids")
        if not ids:
            messages.warning(request, f"Tick the {self.noun_plural} to delete first.")
            return redirect("auth_config:index")
        try:
            wanted = {int(pk) for pk in ids}
        except ValueError:
            raise Http404("No such entry.") from None
        entries = self.scoped(self.model).filter(pk__in=wanted)
        found = list(entries)
        if len(found) != len(wanted):
            # Someone else's id, or one deleted meanwhile: act on none rather than on some.
            raise Http404("No such entry.")
        if "confirm" not in request.POST:
            return TemplateResponse(
                request,
                "auth_config/confirm_delete.html",
                {
                    "entries": found,
                    "noun": self.noun(len(found)),
                    "is_sip_user": self.model is SipUser,
                },
            )
        count = self.service(user=request.user, queryset=entries)
        messages.success(request, f"Deleted {count} {self.noun(count)}.")
        return redirect("auth_config:index")

    def noun(self, count):
        return self.model._meta.verbose_name if count == 1 else self.noun_plural


class IpEntryDeleteView(BulkDeleteView):
    model = IpAuthEntry
    noun_plural = "IP-auth entries"

    @staticmethod
    def service(user, queryset):
        return services.delete_ip_auth_entries(user=user, entries=queryset)


class SipUserDeleteView(BulkDeleteView):
    model = SipUser
    noun_plural = "SIP users"

    @staticmethod
    def service(user, queryset):
        return services.delete_sip_users(user=user, sip_users=queryset)


class AuditLogView(EntryView):
    def get(self, request, *args, **kwargs):
        log = (
            LogEntry.objects.get_for_object(self.entry)
            .select_related("actor", "content_type")
            .order_by("-timestamp", "-pk")
        )
        page = Paginator(log, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
        rows = []
        for log_entry in page:
            actor, address = visible_actor(log_entry, request.user)
            rows.append(
                {
                    "entry": log_entry,
                    "actor": actor,
                    "address": address,
                    "changes": self.changes(log_entry),
                }
            )
        return TemplateResponse(
            request,
            "auth_config/audit_log.html",
            {
                "entry": self.entry,
                "entry_name": getattr(self.entry, self.name_field),
                "page": page,
                "rows": rows,
                "back_url": self.back_url(),
            },
        )

    @staticmethod
    def changes(log_entry):
        """(label, old, new) for each field that says something; ids and empty values do not."""
        shown = []
        for label, (old, new) in log_entry.changes_display_dict.items():
            if label == "ID" or audit_value(old) == audit_value(new) == "—":
                continue
            if log_entry.action == LogEntry.Action.CREATE and new == REDACTED_EMPTY:
                continue
            shown.append((capfirst(label), old, new))
        return shown

    def back_url(self):
        name = "auth_config:ip_edit" if self.model is IpAuthEntry else "auth_config:sip_edit"
        return reverse(name, kwargs={"pk": self.entry.pk})


class IpEntryAuditView(AuditLogView):
    model = IpAuthEntry
    name_field = "host"


class SipUserAuditView(AuditLogView):
    model = SipUser
    name_field = "username"
