"""The predict lane: `POST /api/v1/models/<name>/predict/` answered beside Django, not through it,
once Django has answered the same caller on the same route.

Why: a small model answers in about 0.1 ms (a logistic regression through ONNX Runtime), while
Django's request path around it (middleware, DRF dispatch and authentication, three queries for
the token, the model and the alias) costs milliseconds. A script that predicts in a loop pays
that on every request.

How: the API view (the full path, with every check) records each token-authenticated prediction
it answered in `routes`: (token digest, model name, the query's alias, version and runtime) ->
(model, version, alias, runtime), for PREDICT_ROUTE_CACHE_S. `PredictLane`, an ASGI wrapper
around Django, answers a request whose route it knows with the same prediction
(`predictions.predict_then_record`). A route whose recent predictions took under
PREDICT_LANE_INLINE_MS is answered on the event loop itself, for a body of at most
INLINE_MAX_BODY (a small model on a row or a small picture: handing it to a thread costs more
than the model), with the database writes it is due (a sampled log, the tried counter) handed to
the lane's threads; any other route is answered on those threads. Anything else goes to Django
exactly as it came: an unknown or expired route,
a session cookie instead of a token, another content type, an HTML `Accept`, a body over the
limit, input the model refuses, any error. So every error is still written in one place, and the
lane only ever repeats an answer Django would give.

Freshness: in this process, an alias move, a token, user, model or alias change forgets every
route at once (`forget_routes`, connected in `gallery.apps`); a change made in another process
(the admin, `manage.py set_alias`, another server process) is seen within PREDICT_ROUTE_CACHE_S
(1 s by default), after which Django checks the route again. 0 turns the lane off.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from hashlib import sha256
from typing import Any
from urllib.parse import parse_qsl

import orjson
from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger("canvascraft.gallery")

PREDICT_PATH = re.compile(r"/api/v1/models/(?P<name>[^/]+)/predict/")
QUERY_KEYS = ("alias", "version", "runtime")
TOKEN_KEYWORDS = (b"token", b"bearer")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
# What Django's middleware adds to an API response (security, clickjacking, DRF's Vary).
RESPONSE_HEADERS = [
    (b"content-type", b"application/json"),
    (b"vary", b"Accept"),
    (b"allow", b"POST, OPTIONS"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]

# Bodies answered on the event loop at most: a row of a few hundred columns, a small picture.
INLINE_MAX_BODY = 64 * 1024

RouteKey = tuple[str, str, tuple[str, ...]]


@dataclass
class Route:
    """What Django resolved for a route (the objects `predictions.predict` takes), and how long
    its predictions took lately (an exponential average; unknown until the lane measured one)."""

    model: Any
    version: Any
    alias: str | None
    runtime: str
    expires: float
    recent_ms: float = math.inf

    def measured(self, milliseconds: float) -> None:
        if math.isinf(self.recent_ms):
            self.recent_ms = milliseconds
        else:
            self.recent_ms = 0.8 * self.recent_ms + 0.2 * milliseconds

    def is_quick(self, body_size: int) -> bool:
        return self.recent_ms < settings.PREDICT_LANE_INLINE_MS and body_size <= INLINE_MAX_BODY


class Routes:
    """Routes Django answered recently, per process; entries expire, and any change that could
    alter an answer forgets them all (such changes are rare; requests are not)."""

    def __init__(self) -> None:
        self._routes: dict[RouteKey, Route] = {}
        self._lock = threading.Lock()

    def get(self, key: RouteKey) -> Route | None:
        route = self._routes.get(key)
        if route is None or route.expires > time.monotonic():
            return route
        with self._lock:
            self._routes.pop(key, None)
        return None

    def remember(self, key: RouteKey, route: Route) -> None:
        with self._lock:
            if len(self._routes) >= settings.PREDICT_ROUTE_CACHE_SIZE:
                self._routes.clear()  # a flood of distinct routes: start over, stay bounded
            self._routes[key] = route

    def forget_all(self) -> None:
        with self._lock:
            self._routes.clear()

    def __len__(self) -> int:
        return len(self._routes)


routes = Routes()
# How many requests the lane answered in this process, and how many of them on the event loop
# (tests read them).
answered = 0
answered_inline = 0


def route_key(token_digest: str, name: str, query_string: str) -> RouteKey | None:
    """The key of a request, or None when its query holds anything but one alias, version and
    runtime each (such requests always go to Django)."""
    pairs = parse_qsl(query_string, keep_blank_values=True)
    found = dict(pairs)
    if len(found) != len(pairs) or not set(found) <= set(QUERY_KEYS):
        return None
    return (token_digest, name, tuple(found.get(key, "") for key in QUERY_KEYS))


def remember(
    *, token_digest: str, name: str, query_string: str, model, version, alias, runtime: str
) -> None:
    """Called by the API view after it answered a token-authenticated prediction."""
    ttl = settings.PREDICT_ROUTE_CACHE_S
    key = route_key(token_digest, name, query_string)
    if ttl <= 0 or key is None:
        return
    route = Route(model, version, alias, runtime, expires=time.monotonic() + ttl)
    routes.remember(key, route)


def forget_routes(*args, **kwargs) -> None:
    """Signal receiver: something an answer depends on changed in this process."""
    routes.forget_all()


class PredictLane:
    """ASGI wrapper: answers known prediction routes itself, hands everything else to `app`."""

    def __init__(self, app) -> None:
        self.app = app
        self._pool: ThreadPoolExecutor | None = None

    @property
    def pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=settings.PREDICT_LANE_THREADS, thread_name_prefix="predict-lane"
            )
        return self._pool

    async def __call__(self, scope, receive, send) -> None:
        route = self._route(scope) if scope["type"] == "http" else None
        if route is None:
            return await self.app(scope, receive, send)
        body, complete = await _read_body(receive, settings.PREDICT_MAX_BODY_BYTES)
        if complete:
            loop = asyncio.get_running_loop()
            if route.is_quick(len(body)):
                global answered_inline
                answer, bookkeeping = _answer(route, body)
                answered_inline += answer is not None
                if bookkeeping is not None:  # the database is the threads' business
                    loop.run_in_executor(self.pool, _record, bookkeeping)
            else:
                answer, bookkeeping = await loop.run_in_executor(self.pool, _answer, route, body)
                if bookkeeping is not None:
                    await loop.run_in_executor(self.pool, _record, bookkeeping)
            if answer is not None:
                return await _send_json(send, scope, answer)
        await self.app(scope, _replay(body, complete, receive), send)

    def _route(self, scope) -> Route | None:
        if scope["method"] != "POST" or settings.PREDICT_ROUTE_CACHE_S <= 0 or not len(routes):
            return None
        match = PREDICT_PATH.fullmatch(scope["path"])
        if match is None:
            return None
        headers = dict(scope["headers"])  # a repeated header keeps its last value: Django's too
        content_type = headers.get(b"content-type", b"")
        if content_type.split(b";")[0].strip().lower() != b"application/json":
            return None
        if b"text/html" in headers.get(b"accept", b""):
            return None  # the browsable API
        authorization = headers.get(b"authorization", b"").split()
        if len(authorization) != 2 or authorization[0].lower() not in TOKEN_KEYWORDS:
            return None
        digest = sha256(authorization[1]).hexdigest()
        key = route_key(digest, match["name"], scope["query_string"].decode("latin-1"))
        return routes.get(key) if key is not None else None


def _answer(route: Route, body: bytes) -> tuple[bytes | None, Any]:
    """(the response body, or None to let Django answer and explain instead; the database
    writes still to do, or None). Uses no database while the route's model is loaded."""
    from gallery import predictions

    global answered
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None
    inputs = data.get("inputs") if isinstance(data, dict) else None
    if not isinstance(inputs, list) or not inputs:
        return None, None
    started = time.perf_counter()
    try:
        answer, bookkeeping = predictions.predict_then_record(
            route.model, route.version, inputs, alias=route.alias, runtime=route.runtime
        )
    except Exception:
        # Django runs the request again and writes the error (a model that must be loaded
        # first is loaded there too); the route goes back to the threads until measured again.
        route.recent_ms = math.inf
        return None, None
    route.measured(1000 * (time.perf_counter() - started))
    answered += 1
    return orjson.dumps(answer), bookkeeping


def _record(bookkeeping) -> None:
    """A prediction's database writes, on a lane thread; a failure is logged, not raised (the
    answer has been sent), and drops the thread's connection if it left it unusable."""
    try:
        bookkeeping()
    except Exception:
        logger.warning("could not record a prediction", exc_info=True)
        close_old_connections()


async def _read_body(receive, limit: int) -> tuple[bytes, bool]:
    """(the body read so far, whether it is all there); stops reading past `limit`."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if size > limit:
            return b"".join(chunks), False


def _replay(body: bytes, complete: bool, receive):
    """A `receive` that gives Django the body already read, then the rest of the stream."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": not complete}
        return await receive()

    return replay


async def _send_json(send, scope, body: bytes) -> None:
    offered = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
    request_id = offered if _REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
    headers = [
        *RESPONSE_HEADERS,
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id.encode()),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
