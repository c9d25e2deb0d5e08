from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from tests.testapp import views

urlpatterns = [
    path("products/<int:pk>/rename/", views.rename_product),
    path("products/<int:pk>/arename/", views.arename_product),
    path("products/<int:pk>/", views.show_product),
    path("boom/", views.boom),
    path("whoami/", views.whoami),
    path("api/products/<int:pk>/", views.ProductAPI.as_view()),
    path("hello/", views.hello),
    path("ahello/", views.ahello),
    path("sign-in/", views.sign_in),
    path("admin/", admin.site.urls),
    path("integrations/", include("tests.integrationsapp.urls")),
]
