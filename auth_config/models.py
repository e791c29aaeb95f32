import hashlib
import ipaddress
import re

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import connection, models
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

from portal import crypto
from portal.models import CustomerOwnedModel

from .addresses import normalize_address, normalize_whitelist_entry

MAX_CHANNELS = 100_000
MAX_FLOW_SPEED = 10_000
MAX_BANDWIDTH_KBPS = 10_000_000
MAX_WHITELIST = 100
DEFAULT_SIP_PORT = 5060
DEFAULT_TLS_PORT = 5061


class Direction(models.TextChoices):
    # Named from the customer's switch, as on the product page.
    EGRESS = "egress", "Egress: your switch sends calls to us"
    INGRESS = "ingress", "Ingress: your switch receives calls from us"


class Protocol(models.TextChoices):
    UDP = "udp", "SIP (UDP)"
    TCP = "tcp", "SIP (TCP)"
    TLS = "tls", "SIP (TLS)"
    TLS_SRTP = "tls_srtp", "SIP (TLS) & SRTP"
    SMPP = "smpp", "SMPP (not supported)"


SUPPORTED_PROTOCOLS = [p for p in Protocol.values if p != Protocol.SMPP]
TLS_PROTOCOLS = {Protocol.TLS, Protocol.TLS_SRTP}


class DialPattern(models.TextChoices):
    E164 = "e164", "E.164 (industry standard)"
    E164_PLUS = "e164_plus", "E.164 with leading +"
    NATIONAL = "national", "National format"
    AS_DIALLED = "as_dialled", "As dialled"


class Codec(models.TextChoices):
    PCMU = "PCMU", "G.711 µ-law (PCMU)"
    PCMA = "PCMA", "G.711 A-law (PCMA)"
    G722 = "G722", "G.722"
    G729 = "G729", "G.729"
    G723 = "G723", "G.723.1"
    G726 = "G726", "G.726"
    GSM = "GSM", "GSM"
    ILBC = "iLBC", "iLBC"
    OPUS = "opus", "Opus"
    AMR = "AMR", "AMR"
    AMR_WB = "AMR-WB", "AMR-WB"
    T38 = "T38", "T.38 fax"


def validate_codec_list(value):
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError("Restricted codecs must be a list of codec names.", code="invalid")
    unknown = [item for item in value if item not in Codec.values]
    if unknown:
        raise ValidationError(
            "Unknown codec: %(codecs)s.", code="invalid", params={"codecs": ", ".join(unknown)}
        )


digits_prefix = RegexValidator(
    r"^[0-9#*+]*$", "Use only digits and the characters # * +.", code="invalid"
)
sip_user_part = RegexValidator(
    # RFC 3261 user = unreserved / escaped / user-unreserved; no '@' or ':' or spaces.
    r"^[A-Za-z0-9\-_.!~*'()&=+$,;?/]+$",
    "Use letters, digits and - _ . ! ~ * ' ( ) & = + $ , ; ? / only.",
    code="invalid",
)


def count_field(maximum, verbose_name, help_text):
    return models.PositiveIntegerField(
        verbose_name,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(maximum)],
        help_text=help_text,
    )


class AuthSettings(CustomerOwnedModel):
    """Fields shared by IP-auth entries and SIP users."""

    channels = count_field(MAX_CHANNELS, "channels", "Concurrent calls; 0 = unlimited.")
    flow_speed = count_field(MAX_FLOW_SPEED, "flow speed", "Calls per second; 0 = unlimited.")
    bandwidth = count_field(MAX_BANDWIDTH_KBPS, "bandwidth", "kbit/s; 0 = unlimited.")
    protocol = models.CharField(max_length=10, choices=Protocol.choices, default=Protocol.UDP)
    dial_pattern = models.CharField(
        max_length=16, choices=DialPattern.choices, default=DialPattern.E164
    )
    restricted_codecs = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_codec_list],
        help_text="Every codec is allowed unless it is restricted here.",
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        abstract = True

    def clean_fields(self, exclude=None):
        errors = {}
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as exc:
            errors = exc.message_dict
        if self.protocol == Protocol.SMPP:
            errors.setdefault("protocol", []).append(
                "SMPP (for SMS) is not supported yet; choose a SIP protocol."
            )
        if errors:
            raise ValidationError(errors)
        self.restricted_codecs = sorted(set(self.restricted_codecs), key=Codec.values.index)


class IpAuthEntry(AuthSettings):
    # Fields the product page tells customers not to use: staff edit them, customers see them.
    STAFF_ONLY_FIELDS = ("cli_prefix", "tech_prefix", "strip_digits", "bandwidth", "force_from")

    host = models.CharField(
        "IP or hostname",
        max_length=253,
        help_text="IPv4, IPv6, a CIDR range (egress only) or a hostname.",
    )
    direction = models.CharField(
        "switch direction", max_length=8, choices=Direction.choices, default=Direction.EGRESS
    )
    manufacturer = models.CharField(max_length=100, blank=True)
    version = models.CharField(max_length=100, blank=True)
    port = models.PositiveIntegerField(
        default=DEFAULT_SIP_PORT,
        validators=[MinValueValidator(1), MaxValueValidator(65535)],
    )
    cli_prefix = models.CharField(
        "CLI prefix", max_length=16, blank=True, validators=[digits_prefix]
    )
    tech_prefix = models.CharField(
        "tech prefix", max_length=16, blank=True, validators=[digits_prefix]
    )
    strip_digits = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(32)])
    force_from = models.CharField("force from", max_length=128, blank=True)
    uac_username = models.CharField(
        "UAC username",
        max_length=64,
        blank=True,
        help_text="Only for ingress: the username our switch presents to yours.",
    )
    uac_password_encrypted = models.TextField("UAC password", blank=True, editable=False)
    # For a hostname: when the portal last looked it up, and why that failed (empty if not).
    # The addresses found are HostAddress rows.
    resolved_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_error = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        ordering = ["host", "port", "id"]
        verbose_name = "IP-auth entry"
        verbose_name_plural = "IP-auth entries"
        constraints = [
            # The switch matches inbound calls on address, port and tech prefix only: two
            # owners of one combination could not be told apart.
            models.UniqueConstraint(
                fields=["host", "port", "tech_prefix"],
                condition=Q(direction="egress"),
                name="ipauth_unique_egress_address",
            ),
            models.UniqueConstraint(
                fields=["customer", "host", "port", "tech_prefix"],
                condition=Q(direction="ingress"),
                name="ipauth_unique_ingress_per_customer",
            ),
            models.CheckConstraint(
                condition=Q(port__gte=1) & Q(port__lte=65535), name="ipauth_port_range"
            ),
            models.CheckConstraint(condition=~Q(protocol="smpp"), name="ipauth_protocol_supported"),
        ]
        indexes = [
            models.Index(fields=["customer", "host"], name="ipauth_customer_host"),
            # Every saved change looks up the enabled egress ranges (firewall's automatic
            # lift); ranges are few, entries many: without this that is a full-table scan.
            models.Index(
                fields=["host"],
                condition=Q(direction="egress") & Q(host__contains="/"),
                name="ipauth_egress_ranges",
            ),
        ]

    def __str__(self):
        return f"{self.host}:{self.port} ({self.direction})"

    @property
    def is_range(self):
        return "/" in self.host

    @property
    def is_hostname(self):
        return is_hostname(self.host)

    @property
    def is_egress_hostname(self):
        """Looked up before every sync: its addresses are what the switches accept."""
        return self.direction == Direction.EGRESS and self.is_hostname

    @property
    def uac_password_is_set(self):
        return bool(self.uac_password_encrypted)

    def set_uac_password(self, password):
        self.uac_password_encrypted = crypto.encrypt(password) if password else ""

    def get_uac_password(self):
        return crypto.decrypt(self.uac_password_encrypted) if self.uac_password_encrypted else ""

    def clean_fields(self, exclude=None):
        errors = {}
        try:
            self.host = normalize_address(
                self.host or "", allow_cidr=self.direction != Direction.INGRESS
            )
        except ValidationError as exc:
            errors["host"] = exc.messages
        if isinstance(self.uac_username, str):
            self.uac_username = self.uac_username.strip()
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(field, []).extend(messages)
        if errors:
            raise ValidationError(errors)

    def clean(self):
        errors = {}
        if self.direction == Direction.EGRESS and (
            self.uac_username or self.uac_password_encrypted
        ):
            errors["uac_username"] = (
                "Username and password are only used for ingress entries, where our switch "
                "sends calls to yours; clear them or change the direction."
            )
        if self.protocol in TLS_PROTOCOLS and self.port == DEFAULT_SIP_PORT:
            errors["port"] = (
                f"Port {DEFAULT_SIP_PORT} is for unencrypted SIP; TLS normally uses "
                f"{DEFAULT_TLS_PORT}. Leave the port empty for the default."
            )
        if (
            self.direction == Direction.INGRESS
            and self.uac_password_encrypted
            and not self.uac_username
        ):
            errors["uac_username"] = "Enter the username that goes with the password."
        if errors:
            raise ValidationError(errors)

    def validate_constraints(self, exclude=None):
        # Uniqueness is checked here, with messages that never reveal another customer.
        clash = IpAuthEntry.objects.filter(
            host=self.host, port=self.port, tech_prefix=self.tech_prefix, direction=self.direction
        ).exclude(pk=self.pk)
        if self.direction == Direction.INGRESS:
            clash = clash.filter(customer_id=self.customer_id)
        owner = clash.values_list("customer_id", flat=True).first()
        if owner is not None:
            if owner == self.customer_id:
                message = (
                    f"You already have an {self.direction} entry for {self.host} "
                    f"port {self.port}"
                    + (f" with tech prefix {self.tech_prefix}" if self.tech_prefix else "")
                    + "."
                )
            else:
                message = (
                    f"{self.host} port {self.port} is already registered to another account, so "
                    "the switch could not tell your calls apart. Contact support if this is "
                    "your switch."
                )
            raise ValidationError({"host": ValidationError(message, code="unique")})
        if (
            self.direction == Direction.EGRESS
            and self._address_is_new()
            and self._overlaps_another_customer()
        ):
            message = (
                f"{self.host} overlaps addresses registered to another account on port "
                f"{self.port}, so the switch could not tell your calls apart. Contact support "
                "if these addresses are yours."
            )
            raise ValidationError({"host": ValidationError(message, code="overlap")})
        # Not calling super(): every constraint in Meta is checked above or by clean_fields(),
        # and Django's generic check would run each one again as a query of its own (four per
        # save). tests/test_auth_services.py keeps that list complete; the database still
        # enforces them all.

    def _address_is_new(self):
        """Created, or saved with another address, port, tech prefix or direction than before.

        Entries saved before overlaps were refused can still be edited in other respects.
        """
        if self._state.adding:
            return True
        return not IpAuthEntry.objects.filter(
            pk=self.pk,
            host=self.host,
            port=self.port,
            tech_prefix=self.tech_prefix,
            direction=self.direction,
        ).exists()

    def _overlaps_another_customer(self):
        try:
            network = ipaddress.ip_network(self.host, strict=False)
        except ValueError:
            return False  # a hostname: its addresses are checked when it is looked up
        return overlaps_another_customers_egress(
            network,
            port=self.port,
            tech_prefix=self.tech_prefix,
            customer_id=self.customer_id,
            # validate_constraints() has just looked for an equal address of anyone's.
            equal_entries_checked=True,
        )


def overlaps_another_customers_egress(
    network, *, port, tech_prefix, customer_id, equal_entries_checked=False
):
    """Whether another customer's egress entries on this port and tech prefix share an address
    with `network`: their addresses and ranges, and what their hostnames resolved to.

    The switch looks an address up among exact entries first and then among ranges in no set
    order, so two customers' entries sharing addresses would let one take the other's calls
    (and their limits) from those addresses.
    """
    entries = IpAuthEntry.objects.filter(
        direction=Direction.EGRESS, port=port, tech_prefix=tech_prefix
    ).exclude(customer_id=customer_id)
    resolved = HostAddress.objects.filter(entry__in=entries)
    if network.num_addresses == 1:
        address = str(network.network_address)
        if not equal_entries_checked and entries.filter(host=address).exists():
            return True
        if resolved.filter(address=address).exists():
            return True
        # Only ranges can hold an address, and they are few (index ipauth_egress_ranges).
        entries = entries.filter(host__contains="/")
    elif connection.vendor == "postgresql":
        inside = RawSQL("address <<= CAST(%s AS inet)", (str(network),), BooleanField())
        if resolved.alias(inside=inside).filter(inside=True).exists():
            return True
    elif any(_overlap(address, network) for address in resolved.values_list("address", flat=True)):
        return True
    if connection.vendor == "postgresql":
        overlapping = RawSQL(
            # The CASE keeps hostnames away from the cast.
            "CASE WHEN host ~ '^[0-9.]+(/[0-9]+)?$' OR strpos(host, ':') > 0 "
            "THEN CAST(host AS inet) && CAST(%s AS inet) ELSE false END",
            (str(network),),
            output_field=BooleanField(),
        )
        return entries.alias(overlapping=overlapping).filter(overlapping=True).exists()
    return any(_overlap(host, network) for host in entries.values_list("host", flat=True))


def _overlap(host, network):
    try:
        other = ipaddress.ip_network(host, strict=False)
    except ValueError:
        return False  # a hostname
    return other.version == network.version and other.overlaps(network)


# Hostnames as stored: fully qualified, so with a dot, and never all digits, dots and slashes
# (an IPv4 address or range) nor holding ':' (IPv6). The query and the function agree.
HOSTNAME_ENTRIES = Q(host__contains=".") & ~Q(host__regex=r"^[0-9./]+$") & ~Q(host__contains=":")
_ADDRESS_OR_RANGE_V4 = re.compile(r"[0-9./]+")


def is_hostname(host):
    """Whether a stored host is a name rather than an address or range."""
    return "." in host and ":" not in host and not _ADDRESS_OR_RANGE_V4.fullmatch(host)


class HostAddress(models.Model):
    """An address an egress hostname entry had at its last lookup; the switches match these.

    The switches match a caller's source address and do no DNS lookups of their own, so the
    portal looks the names up (before every sync) and hands the switches the addresses.
    """

    entry = models.ForeignKey(
        IpAuthEntry, on_delete=models.CASCADE, related_name="resolved_addresses"
    )
    address = models.GenericIPAddressField()

    class Meta:
        ordering = ["entry", "address"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "address"], name="hostaddress_unique"),
        ]
        indexes = [models.Index(fields=["address"], name="hostaddress_address")]

    def __str__(self):
        return f"{self.entry.host} → {self.address}"


def prefetch_resolved_addresses(entries):
    """Fetch the looked-up addresses of the egress hostnames among `entries` (a page of them)
    in one query; address entries have none, so a page without names costs no query."""
    models.prefetch_related_objects(
        [entry for entry in entries if entry.is_egress_hostname], "resolved_addresses"
    )


def ha1(username, realm, password, algorithm="md5"):
    return hashlib.new(algorithm, f"{username}:{realm}:{password}".encode()).hexdigest()


class SipUser(AuthSettings):
    STAFF_ONLY_FIELDS = ("channels", "flow_speed", "bandwidth")

    username = models.CharField(
        max_length=64,
        validators=[sip_user_part],
        help_text="Must match the username configured on your UAC.",
    )
    realm = models.CharField(max_length=128, editable=False)
    # Only the digests the switch needs are stored, never the password (RFC 2617, RFC 8760).
    ha1 = models.CharField("password", max_length=32, editable=False)
    ha1_sha256 = models.CharField(max_length=64, editable=False)
    ha1b = models.CharField(max_length=32, editable=False)
    password_changed_at = models.DateTimeField(null=True, editable=False)
    whitelist = models.JSONField(
        "IP whitelist",
        default=list,
        blank=True,
        help_text="Addresses or CIDR ranges allowed to use this account; empty means any IP.",
    )

    class Meta:
        ordering = ["username", "id"]
        verbose_name = "SIP user"
        constraints = [
            models.UniqueConstraint(fields=["realm", "username"], name="sipuser_unique_per_realm"),
            models.CheckConstraint(
                condition=~Q(protocol="smpp"), name="sipuser_protocol_supported"
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "username"], name="sipuser_customer_username"),
            # The switch looks up a SIP user's whitelist on every call by the integer id its
            # views expose (CAST(id AS integer)), which the primary key index cannot serve.
            models.Index(Cast("id", models.IntegerField()), name="sipuser_id_as_integer"),
        ]

    def __str__(self):
        return f"{self.username}@{self.realm}"

    @property
    def has_password(self):
        return bool(self.ha1)

    def set_password(self, password):
        self.ha1 = ha1(self.username, self.realm, password)
        self.ha1_sha256 = ha1(self.username, self.realm, password, "sha256")
        self.ha1b = ha1(f"{self.username}@{self.realm}", self.realm, password)

    def clean_fields(self, exclude=None):
        errors = {}
        if isinstance(self.username, str):
            self.username = self.username.strip()
        if not isinstance(self.whitelist, list):
            errors["whitelist"] = ["The whitelist must be a list of addresses or CIDR ranges."]
        else:
            normalised, problems = [], []
            for item in self.whitelist:
                try:
                    entry = normalize_whitelist_entry(item)
                except ValidationError as exc:
                    problems.extend(exc.messages)
                    continue
                if entry not in normalised:
                    normalised.append(entry)
            if len(normalised) > MAX_WHITELIST:
                problems.append(f"At most {MAX_WHITELIST} whitelist entries are allowed.")
            if problems:
                errors["whitelist"] = problems
            else:
                self.whitelist = normalised
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(field, []).extend(messages)
        if errors:
            raise ValidationError(errors)

    def validate_constraints(self, exclude=None):
        if (
            SipUser.objects.filter(realm=self.realm, username__iexact=self.username)
            .exclude(pk=self.pk)
            .exists()
        ):
            message = f"The username “{self.username}” is already taken; choose another."
            raise ValidationError({"username": ValidationError(message, code="unique")})
        # Not calling super(), as in IpAuthEntry.validate_constraints().
