"""The predict lane answers a prediction route beside Django only after Django answered the same
token on it, with the same body; bad input, other callers and changes go through Django."""

from __future__ import annotations

import time

import orjson
import pytest
from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator
from django.core.asgi import get_asgi_application

from gallery import predict_lane
from gallery.predict_lane import PredictLane
from registry import services
from registry.models import ApiToken, PredictionLog
from tests.gallery import test_api_training
from tests.gallery.test_api_models import ROWS, trained
from tests.gallery.test_api_models_onnx import MLP

table = test_api_training.table  # the wine-notes fixture, shared

PATH = "/api/v1/models/wine-notes/predict/"


@pytest.fixture
def lane():
    predict_lane.routes.forget_all()
    yield PredictLane(get_asgi_application())
    predict_lane.routes.forget_all()


@pytest.fixture
def published(owner, owner_client, experiment, table):
    """wine-notes with versions 1 and 2 (small networks with ONNX exports), production on 1."""
    for _ in range(2):
        run_id = trained(owner_client, experiment, table, **MLP)
        created = owner_client.post(PATH.replace("predict/", "versions/"), {"run": run_id})
        assert created.status_code == 201, created.content
    moved = owner_client.post(
        PATH.replace("predict/", "aliases/"), {"alias": "production", "version": 1}
    )
    assert moved.status_code == 200, moved.content
    _token, key = services.api_token_create(user=owner, name="lane")
    return key


def post(lane, key: str, query: str = "", body=None, **headers) -> tuple[int, dict, dict]:
    """(status, JSON body, headers by lower-case name) of one request through the lane (and
    Django behind it)."""
    data = orjson.dumps({"inputs": ROWS} if body is None else body)
    sent = [
        (b"host", b"testserver"),
        (b"content-length", str(len(data)).encode()),
        (b"content-type", b"application/json"),
        (b"authorization", f"Token {key}".encode()),
        *((name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()),
    ]
    communicator = HttpCommunicator(lane, "POST", PATH + query, body=data, headers=sent)
    response = async_to_sync(communicator.get_response)(timeout=30)
    headers = {name.lower(): value for name, value in response["headers"]}
    is_json = headers.get(b"content-type", b"").startswith(b"application/json")
    return response["status"], orjson.loads(response["body"]) if is_json else {}, headers


def answered_by_lane(call) -> bool:
    before = predict_lane.answered
    call()
    return predict_lane.answered == before + 1


@pytest.mark.django_db(transaction=True)
def test_the_lane_repeats_what_django_answered_for_the_same_token_and_route(lane, published):
    first = {}

    def through_django():
        first["answer"] = post(lane, published, "?alias=production")

    def again():
        first["again"] = post(lane, published, "?alias=production", x_request_id="client-id-123")

    assert not answered_by_lane(through_django)
    assert answered_by_lane(again)

    status, body, headers = first["again"]
    assert status == 200 and body == first["answer"][1]
    assert (body["version"], body["alias"], body["runtime"]) == (1, "production", "onnx")
    assert headers[b"content-type"] == b"application/json"
    assert headers[b"x-request-id"] == b"client-id-123"
    assert headers[b"x-content-type-options"] == b"nosniff"
    # Logged and counted as any request is: two requests, two logs.
    assert PredictionLog.objects.filter(version__number=1).count() == 2
    # Another route (a version by number, another runtime) is Django's until it answered it.
    assert not answered_by_lane(lambda: post(lane, published, "?version=2"))
    assert answered_by_lane(lambda: post(lane, published, "?version=2"))
    assert not answered_by_lane(lambda: post(lane, published, "?alias=production&runtime=onnx"))


@pytest.mark.django_db(transaction=True)
def test_bad_input_on_a_known_route_gets_djangos_field_errors(lane, published, assert_error):
    post(lane, published)  # the route is known now
    bad_rows = [{"alcohol": "a lot", "hue": 0.9}, {"hue": 1.0}]

    status, body, headers = post(lane, published, body={"inputs": bad_rows})
    no_inputs, _, _ = post(lane, published, body={"rows": ROWS})

    assert status == 400 and body["code"] == "invalid"
    assert body["errors"]["inputs[0].alcohol"] == [
        "not a number: 'a lot' (send numbers without quotes)"
    ]
    assert body["errors"]["inputs[1].alcohol"] == ["missing column 'alcohol'"]
    assert body["request_id"] == headers[b"x-request-id"].decode()
    assert no_inputs == 400
    assert PredictionLog.objects.count() == 1  # only the good request


@pytest.mark.django_db(transaction=True)
def test_a_moved_alias_or_a_revoked_token_is_seen_at_once(lane, published, owner, owner_client):
    post(lane, published)
    assert answered_by_lane(lambda: post(lane, published))

    owner_client.post(PATH.replace("predict/", "aliases/"), {"alias": "production", "version": 2})
    status, body, _ = post(lane, published)

    assert (status, body["version"]) == (200, 2)
    assert answered_by_lane(lambda: post(lane, published))
    services.api_token_revoke(token=ApiToken.objects.get(name="lane"))
    status, body, _ = post(lane, published)
    assert status == 401 and body["code"] == "authentication_failed"


@pytest.mark.django_db(transaction=True)
def test_routes_expire_and_other_queries_and_callers_go_through_django(lane, published, settings):
    settings.PREDICT_ROUTE_CACHE_S = 0.2
    post(lane, published)
    assert answered_by_lane(lambda: post(lane, published))
    time.sleep(0.3)
    assert not answered_by_lane(lambda: post(lane, published))  # expired: Django checks again
    # A query the lane does not know, the browsable API, a form body: always Django's.
    assert not answered_by_lane(lambda: post(lane, published, "?format=json"))
    assert not answered_by_lane(lambda: post(lane, published, accept="text/html"))
    assert not answered_by_lane(lambda: post(lane, published, "?alias=production&alias=staging"))
    settings.PREDICT_ROUTE_CACHE_S = 0
    post(lane, published)
    assert not answered_by_lane(lambda: post(lane, published))  # the lane is off


@pytest.mark.django_db(transaction=True)
def test_a_quick_route_is_answered_on_the_event_loop_and_still_logged(lane, published, settings):
    settings.PREDICT_LANE_INLINE_MS = 1000  # a small network on a CPU: well under a second
    post(lane, published)  # Django
    assert answered_by_lane(lambda: post(lane, published))  # a thread: not measured yet
    inline_before = predict_lane.answered_inline

    answers = [post(lane, published) for _ in range(3)]

    assert predict_lane.answered_inline == inline_before + 3
    assert all(answer[1] == answers[0][1] for answer in answers)
    # The logs are written by the lane's threads once the answer is sent.
    deadline = time.monotonic() + 10
    while PredictionLog.objects.count() < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert PredictionLog.objects.count() == 5
    settings.PREDICT_LANE_INLINE_MS = 0  # off: every lane answer comes from a thread
    post(lane, published)
    assert predict_lane.answered_inline == inline_before + 3
