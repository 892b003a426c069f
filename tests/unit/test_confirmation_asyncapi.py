"""deploy/asyncapi.yaml: current with the marshmallow schemas, a valid AsyncAPI
3.0 document (strict object model, every $ref resolving), and its examples
valid against its own payload schemas."""
import copy
import warnings

import pytest
import yaml
from pydantic import ValidationError

with warnings.catch_warnings():  # the object model's field names shadow pydantic's
    warnings.simplefilter("ignore", UserWarning)
    from asyncapi3 import AsyncAPI3

from services.confirmation import asyncapi
from services.confirmation.schemas import EVENTS
from tests.system.confirmation_support import asyncapi_document, payload_validator


@pytest.fixture(scope="module")
def doc():
    return asyncapi_document()


def refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def resolve(doc, ref):
    assert ref.startswith("#/"), ref
    node = doc
    for part in ref[2:].split("/"):
        assert part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def test_the_committed_document_is_generated_from_the_schemas(doc):
    assert doc == yaml.safe_load(asyncapi.dump(asyncapi.build())), \
        "deploy/asyncapi.yaml is stale: run python -m services.confirmation.asyncapi"


def test_it_is_a_valid_asyncapi_3_document(doc):
    AsyncAPI3.model_validate(doc)
    for ref in refs(doc):
        resolve(doc, ref)
    broken = copy.deepcopy(doc)
    broken["channels"]["unitConfirmed"]["bindings"]["amqp"]["exchange"]["type"] = "nonsense"
    with pytest.raises(ValidationError):
        AsyncAPI3.model_validate(broken)


def test_it_describes_the_exchange_routing_keys_and_amqp_bindings(doc):
    assert doc["asyncapi"].startswith("3.")
    assert {c["address"] for c in doc["channels"].values()} == set(EVENTS)
    for channel in doc["channels"].values():
        amqp = channel["bindings"]["amqp"]
        assert amqp["is"] == "routingKey"
        assert amqp["exchange"] == {"name": "confirmation.events", "type": "topic", "durable": True,
                                    "autoDelete": False, "vhost": "/"}
    sends = [o for o in doc["operations"].values() if o["action"] == "send"]
    assert len(sends) == 3 and all(o["bindings"]["amqp"]["deliveryMode"] == 2 for o in sends)
    assert all(o["bindings"]["amqp"]["ack"] for o in doc["operations"].values() if o["action"] == "receive")


def test_the_api_contract_fields_are_required(doc):
    for event_type in EVENTS:
        schema = resolve(doc, next(m for m in doc["components"]["messages"].values()
                                   if m["name"] == event_type)["payload"]["$ref"])
        assert {"event_id", "type", "version", "occurred_at", "round", "org_unit", "counts",
                "confirmed_by", "confirmed_by_username", "confirmation_version"} <= set(schema["required"])
        assert schema["properties"]["confirmation_version"]["type"] == "integer"
        assert set(schema["properties"]["round"]["required"]) == {"id", "academic_year", "number"}
        assert set(schema["properties"]["org_unit"]["required"]) == {"id", "code", "type", "path"}
        assert set(schema["properties"]["counts"]["required"]) == {"total", "by_grade"}
    assert "reason" in resolve(doc, "#/components/schemas/UnitRevoked")["required"]


def test_examples_validate_and_bad_payloads_do_not(doc):
    for message in doc["components"]["messages"].values():
        validator = payload_validator(message["name"], doc)
        for example in message["examples"]:
            validator.validate(example["payload"])
        bad = copy.deepcopy(message["examples"][0]["payload"])
        bad["counts"]["total"] = "many"
        assert list(validator.iter_errors(bad))
        del bad["org_unit"]
        assert len(list(validator.iter_errors(bad))) >= 2
    wrong_type = dict(asyncapi.example("unit_confirmed"), type="unit_revoked")
    assert list(payload_validator("unit_confirmed", doc).iter_errors(wrong_type))
