"""The establishment documents of units (PDF, JPEG or PNG), behind one small
interface, :class:`DocumentStore`, with one implementation: the registry's own
PostgreSQL database (``unit_documents``, the bytes in a ``bytea`` column).

Why the database and not PostgreSQL large objects or an S3-compatible store:
a document is stored in the same transaction as the unit's change and its audit
entry (no orphan file when the request fails, no unit without its file), it is
backed up and restored with the registry, and it is read through the same
access rules. The files are small (``LEC_DOCUMENT_MAX_BYTES``, 5 MB by default)
and few (a handful per new CDC). Large objects would add their own permissions
and orphan cleanup (``lo_unlink``) for no gain at this size; an object store is
one more service to run and back up. Should the volume grow, another
implementation of :class:`DocumentStore` moves the bytes elsewhere without
touching the use cases.
"""
import base64
import binascii
import hashlib
import re
import unicodedata

from sqlalchemy import delete, func, insert, select

from services.common import settings
from services.common.errors import LecError, not_found, validation_error
from services.common.jsonutil import plain
from services.registry.models import unit_documents
from services.registry.profile_schemas import CONTENT_TYPES, max_bytes

MAGIC = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
META = ("id", "org_unit_id", "kind", "filename", "content_type", "size", "sha256", "created_at",
        "created_by")


def max_per_unit():
    return settings.current().documents_per_unit


_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f\"\\/:*?<>|]")


def clean_filename(name, content_type):
    """The file's own name without any directory, control or quoting character,
    at most 150 characters, ending in the extension of its type."""
    if not isinstance(name, str):
        name = ""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME.sub("_", name).strip(" .")[:150]
    ext = EXTENSIONS[content_type]
    stem = name[: -len(name.rsplit(".", 1)[-1]) - 1] if "." in name else name
    if not stem:
        stem = "document"
    if name.lower().endswith(ext) or (ext == ".jpg" and name.lower().endswith(".jpeg")):
        return name
    return stem + ext


def check_content(content_type, content):
    """The bytes must be what the declared type says (its magic bytes)."""
    if content_type not in CONTENT_TYPES:
        raise LecError("unsupported_media_type", "send a PDF (application/pdf), a JPEG (image/jpeg) "
                                                 "or a PNG (image/png)")
    if not content:
        raise validation_error({"file": ["the file is empty"]})
    limit = max_bytes()
    if len(content) > limit:
        raise LecError("payload_too_large", f"a document is at most {limit:,} bytes")
    if not any(content.startswith(magic) for magic in MAGIC[content_type]):
        raise LecError("invalid_document", f"the file is not a {EXTENSIONS[content_type][1:].upper()} "
                                           f"as its type {content_type} says")


def decode(content_b64):
    try:
        return base64.b64decode(content_b64 or "", validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise validation_error({"content": ["base64"]})


class DocumentStore:
    """Where the documents' bytes live."""

    def put(self, unit_id, kind, filename, content_type, content, actor_id):
        raise NotImplementedError

    def list(self, unit_id):
        raise NotImplementedError

    def count(self, unit_id):
        raise NotImplementedError

    def get(self, unit_id, doc_id):
        """``(meta, bytes)``; not_found when the unit has no such document."""
        raise NotImplementedError

    def delete(self, unit_id, doc_id):
        raise NotImplementedError


def _meta(row):
    m = row._mapping
    return plain({k: m[k] for k in META})


class PgDocumentStore(DocumentStore):
    """The registry database's ``unit_documents`` table (in the caller's transaction)."""

    def __init__(self, session):
        self.session = session

    def put(self, unit_id, kind, filename, content_type, content, actor_id):
        row = self.session.execute(insert(unit_documents).values(
            org_unit_id=unit_id, kind=kind, filename=filename, content_type=content_type,
            size=len(content), sha256=hashlib.sha256(content).hexdigest(), content=content,
            created_by=actor_id or None,
        ).returning(*[unit_documents.c[k] for k in META])).first()
        return _meta(row)

    def list(self, unit_id):
        rows = self.session.execute(select(*[unit_documents.c[k] for k in META])
                                    .where(unit_documents.c.org_unit_id == unit_id)
                                    .order_by(unit_documents.c.id))
        return [_meta(r) for r in rows]

    def count(self, unit_id):
        return self.session.execute(select(func.count()).select_from(unit_documents)
                                    .where(unit_documents.c.org_unit_id == unit_id)).scalar_one()

    def get(self, unit_id, doc_id):
        row = self.session.execute(select(unit_documents).where(
            unit_documents.c.org_unit_id == unit_id, unit_documents.c.id == doc_id)).first()
        if row is None:
            raise not_found("document")
        return _meta(row), bytes(row.content)

    def delete(self, unit_id, doc_id):
        row = self.session.execute(delete(unit_documents).where(
            unit_documents.c.org_unit_id == unit_id, unit_documents.c.id == doc_id)
            .returning(*[unit_documents.c[k] for k in META])).first()
        if row is None:
            raise not_found("document")
        return _meta(row)


def store(session):
    """The configured document store (there is one: PostgreSQL)."""
    return PgDocumentStore(session)
