"""The new school year as the officers use it, in Thai and English: the school officer
previews the promotion of its learners into round 1 (who moves up, who graduates), promotes
them, and sees a second preview find nothing more to do; the LAO finds its other-affiliation
schools' headcounts drafted from the round before and accepts them, one in Thai, one in
English. Every page state is checked at 1280 and 390 px.

args: url, chromium, password, round_id (the new round 1),
      school {username, unit_id}, lao {username, unit_id},
      others [{id, name}, {id, name}] (the LAO's other-affiliation schools)
"""
from tests.browser.common import check_page, goto, notice, set_lang, settle, signed_in, texts


def api(page, method, path):
    return page.evaluate("""async ([method, path]) => {
        const token = JSON.parse(sessionStorage.getItem('lec.session')).token;
        const r = await fetch('/api/v1' + path, {method, headers: {Authorization: 'Bearer ' + token}});
        const text = await r.text();
        return {status: r.status, body: text ? JSON.parse(text) : null};
    }""", [method, path])


def school_promotes(p, args, out):
    page = signed_in(p, args, "school")
    sid, rid = args["school"]["unit_id"], args["round_id"]
    seen = {}
    goto(page, sid, "newyear")
    seen["heading"] = page.locator(".page-newyear h2").inner_text()
    seen["intro"] = page.locator(".page-newyear > p").first.inner_text()
    check_page(page, "newyear-school")
    page.get_by_role("button", name="ดูรายการก่อนเลื่อนชั้น").click()
    page.wait_for_selector(".newyear-result")
    seen["preview_heading"] = page.locator(".newyear-result h3").inner_text()
    seen["preview_figures"] = page.locator(".newyear-result .figures").inner_text()
    seen["preview_rows"] = texts(page, ".newyear-result table.data tbody tr")
    seen["before_api"] = api(page, "GET", f"/rounds/{rid}/institutions/{sid}/learners")["body"]["total"]
    check_page(page, "newyear-school-preview")
    promote = page.locator(".page-newyear .actions button.primary")
    seen["promote_label"] = promote.inner_text()
    promote.click()
    page.wait_for_selector(".newyear-result h3:has-text('ผลการเลื่อนชั้น')")
    seen["notice"] = notice(page)
    seen["result_rows"] = texts(page, ".newyear-result table.data tbody tr")
    seen["after_api"] = api(page, "GET", f"/rounds/{rid}/institutions/{sid}/learners")["body"]["total"]
    check_page(page, "newyear-school-done")
    # in English: a second preview finds everybody already promoted
    set_lang(page, "en")
    goto(page, sid, "newyear")
    seen["en_heading"] = page.locator(".page-newyear h2").inner_text()
    page.get_by_role("button", name="Preview the promotion").click()
    page.wait_for_selector(".newyear-result")
    seen["en_figures"] = page.locator(".newyear-result .figures").inner_text()
    seen["en_nothing"] = page.locator(".newyear-out .notice").inner_text()
    seen["en_buttons"] = page.locator(".page-newyear .actions button.primary").count()
    check_page(page, "newyear-school-en")
    out["school"] = seen
    page.context.close()


def lao_accepts_drafts(p, args, out):
    page = signed_in(p, args, "lao")
    lid, rid = args["lao"]["unit_id"], args["round_id"]
    first, second = args["others"]
    seen = {}
    goto(page, lid, "headcounts")
    seen["drafts"] = texts(page, ".headcount-draft")
    check_page(page, "newyear-lao-drafts")
    settle(page, lambda: page.locator(f".headcount-draft[data-draft='{first['id']}'] button").click())
    seen["notice"] = notice(page)
    seen["drafts_after"] = page.locator(".headcount-draft").count()
    seen["first_api"] = api(page, "GET", f"/rounds/{rid}/institutions/{first['id']}/headcount")["body"]
    set_lang(page, "en")
    goto(page, lid, "headcounts")
    seen["en_drafts"] = texts(page, ".headcount-draft")
    check_page(page, "newyear-lao-drafts-en")
    settle(page, lambda: page.locator(f".headcount-draft[data-draft='{second['id']}'] button").click())
    seen["en_notice"] = notice(page)
    seen["en_drafts_after"] = page.locator(".headcount-draft").count()
    seen["second_api"] = api(page, "GET", f"/rounds/{rid}/institutions/{second['id']}/headcount")["body"]
    check_page(page, "newyear-lao-accepted-en")
    # the unit form's affiliations come from the server's list (GET /affiliations)
    goto(page, lid, "units")
    page.wait_for_selector("select#f-affiliation option[data-listed='server']", state="attached")
    seen["affiliations_en"] = page.locator("select#f-affiliation option").evaluate_all(
        "(els) => els.map((e) => e.textContent)")
    out["lao"] = seen
    page.context.close()


def run(p, args):
    out = {}
    school_promotes(p, args, out)
    lao_accepts_drafts(p, args, out)
    return out
