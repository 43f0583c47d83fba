"""The OpenAPI document is valid OpenAPI 3.1, and every operation in it can be tested."""

import copy

import jsonschema_rs
import pytest
import schemathesis
from schemathesis.core.result import Ok

from functions.openapi import OPERATIONS, openapi_document


def test_the_document_validates_against_the_openapi_3_1_schema() -> None:
    schemathesis.openapi.from_dict(openapi_document()).validate()


def test_the_validation_refuses_a_broken_document() -> None:
    # Guards the test above: a validator that accepts anything proves nothing.
    broken = copy.deepcopy(openapi_document())
    broken["paths"]["/api/teams"]["get"]["responses"] = {"200": "fine"}
    with pytest.raises(jsonschema_rs.ValidationError):
        schemathesis.openapi.from_dict(broken).validate()


def test_every_operation_loads_for_testing() -> None:
    schema = schemathesis.openapi.from_dict(openapi_document())
    results = list(schema.get_all_operations())
    failed = [r for r in results if not isinstance(r, Ok)]
    assert failed == []
    labels = {r.ok().label for r in results if isinstance(r, Ok)}
    assert labels == {f"{op.method.upper()} {op.path}" for op in OPERATIONS}


def test_request_strings_bound_for_the_database_refuse_nul() -> None:
    # PostgreSQL text cannot hold NUL; the document says so, so clients and fuzzers know.
    schemas = openapi_document()["components"]["schemas"]
    assert schemas["TeamCreate"]["properties"]["name"]["pattern"] == r"^[^\x00]*$"
    assert schemas["InvitationAccept"]["properties"]["token"]["pattern"] == r"^[^\x00]*$"
