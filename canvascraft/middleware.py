"""Request ids and the one place where failures are turned into responses and logged."""

from __future__ import annotations

import logging
import re
import uuid

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse

from canvascraft.errors import is_api_request, json_error_response
from canvascraft.logging import current_request_id

logger = logging.getLogger("canvascraft.request")

_HANDLED_BY_DJANGO = (Http404, PermissionDenied, BadRequest, SuspiciousOperation)
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Gives every request an id (the client's X-Request-ID when sane), echoed on the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get("X-Request-ID", "")
        request_id = offered if _CLIENT_ID.match(offered) else uuid.uuid4().hex
        request.request_id = request_id
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response["X-Request-ID"] = request_id
        if response.status_code >= 400:
            level = logging.ERROR if response.status_code >= 500 else logging.WARNING
            logger.log(
                level,
                "%s %s -> %s",
                request.method,
                request.path,
                response.status_code,
                extra={"request_id": request_id, "status": response.status_code},
            )
        return response


class ErrorHandlingMiddleware:
    """Turns an unhandled exception into a JSON error on /api/ and logs it with its traceback.

    Pages fall through to Django's handler500, which renders the friendly error page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, _HANDLED_BY_DJANGO):
            return None  # handler404/403/400 answer these; they are not server failures.
        request_id = getattr(request, "request_id", "-")
        logger.error(
            "unhandled %s on %s %s",
            type(exception).__name__,
            request.method,
            request.path,
            exc_info=exception,
            extra={"request_id": request_id},
        )
        if is_api_request(request):
            return json_error_response(
                request, status=500, code="server_error", message="Internal server error."
            )
        return None
