"""A school gets its confirmation reopened without phoning anyone, in Thai (then English):
the school officer reads the confirmations above it on the confirm page (its LAO confirmed,
the province not) and asks to reopen with a reason; the request goes to the province (the
LAO is confirmed); the LAO sees it but cannot answer; the province approves it on the
revocation requests page, which revokes the LAO's and the school's confirmations top-down;
the school reads the outcome, in English. Every page state is checked at 1280 and 390 px.

args: url, chromium, password, round_id, reason, note,
      school {username, unit_id, name}, lao {username, unit_id, name},
      province {username, unit_id, name}
"""
from tests.browser.common import check_page, dialog_submit, goto, notice, set_lang, signed_in, texts


def api(page, method, path, body=None):
    """The API with the signed-in officer's token: what it says at this step."""
    return page.evaluate("""async ([method, path, body]) => {
        const token = JSON.parse(sessionStorage.getItem('lec.session')).token;
        const init = {method, headers: {Authorization: 'Bearer ' + token}};
        if (body !== null) { init.body = JSON.stringify(body); init.headers['Content-Type'] = 'application/json'; }
        const r = await fetch('/api/v1' + path, init);
        const text = await r.text();
        return {status: r.status, body: text ? JSON.parse(text) : null};
    }""", [method, path, body])


def school_asks(p, args, out):
    page = signed_in(p, args, "school")
    sid, rid = args["school"]["unit_id"], args["round_id"]
    seen = {}
    goto(page, sid, "confirm")
    seen["chain"] = texts(page, ".confirm-chain .summary-row")
    seen["reopen_help"] = page.locator(".confirm-reopen").inner_text()
    check_page(page, "rr-school-confirmed")
    page.get_by_role("button", name="ขอเปิดการยืนยันใหม่", exact=True).click()
    page.wait_for_selector("dialog[open]")
    seen["dialog"] = page.locator("dialog[open]").inner_text()
    check_page(page, "rr-school-dialog")
    seen["reason_required"] = page.locator("dialog[open] textarea[name=reason]").evaluate("e => e.required")
    dialog_submit(page, args["reason"])
    seen["notice"] = notice(page)
    seen["pending"] = page.locator(".confirm-reopen").inner_text()
    seen["ask_buttons"] = page.get_by_role("button", name="ขอเปิดการยืนยันใหม่", exact=True).count()
    check_page(page, "rr-school-asked")
    listed = api(page, "GET", f"/rounds/{rid}/revocation-requests")["body"]
    seen["api"] = [{"state": i["state"], "routed_to": i["routed_to"]["id"], "reason": i["reason"]}
                   for i in listed["items"]]
    goto(page, sid, "revocations")
    seen["own_list"] = texts(page, ".rr-item")
    check_page(page, "rr-school-requests")
    out["school"] = seen
    return page


def lao_cannot_answer(p, args, out):
    page = signed_in(p, args, "lao")
    goto(page, args["lao"]["unit_id"], "revocations")
    out["lao"] = {"waiting": page.locator(".rr-waiting").inner_text(),
                  "all": texts(page, ".rr-all .rr-item"),
                  "buttons": page.locator(".rr-approve, .rr-decline").count()}
    check_page(page, "rr-lao")
    # its own approval page: the confirmations above it, and a way to ask to reopen its own
    goto(page, args["lao"]["unit_id"], "children")
    out["lao"]["chain"] = texts(page, ".confirm-chain .summary-row")
    out["lao"]["ask_buttons"] = page.get_by_role("button", name="ขอเปิดการยืนยันใหม่", exact=True).count()
    check_page(page, "rr-lao-own")
    page.context.close()


def province_approves(p, args, out):
    page = signed_in(p, args, "province")
    rid = args["round_id"]
    seen = {}
    goto(page, args["province"]["unit_id"], "revocations")
    seen["waiting"] = texts(page, ".rr-waiting .rr-item")
    check_page(page, "rr-province-waiting")
    page.get_by_role("button", name=f"อนุมัติคำขอของ {args['school']['name']}", exact=True).click()
    page.wait_for_selector("dialog[open]")
    seen["dialog"] = page.locator("dialog[open]").inner_text()
    check_page(page, "rr-province-dialog")
    dialog_submit(page, args["note"])
    seen["notice"] = notice(page)
    seen["all"] = texts(page, ".rr-all .rr-item")
    check_page(page, "rr-province-approved")
    seen["school_state"] = api(page, "GET", f"/rounds/{rid}/confirmations/{args['school']['unit_id']}")["body"]["state"]
    seen["lao_state"] = api(page, "GET", f"/rounds/{rid}/confirmations/{args['lao']['unit_id']}")["body"]["state"]
    set_lang(page, "en")
    goto(page, args["province"]["unit_id"], "revocations")
    seen["en_heading"] = page.locator(".page.revocations h2").inner_text()
    seen["en_all"] = texts(page, ".rr-all .rr-item")
    check_page(page, "rr-province-en")
    out["province"] = seen
    page.context.close()


def school_reads_the_outcome(page, args, out):
    sid = args["school"]["unit_id"]
    set_lang(page, "en")
    goto(page, sid, "overview")
    goto(page, sid, "confirm")
    seen = {"state": page.locator("#confirm-state").inner_text(),
            "outcome": page.locator(".confirm-reopen").inner_text(),
            "chain": texts(page, ".confirm-chain .summary-row"),
            "ask_buttons": page.get_by_role("button", name="Ask to reopen", exact=True).count()}
    check_page(page, "rr-school-outcome-en")
    goto(page, sid, "revocations")
    seen["list"] = texts(page, ".rr-item")
    check_page(page, "rr-school-requests-en")
    out["outcome"] = seen
    page.context.close()


def run(p, args):
    out = {}
    school_page = school_asks(p, args, out)
    lao_cannot_answer(p, args, out)
    province_approves(p, args, out)
    school_reads_the_outcome(school_page, args, out)
    return out
