"""
The OpenAPI generator: drf-spectacular's, plus the error answers that DRF gives on its own.

drf-spectacular documents what a view declares. Authentication, permissions, throttles,
validation and pagination answer with their own status codes before or around the view's
code, so every view would have to repeat them. They are derived here from the same classes
that produce them, so the schema names every status code a client can receive.
"""

from drf_spectacular import openapi
from rest_framework.permissions import AllowAny

from accounts.throttles import UserRateThrottle
from core.permissions import IsSuperuser
from core.schema import FORBIDDEN, INVALID, NOT_FOUND, THROTTLED, UNAUTHENTICATED


class AutoSchema(openapi.AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code, response in self.implied_error_responses().items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, None, direction)
        return responses

    def implied_error_responses(self):
        """Status codes the framework answers with for this operation, by cause."""
        errors = {}
        if self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None:
            errors["400"] = INVALID
        if self.method == "GET" and self._is_list_view() and self._has_filterset():
            errors["400"] = INVALID
        permissions = self.view.get_permissions()
        if self.view.get_authenticators() and not all(
            isinstance(permission, AllowAny) for permission in permissions
        ):
            errors["401"] = UNAUTHENTICATED
        if any(isinstance(permission, IsSuperuser) for permission in permissions):
            errors["403"] = FORBIDDEN
        if "{" in self.path or (self._is_list_view() and self._get_paginator() is not None):
            errors["404"] = NOT_FOUND
        if getattr(self.view, "throttle_scope", None) or (
            "401" in errors and self._throttled_per_user()
        ):
            errors["429"] = THROTTLED
        return errors

    def _throttled_per_user(self):
        """With `THROTTLE_USER_RATE` set, every authenticated operation may answer 429."""
        return any(
            isinstance(throttle, UserRateThrottle) and throttle.rate
            for throttle in self.view.get_throttles()
        )

    def _has_filterset(self):
        return bool(
            getattr(self.view, "filterset_class", None)
            or getattr(self.view, "filterset_fields", None)
        )
