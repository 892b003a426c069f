"""A child's transfer as the officers do it: school B tries to add a child that school A
holds (duplicate_learner), presses "ขอย้ายเด็กมา" and sends the request from the transfers
page, filled in; school A (another browser) reads it and accepts. Then, in English, school B
asks for a second child; school A declines with a reason, which school B reads. Last, school
B's LAO asks for a third child on the school's behalf, choosing it with the unit picker. Every
page state is checked at 1280 and 390 px.

args: url, chromium, password, round_id, school_a {username, unit_id}, school_b {username, unit_id},
      lao_b {username, unit_id}, child {national_id, prefix, first_name, last_name, sex, birth_be,
      grade}, second {national_id}, third {national_id}, note, decline_reason
"""
from tests.browser.common import check_page, dialog_submit, goto, notice, set_lang, settle, signed_in, texts


def fill_learner(page, learner):
    page.check("input[name=id_kind][value=national_id]")
    page.fill("input[name=id_number]", learner["national_id"])
    page.select_option("select[name=prefix]", learner["prefix"])
    page.fill("input[name=first_name]", learner["first_name"])
    page.fill("input[name=last_name]", learner["last_name"])
    page.check(f"input[name=sex][value={learner['sex']}]")
    page.fill("input[name=birth_date]", learner["birth_be"])
    if page.locator("select[name=grade] option").count() > 1:
        page.select_option("select[name=grade]", learner["grade"])


def school_b_asks(p, args, out):
    page = signed_in(p, args, "school_b")
    bid = args["school_b"]["unit_id"]
    seen = {}
    goto(page, bid, "learners")
    page.get_by_role("button", name="เพิ่มผู้เรียน").click()
    page.wait_for_selector("form.learner-form")
    fill_learner(page, args["child"])
    page.click("form.learner-form button[type=submit]")
    page.wait_for_selector("form.learner-form .error-summary .learner-transfer")
    seen["duplicate"] = page.inner_text("form.learner-form .error-summary")
    check_page(page, "transfers-learners-duplicate")
    settle(page, lambda: page.click(".learner-transfer"))
    seen["hash"] = page.evaluate("() => location.hash")
    seen["prefilled"] = page.input_value("#tr-id")
    seen["tab_pressed"] = page.get_attribute(".tr-tab-outgoing", "aria-pressed")
    page.fill("#tr-note", args["note"])
    check_page(page, "transfers-request-form")
    settle(page, lambda: page.click("form.tr-form button[type=submit]"))
    seen["sent"] = notice(page)
    seen["outgoing"] = texts(page, ".tr-item")
    check_page(page, "transfers-school-b-outgoing")
    out["b"] = seen
    return page


def school_a_accepts(p, args, out):
    page = signed_in(p, args, "school_a")
    aid = args["school_a"]["unit_id"]
    seen = {}
    goto(page, aid, "transfers")
    seen["incoming"] = texts(page, ".tr-item")
    seen["buttons"] = texts(page, ".tr-item .tr-actions button")
    check_page(page, "transfers-school-a-incoming")
    page.locator(".tr-item .tr-accept").first.click()
    page.wait_for_selector("dialog[open]")
    seen["dialog"] = page.locator("dialog[open]").inner_text()
    check_page(page, "transfers-school-a-accept-dialog")
    dialog_submit(page)
    seen["accepted"] = notice(page)
    settle(page, lambda: page.select_option("#tr-state", "accepted"))
    seen["accepted_items"] = texts(page, ".tr-item")
    check_page(page, "transfers-school-a-accepted")
    out["a"] = seen
    return page


def english_decline(p, b_page, a_page, args, out):
    seen = {}
    bid, aid = args["school_b"]["unit_id"], args["school_a"]["unit_id"]
    set_lang(b_page, "en")
    goto(b_page, bid, "transfers")
    seen["heading"] = b_page.locator(".page.transfers h2").first.inner_text()
    b_page.select_option("#tr-kind", "national_id")
    b_page.fill("#tr-id", args["second"]["national_id"])
    settle(b_page, lambda: b_page.click("form.tr-form button[type=submit]"))
    seen["sent_en"] = notice(b_page)
    # the same child asked for again: refused, said in English
    b_page.fill("#tr-id", args["second"]["national_id"])
    b_page.click("form.tr-form button[type=submit]")
    b_page.wait_for_selector("#notice .notice.error")
    seen["pending_en"] = notice(b_page)
    check_page(b_page, "transfers-school-b-en")

    goto(a_page, aid, "transfers")
    settle(a_page, lambda: a_page.select_option("#tr-state", "pending"))
    a_page.locator(".tr-item .tr-decline").first.click()
    a_page.wait_for_selector("dialog[open]")
    seen["decline_dialog"] = a_page.locator("dialog[open]").inner_text()
    seen["reason_required"] = a_page.locator("dialog[open] textarea[name=reason]").evaluate("e => e.required")
    check_page(a_page, "transfers-school-a-decline-dialog")
    dialog_submit(a_page, args["decline_reason"])
    seen["declined"] = notice(a_page)

    goto(b_page, bid, "overview")
    goto(b_page, bid, "transfers")
    settle(b_page, lambda: b_page.select_option("#tr-state", "declined"))
    seen["declined_items_en"] = texts(b_page, ".tr-item")
    check_page(b_page, "transfers-school-b-declined-en")
    set_lang(b_page, "th")
    seen["declined_items_th"] = texts(b_page, ".tr-item")
    check_page(b_page, "transfers-school-b-declined")
    out["decline"] = seen


def lao_asks_for_its_school(p, args, out):
    page = signed_in(p, args, "lao_b")
    seen = {}
    goto(page, args["lao_b"]["unit_id"], "transfers")
    seen["receiver_options"] = texts(page, "#tr-receiver option")
    page.select_option("#tr-receiver", str(args["school_b"]["unit_id"]))
    page.fill("#tr-id", args["third"]["national_id"])
    page.select_option("#tr-grade", "p4")
    check_page(page, "transfers-lao-form")
    settle(page, lambda: page.click("form.tr-form button[type=submit]"))
    seen["sent"] = notice(page)
    seen["outgoing"] = texts(page, ".tr-item")
    check_page(page, "transfers-lao-outgoing")
    out["lao"] = seen
    page.context.close()


def run(p, args):
    out = {}
    b_page = school_b_asks(p, args, out)
    a_page = school_a_accepts(p, args, out)
    english_decline(p, b_page, a_page, args, out)
    lao_asks_for_its_school(p, args, out)
    b_page.context.close()
    a_page.context.close()
    return out
