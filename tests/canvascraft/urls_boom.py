"""The studio's URLs plus views that fail on purpose, for the error-handling tests."""

from django.core.exceptions import PermissionDenied
from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from canvascraft.urls import handler400, handler403, handler404, handler500, urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


class PaintSpilled(RuntimeError):
    """A failure no view expects."""


def plain_boom(request):
    raise PaintSpilled("the palette tipped over")


@api_view(["GET"])
@permission_classes([AllowAny])
def api_boom(request):
    raise PaintSpilled("the easel collapsed")


def api_forbidden(request):
    raise PermissionDenied("not yours")


urlpatterns = [
    path("api/boom/", plain_boom),
    path("api/v1/boom/", api_boom),
    path("api/forbidden/", api_forbidden),
    path("page-boom/", plain_boom),
    *urlpatterns,
]
