"""Forms of the Auth tab.

They parse and render only: every rule is checked by the services (auth_config/services.py),
whose ValidationError is mapped back onto the fields here with `apply_errors`.
"""

import django_filters
from django import forms
from django.urls import reverse_lazy
from django.utils.html import format_html

from portal.models import Customer

from .addresses import split_addresses
from .filtersets import IpAuthEntryFilterSet, SipUserFilterSet
from .models import (
    DEFAULT_SIP_PORT,
    DEFAULT_TLS_PORT,
    MAX_BANDWIDTH_KBPS,
    MAX_CHANNELS,
    MAX_FLOW_SPEED,
    Codec,
    Direction,
    IpAuthEntry,
    Protocol,
    SipUser,
)

CONTACT_SUPPORT = "Set by our support team; please contact support to change it."

# The product page's explanation of each protocol, shown beside the choice.
PROTOCOL_EXPLANATIONS = {
    Protocol.UDP: "SIP and RTP are sent unencrypted over UDP.",
    Protocol.TCP: "SIP is sent over TCP, RTP over UDP.",
    Protocol.TLS: "SIP is sent over TLS (TCP), RTP over UDP.",
    Protocol.TLS_SRTP: "SIP is sent over TLS (TCP), RTP is encrypted with SRTP.",
    Protocol.SMPP: "SMPP, for SMS, is not supported yet.",
}


class UnsupportedChoiceMixin:
    """Shows unsupported choices (SMPP) as disabled options instead of hiding them."""

    unsupported = (Protocol.SMPP,)

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        if value in self.unsupported:
            option["attrs"]["disabled"] = True
        return option


class ProtocolSelect(UnsupportedChoiceMixin, forms.Select):
    pass


class ProtocolRadioSelect(UnsupportedChoiceMixin, forms.RadioSelect):
    pass


class ReadOnlyValue(forms.Widget):
    """How a customer sees a staff-only field: its value as text, with no input to type in."""

    def __init__(self, choices=None, attrs=None):
        super().__init__(attrs)
        self.choices = dict(choices or ())

    def render(self, name, value, attrs=None, renderer=None):
        if value in (None, "", []):
            shown = "not set"
        else:
            shown = self.choices.get(value, value)
        return format_html(
            '<span class="readonly-value" id="{}">{}</span>', (attrs or {}).get("id", ""), shown
        )

    def id_for_label(self, id_):
        return ""


def model_field(model, name, **kwargs):
    """The model's own form field, so labels, help texts and choices are written once."""
    return model._meta.get_field(name).formfield(**kwargs)


class Fieldset:
    def __init__(self, form, slug, title, names):
        self.slug = slug
        self.title = title
        present = [form[name] for name in names if name in form.fields]
        self.fields = [field for field in present if field.name not in form.locked_fields]
        # Shown together, read-only, with one "contact support" note.
        self.locked = [field for field in present if field.name in form.locked_fields]
        self.has_errors = any(field.errors for field in present)


class EntryForm(forms.Form):
    """Shared behaviour: staff-only fields are read-only for customers; service errors map back."""

    model = None

    def __init__(self, *args, user, instance=None, **kwargs):
        self.user = user
        self.instance = instance
        super().__init__(*args, **kwargs)
        if instance is None and user.is_staff:
            self.fields["customer"] = forms.ModelChoiceField(
                queryset=Customer.objects.filter(active=True),
                label="Customer",
                help_text="The customer this entry belongs to.",
            )
            self.order_fields(["customer"])
        for name in self.locked_fields:
            field = self.fields[name]
            field.disabled = True
            field.required = False
            field.widget = ReadOnlyValue(choices=getattr(field, "choices", None))
            field.help_text = CONTACT_SUPPORT

    @property
    def locked_fields(self):
        if self.user.is_staff:
            return ()
        return [name for name in self.model.STAFF_ONLY_FIELDS if name in self.fields]

    def model_initial(self, names):
        """Initial values from the entry being edited, or from the model's defaults."""
        initial = {}
        for name in names:
            if self.instance is not None:
                initial[name] = getattr(self.instance, name)
            else:
                default = self.model._meta.get_field(name).get_default()
                if default not in (None, ""):
                    initial[name] = default
        return initial

    def service_fields(self, names):
        """The cleaned values to hand to a service.

        A customer's staff-only fields are sent only when the request carried them, so that the
        service (which owns that rule) refuses a change instead of the form hiding it.
        """
        fields = {name: self.cleaned_data[name] for name in names if name in self.cleaned_data}
        for name in self.locked_fields:
            fields.pop(name, None)
            raw = self.data.get(self.add_prefix(name))
            if raw in (None, ""):
                continue
            try:
                fields[name] = self.fields[name].clean(raw)
            except forms.ValidationError as exc:
                self.add_error(name, exc)
        return fields

    def apply_errors(self, exc):
        """Show a service's ValidationError next to the fields it names."""
        for field, messages in exc.message_dict.items():
            self.add_error(field if field in self.fields else None, messages)

    def link_errors(self):
        """Let screen readers announce a field's error with the field."""
        for name in self.errors:
            if name not in self.fields:
                continue
            described_by = [f"{self[name].auto_id}_error"]
            if self.fields[name].help_text:
                described_by.append(f"{self[name].auto_id}_helptext")
            self.fields[name].widget.attrs["aria-describedby"] = " ".join(described_by)

    def fieldset(self, slug, title, names):
        return Fieldset(self, slug, title, names)


def codec_field():
    return forms.MultipleChoiceField(
        label="Restricted codecs",
        choices=Codec.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Every codec is allowed unless it is ticked here.",
    )


class IpAuthEntryForm(EntryForm):
    model = IpAuthEntry
    basic = ["customer", "host", "channels", "flow_speed", "enabled"]
    advanced = [
        "restricted_codecs",
        "manufacturer",
        "version",
        "protocol",
        "port",
        "dial_pattern",
        "cli_prefix",
        "tech_prefix",
        "strip_digits",
        "bandwidth",
        "force_from",
        "direction",
        "uac_username",
        "uac_password",
        "clear_uac_password",
    ]
    # Model fields the form copies as they are; the rest are handled on their own (the owner,
    # the host or hosts, and the write-only UAC password).
    saved_fields = [
        name
        for name in basic + advanced
        if name not in ("customer", "host", "uac_password", "clear_uac_password")
    ]

    channels = model_field(IpAuthEntry, "channels", max_value=MAX_CHANNELS)
    flow_speed = model_field(IpAuthEntry, "flow_speed", max_value=MAX_FLOW_SPEED)
    enabled = model_field(
        IpAuthEntry,
        "enabled",
        help_text="Untick to stop the switch using this entry without deleting it.",
    )
    restricted_codecs = codec_field()
    manufacturer = model_field(
        IpAuthEntry, "manufacturer", help_text="For your reference only; the switch ignores it."
    )
    version = model_field(
        IpAuthEntry, "version", help_text="For your reference only; the switch ignores it."
    )
    protocol = model_field(IpAuthEntry, "protocol", widget=ProtocolSelect)
    port = forms.IntegerField(
        label="Port",
        required=False,
        min_value=1,
        max_value=65535,
        help_text=(
            f"Leave empty for the default: {DEFAULT_SIP_PORT}, or {DEFAULT_TLS_PORT} for TLS."
        ),
    )
    dial_pattern = model_field(
        IpAuthEntry,
        "dial_pattern",
        help_text="E.164 is the industry standard; keep it unless you know you need another.",
    )
    cli_prefix = model_field(IpAuthEntry, "cli_prefix")
    tech_prefix = model_field(IpAuthEntry, "tech_prefix")
    strip_digits = model_field(IpAuthEntry, "strip_digits", max_value=32)
    bandwidth = model_field(
        IpAuthEntry, "bandwidth", max_value=MAX_BANDWIDTH_KBPS, label="Bandwidth (kbit/s)"
    )
    force_from = model_field(IpAuthEntry, "force_from")
    direction = model_field(
        IpAuthEntry,
        "direction",
        widget=forms.RadioSelect,
        label="Switch direction",
        help_text=(
            "Seen from your switch (PBX, dialer…). A switch that both sends and receives "
            "calls needs one entry for each direction."
        ),
    )
    uac_username = model_field(
        IpAuthEntry,
        "uac_username",
        help_text=(
            "Ingress entries only, and only if your switch asks our switch to authenticate "
            "(our switch then acts as a client, a UAC). Not usually needed."
        ),
    )
    uac_password = forms.CharField(
        label="UAC password",
        required=False,
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    clear_uac_password = forms.BooleanField(label="Clear the UAC password", required=False)

    def __init__(self, *args, user, instance=None, **kwargs):
        super().__init__(*args, user=user, instance=instance, **kwargs)
        if instance is None:
            self.fields["host"] = forms.CharField(
                label="IP(s) or hostname",
                widget=forms.Textarea(
                    attrs={
                        "rows": 3,
                        "spellcheck": "false",
                        # Ask the portal, while the customer types, whether an address is
                        # blocked on the switch (the answer fills #host-blocks).
                        "hx-get": reverse_lazy("auth_config:ip_host_check"),
                        "hx-trigger": "load, input changed delay:600ms",
                        "hx-target": "#host-blocks",
                        "aria-describedby": "host-blocks",
                    }
                ),
                help_text=(
                    "One per line; each becomes its own entry. IPv4, IPv6, a CIDR range "
                    "(egress only) or a hostname such as pbx.example.com."
                ),
            )
            del self.fields["clear_uac_password"]
            self.fields["uac_password"].help_text = "Ingress entries only, with the username."
            if "customer" in self.fields:
                # Staff check the addresses against the customer they have chosen.
                self.fields["host"].widget.attrs["hx-include"] = "[name=customer]"
        else:
            self.fields["host"] = forms.CharField(
                label="IP or hostname",
                max_length=253,
                widget=forms.TextInput(attrs={"spellcheck": "false"}),
                help_text="IPv4, IPv6, a CIDR range (egress only) or a hostname.",
            )
            password = self.fields["uac_password"]
            if instance.uac_password_is_set:
                password.help_text = "Currently set. It is never shown; leave empty to keep it."
            else:
                password.help_text = "Currently not set."
                del self.fields["clear_uac_password"]
        self.order_fields(self.basic + self.advanced)
        self.initial = {**self.model_initial(self.saved_fields), **self.initial}
        if instance is not None:
            self.initial.setdefault("host", instance.host)

    @property
    def fieldsets(self):
        return [
            self.fieldset("basic", "Basic", self.basic),
            self.fieldset("advanced", "Advanced", self.advanced),
        ]

    def hosts(self):
        return split_addresses(self.cleaned_data["host"])

    def changes(self):
        fields = self.service_fields(self.saved_fields)
        if self.cleaned_data.get("clear_uac_password"):
            fields["uac_password"] = ""
        elif self.cleaned_data.get("uac_password"):
            fields["uac_password"] = self.cleaned_data["uac_password"]
        if self.instance is not None:
            fields["host"] = self.cleaned_data["host"]
        return fields


class SipUserForm(EntryForm):
    model = SipUser
    saved_fields = [
        "protocol",
        "dial_pattern",
        "restricted_codecs",
        "whitelist",
        "enabled",
        "channels",
        "flow_speed",
        "bandwidth",
    ]

    username = model_field(
        SipUser, "username", widget=forms.TextInput(attrs={"spellcheck": "false"})
    )
    password = forms.CharField(
        label="Password",
        required=False,
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="At least 12 characters; must match the password configured on your UAC.",
    )
    generate_password = forms.BooleanField(
        label="Generate a strong password for me (shown once)", required=False
    )
    protocol = model_field(SipUser, "protocol", widget=ProtocolRadioSelect)
    dial_pattern = model_field(
        SipUser,
        "dial_pattern",
        help_text="E.164 is the industry standard; keep it unless you know you need another.",
    )
    restricted_codecs = codec_field()
    whitelist = forms.CharField(
        label="IP whitelist",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text="One IP address or CIDR range (such as 198.51.100.0/24) per line.",
    )
    enabled = model_field(
        SipUser,
        "enabled",
        help_text="Untick to refuse calls from this account without deleting it.",
    )
    channels = model_field(SipUser, "channels", max_value=MAX_CHANNELS)
    flow_speed = model_field(SipUser, "flow_speed", max_value=MAX_FLOW_SPEED)
    bandwidth = model_field(
        SipUser, "bandwidth", max_value=MAX_BANDWIDTH_KBPS, label="Bandwidth (kbit/s)"
    )

    def __init__(self, *args, user, instance=None, **kwargs):
        super().__init__(*args, user=user, instance=instance, **kwargs)
        self.initial = {**self.model_initial(self.saved_fields), **self.initial}
        self.initial["whitelist"] = "\n".join(self.initial.get("whitelist") or [])
        if instance is not None:
            # The digests cover the username, so it cannot change after creation.
            del self.fields["username"]
            self.fields["password"].label = "New password"
            self.fields[
                "password"
            ].help_text = "Leave empty to keep the current password. At least 12 characters."
            self.fields["generate_password"].label = "Generate a new password (shown once)"

    @property
    def fieldsets(self):
        return [
            self.fieldset(
                "account", "Account", ["customer", "username", "password", "generate_password"]
            ),
            self.fieldset(
                "calls",
                "Calls",
                ["protocol", "dial_pattern", "restricted_codecs", "whitelist", "enabled"],
            ),
            self.fieldset("limits", "Limits", ["channels", "flow_speed", "bandwidth"]),
        ]

    @property
    def whitelist_is_empty(self):
        value = self["whitelist"].value()
        return not (value or "").strip()

    def clean(self):
        cleaned = super().clean()
        password, generate = cleaned.get("password"), cleaned.get("generate_password")
        if password and generate:
            self.add_error("password", "Either type a password or tick “generate”, not both.")
        elif self.instance is None and not password and not generate and "password" in cleaned:
            self.add_error(
                "password", "Enter a password, or tick “generate” to have one created for you."
            )
        return cleaned

    def changes(self):
        fields = self.service_fields(self.saved_fields)
        if "whitelist" in fields:
            fields["whitelist"] = split_addresses(fields["whitelist"])
        if self.instance is None:
            fields["username"] = self.cleaned_data["username"]
        return fields

    def new_password(self):
        """(wanted, password): password None means generate one."""
        if self.cleaned_data.get("generate_password"):
            return True, None
        password = self.cleaned_data.get("password")
        return bool(password), password or None


class IpAuthTabFilterSet(IpAuthEntryFilterSet):
    direction = django_filters.ChoiceFilter(choices=Direction.choices, empty_label="Any direction")


class StaffCustomerFilterMixin(django_filters.FilterSet):
    customer = django_filters.ModelChoiceFilter(
        queryset=Customer.objects.all(), label="Customer", empty_label="All customers"
    )


class StaffIpAuthTabFilterSet(StaffCustomerFilterMixin, IpAuthTabFilterSet):
    class Meta(IpAuthEntryFilterSet.Meta):
        fields = [*IpAuthEntryFilterSet.Meta.fields, "customer"]


class StaffSipUserFilterSet(StaffCustomerFilterMixin, SipUserFilterSet):
    class Meta(SipUserFilterSet.Meta):
        fields = [*SipUserFilterSet.Meta.fields, "customer"]
