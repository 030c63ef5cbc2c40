"""Websocket routes under /ws/ (see gallery.live.consumers for the protocol)."""

from django.urls import path

from gallery.live import consumers

websocket_urlpatterns = [
    path("ws/runs/<int:run_id>/", consumers.RunStreamConsumer.as_asgi()),
    path("ws/sweeps/<int:sweep_id>/", consumers.SweepStreamConsumer.as_asgi()),
    path("ws/events/", consumers.EventsConsumer.as_asgi()),
]
