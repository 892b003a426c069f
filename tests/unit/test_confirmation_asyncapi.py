"""deploy/asyncapi.yaml: current with the marshmallow schemas, a valid AsyncAPI
3.0 document (strict object model, every $ref resolving), and its examples
valid against its own payload schemas."""
import copy
import hashlib
import json
import warnings

import pytest
import yaml
from pydantic import ValidationError

with warnings.catch_warnings():  # the object model's field names shadow pydantic's
    warnings.simplefilter("ignore", UserWarning)
    from asyncapi3 import AsyncAPI3

from deploy import asyncapi
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
        "deploy/asyncapi.yaml is stale: run python -m deploy.asyncapi"


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
    assert {c["address"] for c in doc["channels"].values()} == set(EVENTS) | {"deadline_approaching"}
    for channel in doc["channels"].values():
        amqp = channel["bindings"]["amqp"]
        assert amqp["is"] == "routingKey"
        exchange = "reporting.events" if channel["address"] == "deadline_approaching" else "confirmation.events"
        assert amqp["exchange"] == {"name": exchange, "type": "topic", "durable": True,
                                    "autoDelete": False, "vhost": "/"}
    sends = [o for o in doc["operations"].values() if o["action"] == "send"]
    assert len(sends) == 4 and all(o["bindings"]["amqp"]["deliveryMode"] == 2 for o in sends)
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


def confirmation_messages(doc):
    return [m for m in doc["components"]["messages"].values() if m["name"] in EVENTS]


def test_examples_validate_and_bad_payloads_do_not(doc):
    for message in confirmation_messages(doc):
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


def _sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _recipe(round_id, unit_id, counts, learners_digest):
    """The documented recipe of seal_digest, written out independently of the services."""
    return _sha256(json.dumps({"round_id": round_id, "unit_id": unit_id,
                               "counts": {"total": counts["total"], "by_grade": counts["by_grade"]},
                               "learners_digest": learners_digest},
                              sort_keys=True, separators=(",", ":"), ensure_ascii=False))


def test_the_digests_and_the_note_are_documented_and_required(doc):
    for event_type in EVENTS:
        schema = resolve(doc, next(m for m in doc["components"]["messages"].values()
                                   if m["name"] == event_type)["payload"]["$ref"])
        assert {"seal_digest", "learners_digest", "note"} <= set(schema["required"])
        for name in ("seal_digest", "learners_digest"):
            prop = schema["properties"][name]
            assert prop["pattern"] == "^[0-9a-f]{64}$" and "SHA-256" in prop["description"]
    confirmed = next(m for m in doc["components"]["messages"].values() if m["name"] == "unit_confirmed")
    assert "canonical JSON" in confirmed["summary"] and "{id_kind}:{id_number}:{grade}" in confirmed["summary"]
    bad = copy.deepcopy(confirmed["examples"][0]["payload"])
    bad["seal_digest"] = "not a digest"
    assert list(payload_validator("unit_confirmed", doc).iter_errors(bad))


def test_the_examples_digests_follow_the_recipe(doc):
    for message in confirmation_messages(doc):
        body = message["examples"][0]["payload"]
        counts = body["other_schools"] if body["org_unit"]["type"] == "lao" else body["counts"]
        assert body["seal_digest"] == _recipe(body["round"]["id"], body["org_unit"]["id"],
                                              counts, body["learners_digest"])
    lao = asyncapi.example("unit_confirmed")
    lines = sorted(f'{s["id"]}:{s["counts"]["total"]}:'
                   + json_compact(s["counts"]["by_grade"]) for s in lao["other_schools"]["schools"])
    assert lao["learners_digest"] == _sha256("\n".join(lines))


def json_compact(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_enrollment_and_confirmation_compute_the_same_digests():
    from services.confirmation import domain as confirmation
    from services.enrollment import domain as enrollment
    learners = [{"id_kind": "national_id", "id_number": "1101700203451", "grade": "p2"},
                {"id_kind": "g_code", "id_number": "G655000000777", "grade": "p1"}]
    learners_hex = enrollment.learners_digest(learners)
    assert learners_hex == _sha256("g_code:G655000000777:p1\nnational_id:1101700203451:p2")
    counts = {"total": 2, "by_grade": {"p2": 1, "p1": 1}}
    assert enrollment.seal_digest(12, 43, counts, learners_hex) == \
        confirmation.seal_digest(12, 43, counts, learners_hex) == _recipe(12, 43, counts, learners_hex)
    # zero grades are left out, key order does not matter
    assert enrollment.seal_digest(12, 43, {"total": 2, "by_grade": {"p1": 1, "m1": 0, "p2": 1}},
                                  learners_hex) == _recipe(12, 43, counts, learners_hex)
    schools = [{"id": 52, "counts": {"total": 0, "by_grade": {}}},
               {"id": 51, "counts": {"total": 130, "by_grade": {"p2": 60, "p1": 70}}}]
    assert enrollment.schools_digest(schools) == _sha256('51:130:{"p1":70,"p2":60}\n52:0:{}')
    assert enrollment.learners_digest([]) == _sha256("")
    assert confirmation.children_digest([(10, "b" * 64), (9, "a" * 64)]) == \
        _sha256(f"10:{'b' * 64}\n9:{'a' * 64}")


def test_the_deadline_reminder_is_documented_on_the_reporting_exchange(doc):
    message = next(m for m in doc["components"]["messages"].values() if m["name"] == "deadline_approaching")
    schema = resolve(doc, message["payload"]["$ref"])
    assert {"event_id", "type", "version", "occurred_at", "round", "org_unit", "level", "deadline",
            "hours_before"} <= set(schema["required"])
    validator = payload_validator("deadline_approaching", doc)
    validator.validate(message["examples"][0]["payload"])
    bad = dict(message["examples"][0]["payload"], hours_before=48)
    assert list(validator.iter_errors(bad))
    assert list(validator.iter_errors(dict(bad, hours_before=3, level="department")))
