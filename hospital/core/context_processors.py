"""Template context shared by every page."""


def navigation(request):
    from hospital.core.navigation import navigation_for, role_labels_for

    user = getattr(request, "user", None)
    if user is None:
        return {"nav_items": [], "user_role_labels": []}
    match = getattr(request, "resolver_match", None)
    return {
        "nav_items": navigation_for(user, view_name=match.view_name if match else None, path=request.path),
        "user_role_labels": role_labels_for(user),
    }
