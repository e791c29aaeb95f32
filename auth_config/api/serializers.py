"""Parse and present IP-auth entries and SIP users; every rule lives in the models and services.

Field names are the API's public contract and match the Auth tab's labels.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from auth_config.models import (
    SUPPORTED_PROTOCOLS,
    Codec,
    IpAuthEntry,
    Protocol,
    SipUser,
)
from portal.api.serializers import PortalModelSerializer, StrictSerializerMixin
from portal.models import Customer

STAFF_ONLY_HELP = "Operator staff only; please contact support to change it."
PROTOCOL_HELP = (
    "udp, tcp, tls or tls_srtp. smpp (SMS) is not supported and is refused with a "
    "message saying so."
)


class ProtocolField(serializers.ChoiceField):
    """The supported protocols; `smpp` is passed on so the model refuses it with its reason."""

    def __init__(self, **kwargs):
        super().__init__(choices=[(p, Protocol(p).label) for p in SUPPORTED_PROTOCOLS], **kwargs)

    def to_internal_value(self, data):
        if data == Protocol.SMPP:
            return Protocol.SMPP.value
        return super().to_internal_value(data)


class CodecListField(serializers.ListField):
    child = serializers.ChoiceField(choices=Codec.choices)


class StaffCustomerMixin:
    """`customer` is for staff: they must name it when creating, and see it on every object.

    Customers' objects are always their own, so for them the field does not exist: sending
    it is refused like any unknown field, and ownership comes from the key's user.
    """

    def get_fields(self):
        fields = super().get_fields()
        view = self.context.get("view")
        request = self.context.get("request")
        if getattr(view, "swagger_fake_view", False):
            return fields
        if request is None or not request.user.is_staff:
            fields.pop("customer", None)
        elif self.instance is not None and not isinstance(self.instance, list):
            fields["customer"].read_only = True
        return fields


def customer_field():
    return serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.all(),
        required=False,
        help_text=(
            "Staff only: the customer the object belongs to (required when staff create one; "
            "it cannot change later). Customers never send it."
        ),
    )


class IpAuthEntrySerializer(StaffCustomerMixin, StrictSerializerMixin, PortalModelSerializer):
    """An IP-auth entry: one address of your switch and how calls are exchanged with it."""

    customer = customer_field()
    host = serializers.CharField(
        max_length=253,
        help_text=(
            "One IPv4 or IPv6 address, CIDR range (egress only) or hostname per entry. "
            "Stored in canonical form (lower case, ranges without host bits)."
        ),
    )
    protocol = ProtocolField(required=False, help_text=PROTOCOL_HELP)
    restricted_codecs = CodecListField(
        required=False, help_text="Every codec is allowed unless it is listed here."
    )
    uac_password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text=(
            "Ingress only: the password our switch presents to yours (stored encrypted). "
            "Never returned; an empty string clears it."
        ),
    )
    uac_password_set = serializers.BooleanField(
        source="uac_password_is_set", read_only=True, help_text="Whether a UAC password is set."
    )
    resolved_addresses = serializers.SerializerMethodField(
        help_text=(
            "For an egress hostname: the addresses it had at its last lookup, which the "
            "switches accept calls from. The portal looks names up before every sync."
        )
    )

    class Meta:
        model = IpAuthEntry
        fields = [
            "id",
            "customer",
            "host",
            "direction",
            "channels",
            "flow_speed",
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
            "uac_username",
            "uac_password",
            "uac_password_set",
            "enabled",
            "resolved_addresses",
            "resolved_at",
            "resolution_error",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # Uniqueness is the model's to check, with messages that never reveal another customer.
        validators = []
        extra_kwargs = {
            "port": {
                "required": False,
                "allow_null": True,
                "help_text": "Leave out or null for the protocol's default: 5060, or 5061 for TLS.",
            },
            "direction": {
                "help_text": (
                    "From your switch's point of view: egress = your switch sends calls to us "
                    "(matched by IP authentication); ingress = your switch receives calls from us."
                )
            },
            "resolved_at": {
                "help_text": "For an egress hostname: when it was last looked up (null: not yet)."
            },
            "resolution_error": {
                "help_text": (
                    "For an egress hostname: why its last lookup failed or left addresses out; "
                    "empty when it did not."
                )
            },
            **{name: {"help_text": STAFF_ONLY_HELP} for name in IpAuthEntry.STAFF_ONLY_FIELDS},
        }

    def get_resolved_addresses(self, entry) -> list[str]:
        if not entry.is_egress_hostname:
            return []  # only these are looked up: no query for the many address entries
        return [host_address.address for host_address in entry.resolved_addresses.all()]


class SipUserSerializer(StaffCustomerMixin, StrictSerializerMixin, PortalModelSerializer):
    """A SIP user: digest credentials for the realm, usable from the whitelisted addresses."""

    customer = customer_field()
    password = serializers.CharField(
        write_only=True,
        required=False,
        trim_whitespace=False,
        help_text=(
            "Write-only; stored only as digests. Leave it out when creating to have one "
            "generated (returned once as `generated_password`)."
        ),
    )
    protocol = ProtocolField(required=False, help_text=PROTOCOL_HELP)
    restricted_codecs = CodecListField(
        required=False, help_text="Every codec is allowed unless it is listed here."
    )
    whitelist = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Addresses or CIDR ranges allowed to use this account; empty means any IP.",
    )

    class Meta:
        model = SipUser
        fields = [
            "id",
            "customer",
            "username",
            "realm",
            "password",
            "channels",
            "flow_speed",
            "bandwidth",
            "protocol",
            "dial_pattern",
            "restricted_codecs",
            "whitelist",
            "enabled",
            "password_changed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "realm", "password_changed_at", "created_at", "updated_at"]
        validators = []
        extra_kwargs = {
            "username": {
                "help_text": "Must match your UAC's configuration; cannot change after creation."
            },
            **{name: {"help_text": STAFF_ONLY_HELP} for name in SipUser.STAFF_ONLY_FIELDS},
        }


class SipUserCreatedSerializer(SipUserSerializer):
    """The new SIP user, with its generated password if none was given."""

    generated_password = serializers.SerializerMethodField(
        help_text="The generated password when none was given, shown this once; otherwise null."
    )

    class Meta(SipUserSerializer.Meta):
        fields = [*SipUserSerializer.Meta.fields, "generated_password"]

    @extend_schema_field({"type": "string", "nullable": True})
    def get_generated_password(self, sip_user):
        return getattr(sip_user, "generated_password", None)


class SipPasswordSerializer(StrictSerializerMixin, serializers.Serializer):
    """`{"password": "..."}` sets that password; `{}` generates one."""

    password = serializers.CharField(
        required=False,
        trim_whitespace=False,
        help_text="The new password; leave it out to have one generated and returned once.",
    )


class GeneratedPasswordSerializer(serializers.Serializer):
    """The generated password."""

    password = serializers.CharField(
        help_text="The generated password, shown this once; only its digests are stored."
    )
