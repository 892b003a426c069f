"""Registry service: the org-unit hierarchy, institutions and accounts."""
from nameko.timer import timer

from services.common import settings
from services.common.db import Database
from services.common.base import HealthMixin, rpc
from services.registry import agencies, handlers, profiles


class RegistryService(HealthMixin):
    name = "registry"
    db = Database("registry", on_start=handlers.bootstrap)

    # -- accounts
    @rpc
    def authenticate(self, username, password, client_address=None):
        """The gateway's sign-in (as the system actor), with the client's address."""
        with self.db.uow() as uow:
            return handlers.authenticate(uow, username, password, client_address)

    @rpc
    def create_user(self, data):
        with self.db.uow() as uow:
            return handlers.create_user(uow, self.db.actor, data)

    @rpc
    def get_user(self, user_id):
        with self.db.session() as session:
            return handlers.get_user(session, self.db.actor, user_id)

    @rpc
    def list_users(self, org_unit_id=None, limit=None, offset=None, q=None):
        with self.db.session() as session:
            return handlers.list_users(session, self.db.actor, org_unit_id, limit, offset, q)

    @rpc
    def logout(self):
        """End every session of the acting user's account (its token version rises)."""
        with self.db.uow() as uow:
            return handlers.logout(uow, self.db.actor)

    @rpc
    def change_password(self, data):
        with self.db.uow() as uow:
            return handlers.change_password(uow, self.db.actor, data)

    @rpc
    def update_user(self, user_id, data):
        with self.db.uow() as uow:
            return handlers.update_user(uow, self.db.actor, user_id, data)

    @rpc
    def token_states(self, user_ids):
        """The gateway, checking tokens: user id -> the account's state (active,
        token version, username, role, unit and its path)."""
        with self.db.session() as session:
            return handlers.token_states(session, user_ids)

    @rpc
    def contacts(self, unit_ids):
        """{str(unit id): [{username, role, last_login_at}]}: the active accounts
        of each unit (in the acting user's subtree), many units at once."""
        with self.db.session() as session:
            return handlers.contacts(session, self.db.actor, unit_ids)

    # -- agency clients (services.registry.agencies)
    @rpc
    def authenticate_agency(self, client_id, client_secret, client_address=None):
        """The gateway's client-credentials sign-in (as the system actor)."""
        with self.db.uow() as uow:
            return agencies.authenticate(uow, client_id, client_secret, client_address)

    @rpc
    def agency_token_states(self, agency_ids):
        with self.db.session() as session:
            return agencies.token_states(session, agency_ids)

    @rpc
    def create_agency(self, data):
        with self.db.uow() as uow:
            return agencies.create(uow, self.db.actor, data)

    @rpc
    def list_agencies(self, limit=None, offset=None):
        with self.db.session() as session:
            return agencies.list_agencies(session, self.db.actor, limit, offset)

    @rpc
    def get_agency(self, agency_id):
        with self.db.session() as session:
            return agencies.get(session, self.db.actor, agency_id)

    @rpc
    def rotate_agency(self, agency_id):
        with self.db.uow() as uow:
            return agencies.rotate(uow, self.db.actor, agency_id)

    @rpc
    def disable_agency(self, agency_id):
        with self.db.uow() as uow:
            return agencies.disable(uow, self.db.actor, agency_id)

    @timer(interval=settings.env_float("LEC_LOGIN_PRUNE_INTERVAL", 3600))
    def prune_login_throttle(self):
        with self.db.uow() as uow:
            handlers.prune_login_throttle(uow)

    # -- org units
    @rpc
    def create_unit(self, data):
        with self.db.uow() as uow:
            return handlers.create_unit(uow, self.db.actor, data)

    @rpc
    def verify_unit(self, unit_id):
        with self.db.uow() as uow:
            return handlers.verify_unit(uow, self.db.actor, unit_id)

    # -- profiles and the self-established CDC survey (services.registry.profiles)
    @rpc
    def update_unit(self, unit_id, data, if_match=None):
        with self.db.uow() as uow:
            return profiles.update_unit(uow, self.db.actor, unit_id, data, if_match)

    @rpc
    def reject_unit(self, unit_id, data):
        with self.db.uow() as uow:
            return profiles.reject_unit(uow, self.db.actor, unit_id, data)

    @rpc
    def resubmit_unit(self, unit_id):
        with self.db.uow() as uow:
            return profiles.resubmit_unit(uow, self.db.actor, unit_id)

    @rpc
    def add_document(self, unit_id, meta, content_b64):
        """``meta``: {kind, filename, content_type}; the bytes in base64."""
        with self.db.uow() as uow:
            return profiles.add_document(uow, self.db.actor, unit_id, meta, content_b64)

    @rpc
    def list_documents(self, unit_id):
        with self.db.session() as session:
            return profiles.list_documents(session, self.db.actor, unit_id)

    @rpc
    def get_document(self, unit_id, doc_id):
        """{meta, content (base64)}."""
        with self.db.session() as session:
            return profiles.get_document(session, self.db.actor, unit_id, doc_id)

    @rpc
    def delete_document(self, unit_id, doc_id):
        with self.db.uow() as uow:
            return profiles.delete_document(uow, self.db.actor, unit_id, doc_id)

    @rpc
    def survey_form(self, unit_id):
        """The printable CDC survey form (a report table) of a CDC or of the CDCs beneath a unit."""
        with self.db.session() as session:
            return profiles.survey_form(session, self.db.actor, unit_id)

    @rpc
    def close_unit(self, unit_id, data):
        with self.db.uow() as uow:
            return handlers.close_unit(uow, self.db.actor, unit_id, data)

    @rpc
    def get_unit(self, unit_id):
        with self.db.session() as session:
            return handlers.get_unit(session, self.db.actor, unit_id)

    @rpc
    def get_units(self, ids):
        """Batch read for the gateway's and other services' lookups (any acting user)."""
        with self.db.session() as session:
            return handlers.get_units(session, ids)

    @rpc
    def list_children(self, unit_id, type=None, status=None, limit=None, offset=None, unpaged=False,
                      q=None, affiliation=None):
        with self.db.session() as session:
            return handlers.list_children(session, self.db.actor, unit_id, type, status, limit,
                                          offset, unpaged, q, affiliation)

    @rpc
    def list_descendants(self, unit_id, q=None, type=None, status=None, limit=None, offset=None):
        with self.db.session() as session:
            return handlers.list_descendants(session, self.db.actor, unit_id, q, type, status,
                                             limit, offset)

    @rpc
    def subtree(self, unit_id, types=None, statuses=None):
        with self.db.session() as session:
            return handlers.subtree(session, unit_id, types, statuses)

    @rpc
    def is_ancestor(self, ancestor_id, unit_id):
        with self.db.session() as session:
            return handlers.is_ancestor(session, ancestor_id, unit_id)
