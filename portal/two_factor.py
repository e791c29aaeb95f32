"""A second factor (TOTP) for operator staff: their session reaches no portal or admin page
until it is verified with a code from their authenticator app. API keys are separate and
unaffected."""

from base64 import b32encode

from django import forms
from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import QueryDict
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice


class CodeForm(forms.Form):
    code = forms.CharField(
        label="6-digit code from your authenticator app",
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_code(self):
        code = self.cleaned_data["code"].replace(" ", "")
        if not code.isdigit():
            raise forms.ValidationError("Enter the digits your authenticator app shows.")
        return code


def next_url(request):
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def with_next(route, target):
    query = QueryDict(mutable=True)
    query["next"] = target
    return f"{reverse(route)}?{query.urlencode(safe='/')}"


def check_code(device, form):
    """Verify the form's code on the device; on failure the form says why."""
    allowed, details = device.verify_is_allowed()
    if not allowed:
        locked_until = (details or {}).get("locked_until")
        seconds = (
            max(1, int((locked_until - timezone.now()).total_seconds())) if locked_until else 1
        )
        form.add_error(
            "code", f"Too many wrong codes. Wait {seconds} seconds, then enter a new code."
        )
        return False
    if device.verify_token(form.cleaned_data["code"]):
        return True
    form.add_error("code", "That code is not right, or was already used. Try the next one.")
    return False


class VerifyView(LoginRequiredMixin, View):
    template_name = "registration/otp_verify.html"

    def device(self, request):
        return next(iter(devices_for_user(request.user, confirmed=True)), None)

    def get(self, request):
        if self.device(request) is None:
            return redirect(with_next("otp_setup", next_url(request)))
        return self.render(request, CodeForm())

    def post(self, request):
        device = self.device(request)
        if device is None:
            return redirect("otp_setup")
        form = CodeForm(request.POST)
        if form.is_valid() and check_code(device, form):
            otp_login(request, device)
            return redirect(next_url(request))
        return self.render(request, form, status=400)

    def render(self, request, form, status=200):
        context = {"form": form, "next": next_url(request)}
        return render(request, self.template_name, context, status=status)


class SetupView(LoginRequiredMixin, View):
    """First use: a new secret to add to the authenticator app, confirmed by one code."""

    template_name = "registration/otp_setup.html"

    def get(self, request):
        if any(devices_for_user(request.user, confirmed=True)):
            return redirect(with_next("otp_verify", next_url(request)))
        return self.render(request, CodeForm())

    def post(self, request):
        if any(devices_for_user(request.user, confirmed=True)):
            return redirect("otp_verify")
        device = self.pending_device(request)
        form = CodeForm(request.POST)
        if form.is_valid() and check_code(device, form):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            return redirect(next_url(request))
        return self.render(request, form, status=400)

    @staticmethod
    def pending_device(request):
        device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
        return device or TOTPDevice.objects.create(
            user=request.user, name="authenticator app", confirmed=False
        )

    def render(self, request, form, status=200):
        device = self.pending_device(request)
        context = {
            "form": form,
            "next": next_url(request),
            "secret": device_secret(device),
            "config_url": device.config_url,
        }
        return render(request, self.template_name, context, status=status)


def device_secret(device):
    return b32encode(device.bin_key).decode().rstrip("=")


class StaffSecondFactorMiddleware:
    """Staff sessions reach nothing but logging in and out, and the second-factor pages, until
    they are verified. The API authenticates by key, not session, and is left alone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and user.is_staff and not user.is_verified():
            if not self.exempt(request.path_info):
                return redirect(with_next("otp_verify", request.get_full_path()))
        return self.get_response(request)

    @staticmethod
    def exempt(path):
        open_paths = {
            reverse("login"),
            reverse("logout"),
            reverse("otp_verify"),
            reverse("otp_setup"),
            reverse("admin:login"),
            reverse("admin:logout"),
        }
        return (
            path in open_paths
            or path.startswith("/api/")
            or path.startswith("/" + settings.STATIC_URL.lstrip("/"))
        )
