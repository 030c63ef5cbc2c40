"""ASGI entry point: HTTP through Django; websockets under /ws/ join in issue 4."""

import os

from channels.routing import ProtocolTypeRouter
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvascraft.settings")
django_application = get_asgi_application()

application = ProtocolTypeRouter({"http": django_application})
