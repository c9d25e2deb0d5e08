"""The site ``python -m benchmarks.server`` serves: login-required views that write a row.

``application`` is the ASGI application (uvicorn), ``wsgi_application`` the
WSGI one (gunicorn). The model written is tracked unless the mode is ``plain``
(the business fields only) or ``stamped`` (the columns of a tracked model,
filled as hand-written code would: the users by the view, the times by ``auto_now``).
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.server_settings")

from django.conf import settings  # noqa: E402
from django.contrib.auth.decorators import login_required  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402

application = get_asgi_application()
wsgi_application = get_wsgi_application()

from benchmarks.benchapp.models import Plain, PlainStamped, Tracked  # noqa: E402

MODEL = {"plain": Plain, "stamped": PlainStamped}.get(settings.MODE, Tracked)


def _fields(user: Any) -> dict[str, object]:
    fields: dict[str, object] = {
        "name": f"by {user.pk}",
        "sku": "SKU",
        "price": "9.99",
        "quantity": 1,
    }
    if MODEL is PlainStamped:
        fields.update(created_by=user, updated_by=user)
    return fields


@login_required
def write(request: HttpRequest) -> HttpResponse:
    MODEL.objects.create(**_fields(request.user))
    return HttpResponse("ok")


@login_required
async def awrite(request: HttpRequest) -> HttpResponse:
    user = await request.auser()
    await MODEL.objects.acreate(**_fields(user))
    return HttpResponse("ok")


urlpatterns = [path("write/", write), path("awrite/", awrite)]
