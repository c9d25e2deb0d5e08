"""Views that save models tracked by reversion or simple-history, sync, async and DRF."""

from __future__ import annotations

import reversion
from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tests.integrationsapp.models import Article, Page


def _rename_article(pk: int, title: str) -> None:
    with reversion.create_revision():
        article = Article.objects.get(pk=pk)
        article.title = title
        article.save()


def rename_article(request: HttpRequest, pk: int) -> HttpResponse:
    _rename_article(pk, request.GET["title"])
    return HttpResponse("ok")


async def arename_article(request: HttpRequest, pk: int) -> HttpResponse:
    # reversion's create_revision() is sync: the usual way from an async view.
    await sync_to_async(_rename_article)(pk, request.GET["title"])
    return HttpResponse("ok")


def rename_page(request: HttpRequest, pk: int) -> HttpResponse:
    page = Page.objects.get(pk=pk)
    page.title = request.GET["title"]
    page.save()
    return HttpResponse("ok")


async def arename_page(request: HttpRequest, pk: int) -> HttpResponse:
    page = await Page.objects.aget(pk=pk)
    page.title = request.GET["title"]
    await page.asave()
    return HttpResponse("ok")


class ArticleAPI(APIView):
    def patch(self, request: Request, pk: int) -> Response:
        _rename_article(pk, request.data["title"])
        return Response({"title": request.data["title"]})


class PageAPI(APIView):
    def patch(self, request: Request, pk: int) -> Response:
        page = Page.objects.get(pk=pk)
        page.title = request.data["title"]
        page.save()
        return Response({"title": page.title})
