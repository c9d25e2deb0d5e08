from __future__ import annotations

from django.contrib import admin
from django.urls import path
from shop import views

urlpatterns = [
    path("", views.recent_changes, name="recent-changes"),
    path("admin/", admin.site.urls),
]
