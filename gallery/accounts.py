"""Sign-up and the profile page, where a user creates and revokes API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from gallery.forms import ApiTokenForm, SignUpForm
from registry import selectors, services
from registry.errors import RegistryError


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("gallery:home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to CanvasCraft, {user.username}!")
        return redirect("gallery:home")
    return render(request, "registration/signup.html", {"form": form})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            token, new_key = services.api_token_create(
                user=request.user, name=form.cleaned_data["name"]
            )
        except RegistryError as error:
            form.add_error("name", error.message)
        else:
            messages.success(
                request, f"Token “{token.name}” created. Copy it now: it is shown once."
            )
            form = ApiTokenForm()
    tokens = selectors.api_tokens_for_user(request.user)
    return render(
        request,
        "registration/profile.html",
        {"form": form, "tokens": tokens, "new_key": new_key},
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(selectors.api_tokens_for_user(request.user), pk=token_id)
    services.api_token_revoke(token=token)
    messages.info(request, f"Token “{token.name}” revoked; scripts using it are now refused.")
    return redirect("profile")
