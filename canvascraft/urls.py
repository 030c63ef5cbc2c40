from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from canvascraft import health
from gallery import accounts

handler400 = "canvascraft.errors.bad_request"
handler403 = "canvascraft.errors.permission_denied"
handler404 = "canvascraft.errors.page_not_found"
handler500 = "canvascraft.errors.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/profile/", accounts.profile, name="profile"),
    path("accounts/tokens/<int:token_id>/revoke/", accounts.token_revoke, name="token-revoke"),
    path("api/v1/", include("gallery.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("health/", health.health, name="health"),
    path("", include("gallery.urls")),
]
