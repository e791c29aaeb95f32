"""IP-auth entries and SIP users over the API: parse, scope, call the service, present."""

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from auth_config import services
from auth_config.models import IpAuthEntry, SipUser, prefetch_resolved_addresses
from portal.api.viewsets import AuditLogMixin, BulkDeleteMixin, CustomerScopedViewSet

from .filters import IpAuthEntryApiFilterSet, SipUserApiFilterSet
from .serializers import (
    GeneratedPasswordSerializer,
    IpAuthEntrySerializer,
    SipPasswordSerializer,
    SipUserCreatedSerializer,
    SipUserSerializer,
)


class AuthObjectViewSet(
    AuditLogMixin,
    BulkDeleteMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    CustomerScopedViewSet,
):
    def perform_destroy(self, instance):
        self.bulk_delete(self.get_queryset().filter(pk=instance.pk))


@extend_schema_view(
    list=extend_schema(summary="List your IP-auth entries"),
    create=extend_schema(
        summary="Add an IP-auth entry (one host per entry)",
        examples=[
            OpenApiExample(
                "Your switch sends calls to us",
                value={"host": "203.0.113.10", "channels": 30, "flow_speed": 5},
                request_only=True,
            ),
            OpenApiExample(
                "Your switch receives calls from us, over TLS, with credentials",
                value={
                    "host": "pbx.example.com",
                    "direction": "ingress",
                    "protocol": "tls",
                    "uac_username": "carrier",
                    "uac_password": "a-long-uac-secret",
                },
                request_only=True,
            ),
        ],
    ),
    retrieve=extend_schema(summary="Read one IP-auth entry"),
    update=extend_schema(summary="Replace an IP-auth entry's settings"),
    partial_update=extend_schema(summary="Change some of an IP-auth entry's settings"),
    destroy=extend_schema(summary="Delete an IP-auth entry"),
)
class IpAuthEntryViewSet(AuthObjectViewSet):
    """IP authentication: the addresses of your switches and how calls are exchanged with them."""

    queryset = IpAuthEntry.objects.all()
    serializer_class = IpAuthEntrySerializer
    filterset_class = IpAuthEntryApiFilterSet
    ordering_fields = ["id", "host", "port", "direction", "protocol", "enabled", "created_at"]
    ordering = ["host", "port", "id"]
    model_field_names = {"uac_password_encrypted": "uac_password"}
    audit_secret_fields = ("uac_password_encrypted",)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if self.action == "list" and page:
            prefetch_resolved_addresses(page)
        return page

    def perform_create(self, serializer):
        fields = dict(serializer.validated_data)
        customer = fields.pop("customer", None)
        host = fields.pop("host")
        (serializer.instance,) = services.create_ip_auth_entries(
            user=self.request.user, hosts=[host], fields=fields, customer=customer
        )

    def perform_update(self, serializer):
        serializer.instance = services.update_ip_auth_entry(
            user=self.request.user, entry=serializer.instance, fields=serializer.validated_data
        )

    def bulk_delete(self, queryset):
        return services.delete_ip_auth_entries(user=self.request.user, entries=queryset)


@extend_schema_view(
    list=extend_schema(summary="List your SIP users"),
    create=extend_schema(
        summary="Add a SIP user",
        responses={201: SipUserCreatedSerializer},
        examples=[
            OpenApiExample(
                "With a generated password",
                value={"username": "office-pbx", "whitelist": ["203.0.113.0/24"]},
                request_only=True,
            ),
            OpenApiExample(
                "With your own password",
                value={"username": "branch-7", "password": "choose-a-long-passphrase"},
                request_only=True,
            ),
        ],
    ),
    retrieve=extend_schema(summary="Read one SIP user"),
    update=extend_schema(summary="Replace a SIP user's settings (and password, if given)"),
    partial_update=extend_schema(summary="Change some of a SIP user's settings"),
    destroy=extend_schema(summary="Delete a SIP user"),
)
class SipUserViewSet(AuthObjectViewSet):
    """SIP users: digest credentials (answered with a 407 challenge), each with an IP whitelist."""

    queryset = SipUser.objects.all()
    serializer_class = SipUserSerializer
    filterset_class = SipUserApiFilterSet
    ordering_fields = ["id", "username", "protocol", "enabled", "created_at"]
    ordering = ["username", "id"]
    model_field_names = {"ha1": "password"}
    audit_secret_fields = ("ha1", "ha1_sha256", "ha1b")

    def get_serializer_class(self):
        if self.action == "create":
            return SipUserCreatedSerializer
        return super().get_serializer_class()

    def perform_create(self, serializer):
        fields = dict(serializer.validated_data)
        customer = fields.pop("customer", None)
        password = fields.pop("password", None)
        sip_user, generated = services.create_sip_user(
            user=self.request.user, fields=fields, password=password, customer=customer
        )
        sip_user.generated_password = generated
        serializer.instance = sip_user

    def perform_update(self, serializer):
        fields = dict(serializer.validated_data)
        password = fields.pop("password", None)
        if password is None:
            sip_user = services.update_sip_user(
                user=self.request.user, sip_user=serializer.instance, fields=fields
            )
        else:
            sip_user, _ = services.update_sip_user_and_password(
                user=self.request.user,
                sip_user=serializer.instance,
                fields=fields,
                password=password,
            )
        serializer.instance = sip_user

    def bulk_delete(self, queryset):
        return services.delete_sip_users(user=self.request.user, sip_users=queryset)

    @extend_schema(
        request=SipPasswordSerializer,
        responses={
            200: OpenApiResponse(
                GeneratedPasswordSerializer, description="A password was generated (shown once)."
            ),
            204: OpenApiResponse(description="The given password was set."),
        },
        filters=False,
        summary="Set a SIP user's password, or have one generated",
    )
    @action(detail=True, methods=["post"], url_path="password", url_name="password")
    def password(self, request, *args, **kwargs):
        sip_user = self.get_object()
        serializer = SipPasswordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        generated = services.set_sip_user_password(
            user=request.user, sip_user=sip_user, password=serializer.validated_data.get("password")
        )
        if generated is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response({"password": generated}, status=status.HTTP_200_OK)
