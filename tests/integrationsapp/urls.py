from __future__ import annotations

from django.urls import path

from tests.integrationsapp import views

urlpatterns = [
    path("articles/<int:pk>/rename/", views.rename_article),
    path("articles/<int:pk>/arename/", views.arename_article),
    path("pages/<int:pk>/rename/", views.rename_page),
    path("pages/<int:pk>/arename/", views.arename_page),
    path("api/articles/<int:pk>/", views.ArticleAPI.as_view()),
    path("api/pages/<int:pk>/", views.PageAPI.as_view()),
]
