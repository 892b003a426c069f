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
            return handlers.create_user(uow, data)

    @rpc
    def get_user(self, user_id):
        with self.db.uow() as uow:
            return handlers.get_user(uow, user_id)

    @rpc
    def list_users(self, org_unit_id=None, limit=None, offset=None, q=None):
        with self.db.uow() as uow:
            return handlers.list_users(uow, org_unit_id, limit, offset, q)

    @rpc
    def logout(self):
        """End every session of the acting user's account (its token version rises)."""
        with self.db.uow() as uow:
            return handlers.logout(uow)

    @rpc
    def change_password(self, data):
        with self.db.uow() as uow:
            return handlers.change_password(uow, data)

    @rpc
    def update_user(self, user_id, data):
        with self.db.uow() as uow:
            return handlers.update_user(uow, user_id, data)

    @rpc
    def token_states(self, user_ids):
        """The gateway, checking tokens: user id -> the account's state (active,
        token version, username, role, unit and its path)."""
        with self.db.uow() as uow:
            return handlers.token_states(uow, user_ids)

    @rpc
    def contacts(self, unit_ids):
        """{str(unit id): [{username, role, last_login_at}]}: the active accounts
        of each unit (in the acting user's subtree), many units at once."""
        with self.db.uow() as uow:
            return handlers.contacts(uow, unit_ids)

    # -- agency clients (services.registry.agencies)
    @rpc
    def authenticate_agency(self, client_id, client_secret, client_address=None):
        """The gateway's client-credentials sign-in (as the system actor)."""
        with self.db.uow() as uow:
            return agencies.authenticate(uow, client_id, client_secret, client_address)

    @rpc
    def agency_token_states(self, agency_ids):
        with self.db.uow() as uow:
            return agencies.token_states(uow, agency_ids)

    @rpc
    def create_agency(self, data):
        with self.db.uow() as uow:
            return agencies.create(uow, data)

    @rpc
    def list_agencies(self, limit=None, offset=None):
        with self.db.uow() as uow:
            return agencies.list_agencies(uow, limit, offset)

    @rpc
    def get_agency(self, agency_id):
        with self.db.uow() as uow:
            return agencies.get(uow, agency_id)

    @rpc
    def rotate_agency(self, agency_id):
        with self.db.uow() as uow:
            return agencies.rotate(uow, agency_id)

    @rpc
    def disable_agency(self, agency_id):
        with self.db.uow() as uow:
            return agencies.disable(uow, agency_id)

    @timer(interval=settings.current().login_prune_interval)
    def prune_login_throttle(self):
        with self.db.uow() as uow:
            handlers.prune_login_throttle(uow)

    # -- org units
    @rpc
    def create_unit(self, data):
        with self.db.uow() as uow:
            return handlers.create_unit(uow, data)

    @rpc
    def verify_unit(self, unit_id):
        with self.db.uow() as uow:
            return handlers.verify_unit(uow, unit_id)

    # -- profiles and the self-established CDC survey (services.registry.profiles)
    @rpc
    def update_unit(self, unit_id, data, if_match=None):
        with self.db.uow() as uow:
            return profiles.update_unit(uow, unit_id, data, if_match)

    @rpc
    def reject_unit(self, unit_id, data):
        with self.db.uow() as uow:
            return profiles.reject_unit(uow, unit_id, data)

    @rpc
    def resubmit_unit(self, unit_id):
        with self.db.uow() as uow:
            return profiles.resubmit_unit(uow, unit_id)

    @rpc
    def add_document(self, unit_id, meta, content_b64):
        """``meta``: {kind, filename, content_type}; the bytes in base64."""
        with self.db.uow() as uow:
            return profiles.add_document(uow, unit_id, meta, content_b64)

    @rpc
    def list_documents(self, unit_id):
        with self.db.uow() as uow:
            return profiles.list_documents(uow, unit_id)

    @rpc
    def get_document(self, unit_id, doc_id):
        """{meta, content (base64)}."""
        with self.db.uow() as uow:
            return profiles.get_document(uow, unit_id, doc_id)

    @rpc
    def delete_document(self, unit_id, doc_id):
        with self.db.uow() as uow:
            return profiles.delete_document(uow, unit_id, doc_id)

    @rpc
    def survey_form(self, unit_id):
        """The printable CDC survey form (a report table) of a CDC or of the CDCs beneath a unit."""
        with self.db.uow() as uow:
            return profiles.survey_form(uow, unit_id)

    @rpc
    def close_unit(self, unit_id, data):
        with self.db.uow() as uow:
            return handlers.close_unit(uow, unit_id, data)

    @rpc
    def get_unit(self, unit_id):
        with self.db.uow() as uow:
            return handlers.get_unit(uow, unit_id)

    @rpc
    def get_units(self, ids):
        """Batch read for the gateway's and other services' lookups (any acting user)."""
        with self.db.uow() as uow:
            return handlers.get_units(uow, ids)

    @rpc
    def units_page(self, after_id=0, limit=1000):
        """Every unit by id, a page after ``after_id`` (a service filling its copy of the units)."""
        with self.db.uow() as uow:
            return handlers.units_page(uow, after_id, limit)

    @rpc
    def list_children(self, unit_id, type=None, status=None, limit=None, offset=None, unpaged=False,
                      q=None, affiliation=None):
        with self.db.uow() as uow:
            return handlers.list_children(uow, unit_id, type, status, limit,
                                          offset, unpaged, q, affiliation)

    @rpc
    def list_descendants(self, unit_id, q=None, type=None, status=None, limit=None, offset=None):
        with self.db.uow() as uow:
            return handlers.list_descendants(uow, unit_id, q, type, status,
                                             limit, offset)

    @rpc
    def subtree(self, unit_id, types=None, statuses=None):
        with self.db.uow() as uow:
            return handlers.subtree(uow, unit_id, types, statuses)

    @rpc
    def is_ancestor(self, ancestor_id, unit_id):
        with self.db.uow() as uow:
            return handlers.is_ancestor(uow, ancestor_id, unit_id)
