from rest_framework.permissions import BasePermission


class IsSuperuser(BasePermission):
    """Superusers only: user management and every resource's trash and restore."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_superuser)
