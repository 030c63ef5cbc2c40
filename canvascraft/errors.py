"""Error responses: JSON on /api/, friendly pages elsewhere, both carrying the request id.

API errors share one shape so scripts can rely on it::

    {"detail": "<one readable sentence>", "code": "<machine code>",
     "errors": {"<field>": ["<message>", ...]}, "request_id": "<id>"}

`errors` is present only for validation failures.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_default_handler

API_PREFIX = "/api/"


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def error_body(
    request: HttpRequest | None, *, code: str, message: str, errors: Any = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": message, "code": code}
    if errors:
        body["errors"] = errors
    body["request_id"] = getattr(request, "request_id", "-")
    return body


def json_error_response(
    request: HttpRequest, *, status: int, code: str, message: str
) -> JsonResponse:
    return JsonResponse(error_body(request, code=code, message=message), status=status)


def _first_message(errors: Any) -> str:
    """The first human sentence inside DRF's nested error structure, prefixed by its field."""
    if isinstance(errors, dict):
        for field, value in errors.items():
            inner = _first_message(value)
            if field in ("non_field_errors", "detail"):
                return inner
            return f"{field}: {inner}"
    if isinstance(errors, list) and errors:
        return _first_message(errors[0])
    return str(errors)


def api_exception_handler(exception: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, reshaped into the studio's error body.

    Domain errors (the registry's) are recognised by their `http_status` and `code` attributes,
    so this wiring needs no import of the apps.
    """
    request = context.get("request")
    http_status = getattr(exception, "http_status", None)
    if isinstance(http_status, int) and isinstance(getattr(exception, "code", None), str):
        field = getattr(exception, "field", None)
        message = str(exception)
        return Response(
            error_body(
                request,
                code=exception.code,
                message=message,
                errors={field: [message]} if field and http_status == 400 else None,
            ),
            status=http_status,
        )
    response = drf_default_handler(exception, context)
    if response is None:
        return None  # unexpected: ErrorHandlingMiddleware logs it and answers 500
    if isinstance(exception, drf_exceptions.ValidationError):
        response.data = error_body(
            request,
            code="invalid",
            message=_first_message(exception.detail),
            errors=exception.detail if isinstance(exception.detail, dict) else None,
        )
    else:
        detail = getattr(exception, "detail", str(exception))
        codes = exception.get_codes() if isinstance(exception, drf_exceptions.APIException) else ""
        response.data = error_body(
            request,
            code=codes if isinstance(codes, str) else "error",
            message=_first_message(detail),
        )
    return response


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_request(request):
        return json_error_response(request, status=404, code="not_found", message="Not found.")
    return render(request, "errors/404.html", status=404)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_request(request):
        return json_error_response(
            request, status=403, code="permission_denied", message="Permission denied."
        )
    return render(request, "errors/403.html", status=403)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_request(request):
        return json_error_response(request, status=400, code="bad_request", message="Bad request.")
    return render(request, "errors/400.html", status=400)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return json_error_response(
            request, status=500, code="server_error", message="Internal server error."
        )
    # No context processors: the failure may come from them.
    from django.template import loader

    template = loader.get_template("errors/500.html")
    return HttpResponse(
        template.render({"request_id": getattr(request, "request_id", "-")}), status=500
    )
