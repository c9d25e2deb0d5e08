"""The site ``python -m benchmarks.server`` serves: login-required views that write a row.

``application`` is the ASGI application (uvicorn), ``wsgi_application`` the
WSGI one (gunicorn). The model written is tracked unless the mode is ``plain``.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.server_settings")

from django.conf import settings  # noqa: E402
from django.contrib.auth.decorators import login_required  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402

application = get_asgi_application()
wsgi_application = get_wsgi_application()

from benchmarks.benchapp.models import Plain, Tracked  # noqa: E402

MODEL = Plain if settings.MODE == "plain" else Tracked


def _fields(request: HttpRequest) -> dict[str, object]:
    return {"name": f"by {request.user.pk}", "sku": "SKU", "price": "9.99", "quantity": 1}


@login_required
def write(request: HttpRequest) -> HttpResponse:
    MODEL.objects.create(**_fields(request))
    return HttpResponse("ok")


@login_required
async def awrite(request: HttpRequest) -> HttpResponse:
    user = await request.auser()
    await MODEL.objects.acreate(name=f"by {user.pk}", sku="SKU", price="9.99", quantity=1)
    return HttpResponse("ok")


urlpatterns = [path("write/", write), path("awrite/", awrite)]
