"""The demo data puts a few learners in the demo schools and CDCs on first load."""
from deploy import demo
from tests.client import Client


def test_demo_learners_are_loaded_once(system):
    demo.load(system.url)
    api = Client(system.url)
    school = api.login("school.ketkaram", demo.DEMO_PASSWORD)
    year_be, _ = demo.current_round_dates()
    rounds = school.ok("GET", "/rounds", params={"academic_year": year_be})["items"]
    open_round = next(r for r in rounds if r["number"] == 2)
    assert open_round["state"] == "open"
    base = f"/rounds/{open_round['id']}/institutions"
    listed = school.ok("GET", f"{base}/{school.user['org_unit_id']}/learners")
    assert listed["total"] == len(demo.DEMO_LEARNERS["school.ketkaram"])
    assert {i["first_name"] for i in listed["items"]} == {x[1] for x in demo.DEMO_LEARNERS["school.ketkaram"]}
    dokngoen = api.login("school.dokngoen", demo.DEMO_PASSWORD)
    kinds = [i["id_kind"] for i in dokngoen.ok("GET", f"{base}/{dokngoen.user['org_unit_id']}/learners")["items"]]
    assert sorted(kinds) == ["g_code", "national_id", "national_id"]
    cdc = api.login("cdc.suthep", demo.DEMO_PASSWORD)
    assert cdc.ok("GET", f"{base}/{cdc.user['org_unit_id']}/learners/summary")["counts"]["by_grade"] == {"cdc": 2}
    lao = api.login("lao.suthep", demo.DEMO_PASSWORD)
    heads = lao.ok("GET", f"/rounds/{open_round['id']}/laos/{lao.user['org_unit_id']}/headcounts")["items"]
    assert sorted(h["counts"]["total"] for h in heads) == sorted(sum(c.values()) for c in demo.DEMO_HEADCOUNTS.values())
    # a second start finds the data loaded and adds nothing
    demo.load(system.url)
    assert school.ok("GET", f"{base}/{school.user['org_unit_id']}/learners")["total"] == listed["total"]
