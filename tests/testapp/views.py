"""Views the middleware tests call through the test client and the ASGI handler."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.contrib.auth import authenticate, login
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from django_trackable.context import get_current_user
from tests.testapp.models import Product


def rename_product(request: HttpRequest, pk: int) -> HttpResponse:
    product = Product.objects.get(pk=pk)
    product.name = request.GET["name"]
    product.save()
    return HttpResponse("ok")


async def arename_product(request: HttpRequest, pk: int) -> HttpResponse:
    product = await Product.objects.aget(pk=pk)
    product.name = request.GET["name"]
    await product.asave()
    return HttpResponse("ok")


def show_product(request: HttpRequest, pk: int) -> HttpResponse:
    return HttpResponse(Product.objects.get(pk=pk).name)


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


async def whoami(request: HttpRequest) -> JsonResponse:
    user = await sync_to_async(get_current_user)()
    return JsonResponse({"user": getattr(user, "username", None)})


class ProductAPI(APIView):
    def patch(self, request: Request, pk: int) -> Response:
        product = Product.objects.get(pk=pk)
        product.name = request.data["name"]
        product.save()
        return Response({"name": product.name})


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hello")


async def ahello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hello")


def sign_in(request: HttpRequest) -> HttpResponse:
    """A minimal login view: authenticate() with the request, then login()."""
    user = authenticate(
        request, username=request.POST.get("username"), password=request.POST.get("password")
    )
    if user is None:
        return HttpResponse("no", status=401)
    login(request, user)
    Product.objects.create(name=f"signed in: {user.get_username()}")
    return HttpResponse("yes")
