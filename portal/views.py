from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from . import crypto
from .forms import ApiKeyForm
from .models import ApiKey

NEW_KEY_SESSION_KEY = "new_api_key"


@method_decorator(never_cache, name="dispatch")
class ApiKeysView(LoginRequiredMixin, View):
    """The user's API keys: create one (its token is shown this once), see their use, revoke."""

    template_name = "portal/api_keys.html"

    def get(self, request):
        extra = {}
        new_key = request.session.pop(NEW_KEY_SESSION_KEY, None)
        if new_key:
            api_key = ApiKey.objects.filter(pk=new_key["id"], user=request.user).first()
            if api_key is not None:
                extra = {"new_key": api_key, "new_token": crypto.decrypt(new_key["token"])}
        return self.render_page(request, ApiKeyForm(), **extra)

    def post(self, request):
        form = ApiKeyForm(request.POST)
        if form.is_valid():
            try:
                api_key, token = ApiKey.objects.issue(
                    user=request.user,
                    name=form.cleaned_data["name"],
                    read_only=form.cleaned_data["read_only"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                # Redirected, so a reload cannot create a second key; the token waits in the
                # session, encrypted, only until the next page shows it.
                request.session[NEW_KEY_SESSION_KEY] = {
                    "id": api_key.pk,
                    "token": crypto.encrypt(token),
                }
                return redirect("portal:api_keys")
        return self.render_page(request, form, status=400)

    def render_page(self, request, form, status=200, **extra):
        context = {
            "form": form,
            "api_keys": ApiKey.objects.filter(user=request.user),
            **extra,
        }
        return render(request, self.template_name, context, status=status)


@method_decorator(never_cache, name="dispatch")
class RevokeApiKeyView(LoginRequiredMixin, View):
    """GET asks first (a revoked key cannot be brought back); POST revokes."""

    def get(self, request, pk):
        api_key = get_object_or_404(ApiKey, pk=pk, user=request.user, revoked_at__isnull=True)
        return render(request, "portal/confirm_revoke.html", {"api_key": api_key})

    def post(self, request, pk):
        api_key = get_object_or_404(ApiKey, pk=pk, user=request.user)
        api_key.revoke()
        messages.success(
            request, f"The key “{api_key.name}” ({api_key.prefix}…) is revoked and no longer works."
        )
        return redirect("portal:api_keys")
