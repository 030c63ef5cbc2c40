from rest_framework.routers import DefaultRouter

from gallery.api.datasets import BrushViewSet, DatasetViewSet, TemplateViewSet
from gallery.api.experiments import ExperimentViewSet
from gallery.api.published import ModelViewSet
from gallery.api.runs import RunViewSet
from gallery.api.sweeps import SweepViewSet
from gallery.api.tokens import ApiTokenViewSet
from gallery.api.webhooks import WebhookViewSet

router = DefaultRouter()
router.register("experiments", ExperimentViewSet, basename="experiment")
router.register("runs", RunViewSet, basename="run")
router.register("sweeps", SweepViewSet, basename="sweep")
router.register("models", ModelViewSet, basename="model")
router.register(
    r"models/(?P<model_name>[a-z0-9-]{1,100})/webhooks", WebhookViewSet, basename="model-webhook"
)
router.register("tokens", ApiTokenViewSet, basename="token")
router.register("datasets", DatasetViewSet, basename="dataset")
router.register("brushes", BrushViewSet, basename="brush")
router.register("templates", TemplateViewSet, basename="template")

urlpatterns = router.urls
