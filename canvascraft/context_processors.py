from django.conf import settings


def studio(request):
    return {"studio_name": "CanvasCraft", "debug": settings.DEBUG}
