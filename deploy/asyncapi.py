"""The AsyncAPI 3.0 document of the agency events, built from the marshmallow
event schemas: ``python -m deploy.asyncapi [path]`` writes
``deploy/asyncapi.yaml`` (the tests check the committed file is current)."""
import sys
from pathlib import Path

import yaml
from apispec.ext.marshmallow.openapi import OpenAPIConverter

from services.confirmation import domain
from services.confirmation.schemas import EVENTS
from services.reporting.schemas import DeadlineApproaching

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "deploy" / "asyncapi.yaml"
EXCHANGE = "confirmation.events"
AMQP_BINDING_VERSION = "0.3.0"

CAMEL = {"unit_confirmed": "unitConfirmed", "unit_revoked": "unitRevoked",
         "round_finalized": "roundFinalized"}
SCHEMA_NAMES = {"unit_confirmed": "UnitConfirmed", "unit_revoked": "UnitRevoked",
                "round_finalized": "RoundFinalized"}

DESCRIPTIONS = {
    "unit_confirmed": "A unit (school, CDC, LAO, province or the department) confirmed its counts. "
                      "The counts were sealed at that instant: they equal the learners behind them. "
                      "An LAO's event also carries its other-affiliation schools' headcounts. "
                      "`seal_digest` lets anyone check the event: it is the SHA-256 (hex) of the "
                      "canonical JSON (sorted keys, separators `,` and `:`, UTF-8 unescaped) of "
                      "`{round_id, unit_id, counts: {total, by_grade}, learners_digest}`, where "
                      "`counts` are the event's counts (an LAO: its `other_schools` total and "
                      "by_grade, what the LAO seals) and `learners_digest` the SHA-256 of what was "
                      "sealed, one sorted line per item joined by line feeds: "
                      "`{id_kind}:{id_number}:{grade}` per learner of a school or CDC (which the "
                      "unit itself can recompute from its list), "
                      "`{school_id}:{total}:{canonical JSON of by_grade}` per other school of an LAO, "
                      "`{child_id}:{child seal_digest}` per confirmed child of a province or the "
                      "department. `note` is the confirming user's note, or null.",
    "unit_revoked": "A confirmation was revoked from a unit above (with a reason): the counts of the "
                    "earlier `unit_confirmed` of this unit and round no longer stand until it "
                    "confirms again.",
    "round_finalized": "The department confirmed: the round's counts are final. Sent together with "
                       "the department's own `unit_confirmed`.",
}

EXAMPLE_UNIT = {
    "unit_confirmed": {"id": 42, "code": "5010101", "type": "lao", "path": "/1/7/42/"},
    "unit_revoked": {"id": 43, "code": "1050010001", "type": "school", "path": "/1/7/42/43/"},
    "round_finalized": {"id": 1, "code": "DLA", "type": "department", "path": "/1/"},
}


def payload_schema(schema_cls):
    """JSON Schema (draft 2020-12 / AsyncAPI Schema compatible) of a marshmallow schema."""
    converter = OpenAPIConverter(openapi_version="3.1.0", schema_name_resolver=lambda s: None,
                                 spec=None)
    return converter.schema2jsonschema(schema_cls)


def example(event_type):
    body = {
        "event_id": "3f1c2a9e-8b7d-4c61-9f0e-2d5b6a7c8e90", "type": event_type, "version": 1,
        "occurred_at": "2026-11-10T16:05:12.345678+07:00",
        "round": {"id": 12, "academic_year": 2569, "number": 2},
        "org_unit": EXAMPLE_UNIT[event_type],
        "counts": {"total": 57, "by_grade": {"k2": 12, "p1": 20, "p2": 25}},
        "confirmed_at": "2026-11-10T16:05:12.345678+07:00", "confirmed_by": 7,
        "confirmed_by_username": "lao.cnxcity", "confirmation_version": 2,
    }
    body.update(seal_digest=None, learners_digest=None, note=None)
    if event_type == "unit_confirmed":
        body["other_schools"] = {"total": 130, "by_grade": {"p1": 70, "p2": 60}, "schools": [
            {"id": 51, "code": "50030101", "closed": False,
             "counts": {"total": 130, "by_grade": {"p1": 70, "p2": 60}}},
            {"id": 52, "code": "50030102", "closed": True, "counts": {"total": 0, "by_grade": {}}}]}
        # an LAO: what it seals is its other schools' headcounts
        learners_hex = domain.sha256_hex('51:130:{"p1":70,"p2":60}\n52:0:{}')
        body.update(learners_digest=learners_hex, note="ตรวจสอบรายชื่อครบทุกโรงเรียนแล้ว",
                    seal_digest=domain.seal_digest(12, 42, body["other_schools"], learners_hex))
    else:  # an opaque learners_digest here; the seal_digest follows the recipe from it
        learners_hex = domain.sha256_hex(f"example {event_type}")
        body.update(learners_digest=learners_hex, seal_digest=domain.seal_digest(
            12, body["org_unit"]["id"], body["counts"], learners_hex))
    if event_type == "unit_revoked":
        body.update(reason="จำนวนนักเรียนไม่ตรง: ขอแก้ไขข้อมูล", revoked_at="2026-11-11T09:00:00+07:00",
                    revoked_by=5, confirmed_by_username="school.ketkaram", confirmation_version=3)
    return body


def _operation(action, channel, messages, title, summary, amqp):
    return {"action": action, "channel": {"$ref": f"#/channels/{channel}"}, "title": title,
            "summary": summary, "messages": messages,
            "bindings": {"amqp": dict(amqp, bindingVersion=AMQP_BINDING_VERSION)}}


# the reporting service's reminder, on its own exchange (nameko's dispatcher of ``reporting``)
REMINDER = "deadline_approaching"
REMINDER_EXCHANGE = "reporting.events"
CAMEL[REMINDER] = "deadlineApproaching"
SCHEMA_NAMES[REMINDER] = "DeadlineApproaching"
DESCRIPTIONS[REMINDER] = (
    "A school, CDC, LAO or province that has not confirmed is 72, 24 or 3 hours from its level's "
    "deadline (extensions included). Published by the reporting service on the topic exchange "
    "`reporting.events`, once per unit, deadline and threshold (across restarts and replicas); when "
    "several thresholds are passed at once only the smallest is sent. An extension (a new deadline) "
    "starts new reminders.")


def reminder_example():
    return {"event_id": "7d2e0c1a-4b5f-4e8a-9c3d-1f2a3b4c5d6e", "type": REMINDER, "version": 1,
            "occurred_at": "2026-11-12T14:00:03.120000+07:00",
            "round": {"id": 12, "academic_year": 2569, "number": 2},
            "org_unit": {"id": 43, "code": "1050010001", "name": "โรงเรียนเทศบาลวัดเกตการาม",
                         "type": "school", "path": "/1/7/42/43/"},
            "level": "institution", "deadline": "2026-11-15T17:00:00+07:00", "hours_before": 72}


def build():
    channels, operations, messages, schemas = {}, {}, {}, {}
    events = [(t, cls, EXCHANGE, "confirmation", example) for t, cls in EVENTS.items()]
    events.append((REMINDER, DeadlineApproaching, REMINDER_EXCHANGE, "reporting",
                   lambda _t: reminder_example()))
    for event_type, schema_cls, exchange, publisher, make_example in events:
        name, schema_name = CAMEL[event_type], SCHEMA_NAMES[event_type]
        schemas[schema_name] = payload_schema(schema_cls)
        messages[name] = {
            "name": event_type,
            "title": event_type.replace("_", " "),
            "summary": DESCRIPTIONS[event_type],
            "contentType": "application/json",
            "headers": {"type": "object", "properties": {"lec.event_id": {
                "type": "string", "description": "the payload's event_id, repeated as a header"}}},
            "payload": {"$ref": f"#/components/schemas/{schema_name}"},
            "correlationId": {"description": "the event id (redeliveries carry the same)",
                              "location": "$message.payload#/event_id"},
            "bindings": {"amqp": {"messageType": event_type, "bindingVersion": AMQP_BINDING_VERSION}},
            "examples": [{"name": f"{event_type}_example", "payload": make_example(event_type)}],
        }
        channels[name] = {
            "address": event_type,
            "title": f"{exchange} / {event_type}",
            "description": f"Routing key `{event_type}` on the topic exchange `{exchange}`. "
                           "Bind your own durable queue to it.",
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "bindings": {"amqp": {
                "is": "routingKey",
                "exchange": {"name": exchange, "type": "topic", "durable": True, "autoDelete": False,
                             "vhost": "/"},
                "bindingVersion": AMQP_BINDING_VERSION}},
        }
        message_ref = [{"$ref": f"#/channels/{name}/messages/{name}"}]
        capital = name[0].upper() + name[1:]
        operations[f"publish{capital}"] = _operation(
            "send", name, message_ref, f"The {publisher} service publishes {event_type}",
            "Published through the transactional outbox after the change commits, never before; "
            "persistent, with publisher confirms; at least once.",
            {"deliveryMode": 2, "mandatory": False})
        operations[f"receive{capital}"] = _operation(
            "receive", name, message_ref, f"An agency receives {event_type}",
            "Bind a durable queue, acknowledge after processing, and de-duplicate by event_id: "
            "a message may arrive more than once.", {"ack": True})
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "LEC confirmed-count events",
            "version": "1.0.0",
            "description": (
                "Events of the confirmation service of LEC, the local education census of the "
                "Department of Local Administration. Agencies that allocate education money bind "
                "their own durable queue to the topic exchange `confirmation.events` with the "
                "routing keys they need. Every event is published at least once, after its change "
                "is committed; consumers de-duplicate by `event_id`. Messages may arrive out of "
                "order: of two events about the same unit and round, the one with the higher "
                "`confirmation_version` is the newer. Payloads carry no national "
                "ID numbers or names. Units appear as `{id, code, type, path}`: the materialised "
                "path (`/1/7/42/`) lets a consumer roll counts up without lookups. The reporting "
                "service's deadline reminders (`deadline_approaching`) come on the topic exchange "
                "`reporting.events` in the same way."),
        },
        "defaultContentType": "application/json",
        "servers": {
            "broker": {
                "host": "127.0.0.1:5672",
                "protocol": "amqp",
                "protocolVersion": "0.9.1",
                "pathname": "/",
                "description": "RabbitMQ of the deployment (vhost in the pathname); agencies get "
                               "their own credentials and queue.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def dump(document):
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0]) if argv else DOCUMENT
    path.write_text("# Generated by `python -m deploy.asyncapi`: edit the schemas, "
                    "not this file.\n" + dump(build()), encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
