from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from hospital.core.views import pages as core_pages

urlpatterns = [
    path("healthz", core_pages.healthz, name="healthz"),
    path("i18n/setlang/", core_pages.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/core/", include("hospital.core.api_urls")),
    path("api/v1/emr/", include("emr.urls")),
    path("api/v1/pharmacy/", include("pharmacy.urls")),
    path("patients/", include("emr.page_urls")),
    path("", include("scheduling.page_urls")),  # beds/..., appointments/...
    path("api/v1/scheduling/", include("scheduling.urls")),
    path("api/v1/alerts/", include("ai.api_urls")),
    path("api/v1/forecasting/", include("ai.forecasting.apis")),
    path("", include("ai.urls")),  # alerts/...
    path("", include("ai.scribe.urls")),
    path("api/v1/scribe/", include("ai.scribe.api_urls")),
    path("", include("ai.forecasting.urls")),  # forecasting/...
    path("", include("hospital.core.urls")),
]

# Under /api/ errors keep the API's JSON error format; pages get the normal error pages.
handler404 = "hospital.core.api_errors.handler404"
handler500 = "hospital.core.api_errors.handler500"
