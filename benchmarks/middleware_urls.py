"""The views ``python -m benchmarks.middleware`` requests."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path


def page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("a page")


def whoami(request: HttpRequest) -> HttpResponse:
    """Reads request.user, as most views of a logged-in site do."""
    return HttpResponse(request.user.get_username())


urlpatterns = [
    path("page/", page),
    path("whoami/", whoami),
    path("static/app.css", page),
]
