"""
The OpenAPI generator: drf-spectacular's, made exact enough for generated clients.

drf-spectacular documents what a view declares. Authentication, permissions, throttles,
validation and pagination answer with their own status codes before or around the view's
code, so every view would have to repeat them. They are derived here from the same classes
that produce them, with the bodies DRF and simplejwt really send, so the schema names every
status code and body a client can receive. The other cross-cutting rules live here too:
what a response always contains, request-only components, readable operation ids, and a
warning (an error under `--fail-on-warn`) for an operation without a summary.
"""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular import openapi
from drf_spectacular.drainage import warn
from drf_spectacular.extensions import OpenApiFilterExtension
from drf_spectacular.plumbing import (
    ResolvedComponent,
    build_parameter_type,
    force_instance,
    is_list_serializer,
)
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.filters import OrderingFilter
from rest_framework.permissions import AllowAny
from rest_framework.viewsets import GenericViewSet

from accounts.throttles import ResilientUserRateThrottle
from core.permissions import IsSuperuser
from core.schema import FORBIDDEN, NOT_FOUND, THROTTLED, UNAUTHENTICATED

RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer", "minimum": 0},
        "description": "Seconds to wait before trying again.",
        "required": True,
    }
}
INVALID_DESCRIPTION = (
    "Invalid input: each field at fault maps to its messages, `non_field_errors` holds those "
    "about the input as a whole, `detail` those about a body that is not JSON."
)
MESSAGES = {"type": "array", "items": {"type": "string"}}

# The standard ViewSet actions, named for what they do: `items_get`, `users_delete`.
ACTION_VERBS = {
    "list": "list",
    "create": "create",
    "retrieve": "get",
    "update": "replace",
    "partial_update": "update",
    "destroy": "delete",
    # `core.views.TrashMixin`
    "deleted": "trash",
    "restore": "restore",
}
# Their summaries, for a resource that declares none: "List items", "Get an item".
ACTION_SUMMARIES = {
    "list": "List {plural}",
    "create": "Create {a} {name}",
    "retrieve": "Get {a} {name}",
    "update": "Replace {a} {name}",
    "partial_update": "Edit {a} {name}",
    "destroy": "Delete {a} {name}",
}


class AutoSchema(openapi.AutoSchema):
    def get_operation_id(self):
        """`<resource>_<verb>` for a ViewSet's standard actions; others declare their own."""
        action = getattr(self.view, "action", None)
        if isinstance(self.view, GenericViewSet) and action in ACTION_VERBS:
            return f"{self._tokenize_path()[0]}_{ACTION_VERBS[action]}"
        warn(f"{self.method} {self.path} needs an explicit operation_id")
        return super().get_operation_id()

    def get_summary(self):
        # Only called when the view declares none: ReDoc and generated clients title
        # operations with it, and without one they show the operation id.
        action = getattr(self.view, "action", None)
        queryset = getattr(self.view, "queryset", None)
        if action in ACTION_SUMMARIES and queryset is not None:
            opts = queryset.model._meta
            name = str(opts.verbose_name)
            return ACTION_SUMMARIES[action].format(
                plural=opts.verbose_name_plural, name=name, a="an" if name[0] in "aeiou" else "a"
            )
        warn(f"{self.method} {self.path} has no summary")
        return None

    def get_auth(self):
        # A view without authentication classes is public, whatever its permissions check
        # (the refresh view's cookie rule): say so, rather than leave `security` undeclared.
        if not self.view.get_authenticators():
            return [{}]
        return super().get_auth()

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        properties = schema.get("properties", {})
        if direction == "request":
            # Components are split: a request component is write-only as a whole, and a
            # generator that honours `writeOnly` would leave such fields out of its type.
            for field_schema in properties.values():
                field_schema.pop("writeOnly", None)
        elif properties and isinstance(serializer, serializers.ModelSerializer):
            # A model serializer renders every field it declares, so every field of its
            # responses is present (nullable where it can be null), optional in requests or
            # not. A plain serializer may render a dict that lacks its optional keys.
            schema["required"] = list(properties)
        return schema

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code, response in self.implied_error_responses().items():
            declared = responses.get(code)
            if declared is None or "content" not in declared:
                if declared and declared.get("description"):
                    response = OpenApiResponse(response.response, declared["description"])
                responses[code] = self._get_response_for_code(response, code, None, direction)
        if "429" in responses:
            responses["429"].setdefault("headers", {}).update(RETRY_AFTER)
        return responses

    def implied_error_responses(self):
        """Status codes the framework answers with for this operation, by cause."""
        errors = {}
        invalid = self.validation_error_schema()
        if invalid is not None:
            errors["400"] = OpenApiResponse(invalid, description=INVALID_DESCRIPTION)
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
            isinstance(throttle, ResilientUserRateThrottle) and throttle.rate
            for throttle in self.view.get_throttles()
        )

    def validation_error_schema(self):
        """
        The 400 body DRF sends for an invalid body or filter: `{field: [messages]}`, with
        `non_field_errors` and `detail` (a body that is not JSON), as a component per input.
        """
        if self.method in ("POST", "PUT", "PATCH"):
            serializer = self.get_request_serializer()
            if serializer is None or is_list_serializer(serializer):
                return None
            serializer = force_instance(serializer)
            name = self._get_serializer_name(serializer, "request")
            fields = [name for name, field in serializer.fields.items() if not field.read_only]
        elif self.method == "GET":
            filterset = self._filterset_class()
            if filterset is None:
                return None
            name = f"{filterset._meta.model.__name__}Filter"
            fields = list(filterset.base_filters)
        else:
            return None
        properties = {field: MESSAGES for field in fields}
        properties["non_field_errors"] = MESSAGES
        properties["detail"] = {"type": "string"}
        component = ResolvedComponent(
            name=f"{name}Error",
            type=ResolvedComponent.SCHEMA,
            object=f"{name}Error",
            schema={"type": "object", "properties": properties},
        )
        self.registry.register_on_missing(component)
        return component.ref

    def _filterset_class(self):
        # The backends whose parameters the operation lists: a list's, or an action's that
        # declares `filters=True`.
        for backend in self.get_filter_backends():
            if issubclass(backend, DjangoFilterBackend):
                return backend().get_filterset_class(self.view, self.view.get_queryset())
        return None


class OrderingFilterExtension(OpenApiFilterExtension):
    """`ordering` as the enum of keys a sort menu can send, each ascending or descending."""

    target_class = OrderingFilter
    match_subclasses = True

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        fields = getattr(auto_schema.view, "ordering_fields", None)
        if not isinstance(fields, list | tuple):
            return self.target().get_schema_operation_parameters(auto_schema.view)
        keys = [key for field in fields for key in (field, f"-{field}")]
        return [
            build_parameter_type(
                name=self.target.ordering_param,
                schema={"type": "string", "enum": keys},
                location="query",
                description="Sort key; a leading `-` sorts in descending order.",
            )
        ]
