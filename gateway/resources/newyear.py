"""The new school year (promotion of an institution's learners) and other-affiliation
schools (headcount drafts, the affiliations list)."""
from gateway.access import Authenticated, UnitInPath
from services.common import settings
from services.common.affiliations import listing
from services.enrollment.newyear_schemas import Affiliation, PromotionResult
from services.enrollment.schemas import Headcount


class Promote:
    """Round 2 of the year before into round 1, one grade up, in one action."""
    policies = {"POST": UnitInPath("iid", roles=("institution", "lao"))}
    docs = {"POST": {"summary": "Promote an institution's learners to the new school year (round 2 of "
                                "the year before into this round 1, one grade up), or preview it",
                     "tag": "learners", "response": PromotionResult,
                     "query": {"dry_run": ("boolean", "true: answer who would move where and who "
                                                      "would leave, writing nothing (default false)")}}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_post(self, req, resp, id, iid):
        dry_run = req.get_param_as_bool("dry_run", default=False)
        timeout = max(self.ctx.config.rpc_timeout, settings.current().import_rpc_timeout)
        resp.media = self.ctx.call(req, "enrollment", "promote", id, iid, dry_run=dry_run, timeout=timeout)


class HeadcountAccept:
    """The LAO accepts a school's headcount drafted from the round before."""
    policies = {"POST": UnitInPath("iid", roles=("lao",))}
    docs = {"POST": {"summary": "Accept an other-affiliation school's draft headcount as it stands "
                                "(its LAO)", "tag": "headcounts", "response": Headcount}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_post(self, req, resp, id, iid):
        resp.media = self.ctx.call(req, "enrollment", "accept_headcount", id, iid)


class Affiliations:
    """The affiliations an other-affiliation school may have."""
    policies = {"GET": Authenticated()}
    docs = {"GET": {"summary": "The affiliations of other-affiliation schools (code and Thai and "
                               "English names)", "tag": "org-units", "response": Affiliation,
                    "list": True, "paged": False}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp):
        resp.media = listing()


ROUTES = [
    ("/rounds/{id:int}/institutions/{iid:int}/learners/promote", Promote),
    ("/rounds/{id:int}/institutions/{iid:int}/headcount/accept", HeadcountAccept),
    ("/affiliations", Affiliations),
]
