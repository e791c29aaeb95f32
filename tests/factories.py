import factory

from auth_config.models import IpAuthEntry, SipUser
from portal.models import Customer, User

TEST_PASSWORD = "portal-test-login-pw"


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    customer = factory.SubFactory(CustomerFactory)
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class StaffFactory(UserFactory):
    customer = None
    is_staff = True


class IpAuthEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IpAuthEntry

    customer = factory.SubFactory(CustomerFactory)
    host = factory.Sequence(
        lambda n: f"192.0.2.{n % 250 + 1}" if n < 250 else f"10.{n // 250}.{n % 250}.1"
    )
    direction = "egress"


class SipUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SipUser
        skip_postgeneration_save = True

    customer = factory.SubFactory(CustomerFactory)
    username = factory.Sequence(lambda n: f"sipuser{n}")
    realm = factory.LazyAttribute(lambda s: s.customer.sip_realm)

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or "a-long-sip-password-1")
        if create:
            obj.save()
