from django.urls import path

from gallery import views

app_name = "gallery"

urlpatterns = [
    path("", views.home, name="home"),
    path("experiments/", views.experiment_list, name="experiments"),
    path("experiments/<int:experiment_id>/", views.experiment_detail, name="experiment"),
    path("runs/compare/", views.run_compare, name="compare"),
    path("runs/<int:run_id>/", views.run_detail, name="run"),
    path("datasets/", views.coming_soon, {"area": "Datasets"}, name="datasets"),
    path("sweeps/", views.coming_soon, {"area": "Sweeps"}, name="sweeps"),
    path("drift/", views.coming_soon, {"area": "Drift"}, name="drift"),
]
