from __future__ import annotations

from django.urls import path

from tests.adminapp.site import site

urlpatterns = [path("admin/", site.urls)]
