"""ASGI entry point: HTTP through Django (known prediction routes beside it, in
`gallery.predict_lane`), websockets under /ws/ through Channels.

Websockets authenticate with the session cookie (browsers) or an `Authorization: Token <key>`
handshake header (scripts); the consumers check the Origin and what the user may watch.
"""

import os

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvascraft.settings")
django_application = get_asgi_application()

from gallery.live.auth import TokenAuthMiddleware  # noqa: E402  (needs Django set up)
from gallery.live.routing import websocket_urlpatterns  # noqa: E402
from gallery.predict_lane import PredictLane  # noqa: E402
from gallery.receivers import serve_predictions  # noqa: E402

serve_predictions()  # this process answers requests: warm models when their alias moves

application = ProtocolTypeRouter(
    {
        # Prediction routes Django answered recently are repeated beside it (predict_lane).
        "http": PredictLane(django_application),
        "websocket": AuthMiddlewareStack(TokenAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
