"""Template context shared by every page."""


def navigation(request):
    from hospital.core.navigation import navigation_for

    return {"nav_items": navigation_for(request.user) if getattr(request, "user", None) else []}
