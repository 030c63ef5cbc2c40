import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvascraft.settings")
application = get_wsgi_application()

from gallery.receivers import serve_predictions  # noqa: E402  (needs Django set up)

serve_predictions()  # this process answers requests: warm models when their alias moves
