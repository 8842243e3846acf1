from __future__ import annotations

import pytest
import yaml
from django.test import Client
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db


def test_healthz_names_the_node_and_database():
    body = Client().get("/healthz").json()
    assert body["node"] == "KH" and body["database"] == "ok" and body["version"]


def test_schema_is_valid_openapi_and_lists_every_api_route():
    response = Client().get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    validate_schema(schema)  # raises on an invalid OpenAPI 3 document
    assert schema["openapi"].startswith("3.")
    for route in ("/api/v1/me", "/api/v1/persons", "/api/v1/persons/{id}", "/api/v1/audit/events"):
        assert route in schema["paths"], route
    for path in schema["paths"].values():
        for operation in path.values():
            security = operation.get("security")
            if not security or {} in security:
                continue  # open to everyone (the public directory): no 401/403
            assert {"401", "403"} <= set(operation["responses"]), operation["operationId"]


def test_api_errors_share_one_shape():
    body = Client().get("/api/v1/persons").json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
