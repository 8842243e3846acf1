"""The schema says which lists are paginated: every API view that answers a page is marked
``@paginated`` (so its schema has count/next/previous/results and limit/offset), and every
marked view answers a page."""

from __future__ import annotations

import inspect

import pytest

from ctip.testing.urlwalk import iter_routes


def _api_views():
    for route in iter_routes():
        cls = getattr(route.callback, "cls", None)
        if route.route.startswith("api/v1/") and cls is not None:
            yield route.route, cls


def test_paginated_views_are_declared_so():
    undeclared, wrongly = [], []
    for path, cls in _api_views():
        handler = getattr(cls, "get", None)
        if handler is None:
            continue
        function = inspect.getclosurevars(handler).nonlocals["func"]  # what @api_view wraps
        source = inspect.getsource(function)
        pages = any(call in source for call in ("get_paginated_response(", "_paginate(", "_page("))
        declared = getattr(cls, "pagination_class", None) is not None
        if pages and not declared:
            undeclared.append(path)
        if declared and not pages:
            wrongly.append(path)
    assert not undeclared, f"answer a page but are not marked @paginated: {undeclared}"
    assert not wrongly, f"marked @paginated but answer no page: {wrongly}"


@pytest.mark.django_db
def test_the_schema_documents_a_page(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    get = schema["paths"]["/api/v1/agencies"]["get"]
    ref = get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    page = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"count", "next", "previous", "results"} <= set(page["properties"])
    assert {"limit", "offset"} <= {p["name"] for p in get["parameters"]}


@pytest.mark.django_db
@pytest.mark.parametrize("query", [{"limit": "abc"}, {"offset": "-1"}, {"limit": "1e3"}])
def test_a_bad_page_parameter_is_a_400_naming_it(caseworker_a, client_of, query):
    answer = client_of(caseworker_a).get("/api/v1/agencies", query)
    assert answer.status_code == 400
    assert list(answer.json()["error"]["fields"]) == list(query)


@pytest.mark.django_db
def test_limit_and_offset_page_through(caseworker_a, agency_b, client_of):
    client = client_of(caseworker_a)
    whole = client.get("/api/v1/agencies").json()
    page = client.get("/api/v1/agencies", {"limit": "1", "offset": "1"}).json()
    assert whole["count"] == page["count"] >= 2
    assert page["results"] == whole["results"][1:2]
