"""The checks before confirming as the officers use them, in Thai (one page in English):
the school officer reads its error and its query on the checks page, finds the confirm
button disabled, corrects the learner's grade on the learners page, explains the query and
confirms; the LAO reads its own checks and its units' tallies, opens the school's checks
(read only, with the explanation) and revokes the school's confirmation; the school then
sees what changed since that confirmation; the province reads a tally per LAO; the
department changes a rule's share on the rounds page. Every page state is checked.

args: url, chromium, password, round_id,
      school {username, unit_id, name}, lao {username, unit_id}, province {username, unit_id},
      department {username, unit_id}, cdc {id, name},
      far {id, name} (ป.1 at 12: an error), near {id, name} (ป.1 at 8: a query),
      normal {id, first_name, name}, explanation (text), revoke_reason, new_first_name,
      race_learner (a learner body: ป.1 at 12, recorded just before confirming)
"""
from tests.browser.common import check_page, goto, notice, set_lang, settle, signed_in, texts


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


def school_fixes_explains_and_confirms(p, args, out):
    page = signed_in(p, args, "school")
    sid = args["school"]["unit_id"]
    seen = {}
    # the checks page: the error first, then the query, each in Thai with the learner
    goto(page, sid, "checks")
    seen["figures"] = page.locator(".page.checks .figures").inner_text()
    seen["statement"] = page.locator(".check-statement").inner_text()
    seen["errors"] = texts(page, ".check-item-error")
    seen["queries"] = texts(page, ".check-item-query")
    seen["order"] = page.locator(".check-item").evaluate_all("(els) => els.map((e) => e.dataset.code)")
    seen["error_boxes"] = page.locator(".check-item-error textarea").count()
    seen["query_boxes"] = page.locator(".check-item-query textarea").count()
    check_page(page, "checks-school")

    # the confirm page: the summary, and the button disabled with the reason
    goto(page, sid, "confirm")
    button = page.get_by_role("button", name="ยืนยันข้อมูล", exact=True)
    seen["confirm_disabled"] = button.is_disabled()
    seen["confirm_reason"] = page.locator(".disabled-reason").inner_text()
    seen["confirm_summary"] = page.locator(".checks-summary").inner_text()
    check_page(page, "checks-school-confirm-blocked")

    # the error corrected on the learners page: the grade of the learner aged 12 becomes ป.6
    goto(page, sid, "learners")
    page.get_by_role("button", name=f"แก้ไข {args['far']['name']}").click()
    page.wait_for_selector("form select[name=grade]")
    page.select_option("form select[name=grade]", "p6")
    settle(page, lambda: page.locator("form button[type=submit]").click())
    seen["fixed_notice"] = notice(page)

    # the query explained on the checks page (the count of characters follows the text)
    goto(page, sid, "checks")
    seen["after_fix_errors"] = page.locator(".check-item-error").count()
    area = page.locator(".check-item-query textarea").first
    area.fill(args["explanation"])
    seen["char_count"] = page.locator(".check-item-query .char-count").first.inner_text()
    seen["label"] = page.locator(".check-item-query label").first.inner_text()
    check_page(page, "checks-school-explaining")
    settle(page, lambda: page.locator(".check-item-query .explain-save").first.click())
    seen["saved_notice"] = notice(page)
    seen["saved"] = page.locator(".check-item-query .check-explanation").first.inner_text()
    seen["statement_after"] = page.locator(".check-statement").inner_text()
    check_page(page, "checks-school-explained")

    # confirmed: the button now works, after the "are you sure" step
    goto(page, sid, "confirm")
    button = page.get_by_role("button", name="ยืนยันข้อมูล", exact=True)
    seen["confirm_enabled"] = button.is_enabled()
    seen["confirm_summary_after"] = page.locator(".checks-summary").inner_text()
    check_page(page, "checks-school-confirm-ready")
    # a race: a learner aged 12 recorded in ป.1 meanwhile: the server refuses, its items in a dialog
    race = api(page, "POST", f"/rounds/{args['round_id']}/institutions/{sid}/learners", args["race_learner"])
    seen["race_added"] = race["status"]
    button.click()
    page.wait_for_selector("dialog[open]")
    page.locator("dialog[open] button[type=submit]").click()
    page.wait_for_selector("dialog.checks-failed[open]")
    seen["race_dialog"] = page.locator("dialog.checks-failed[open]").inner_text()
    check_page(page, "checks-school-race")
    settle(page, lambda: page.locator("dialog.checks-failed[open] .actions button").click())
    seen["race_disabled"] = page.get_by_role("button", name="ยืนยันข้อมูล", exact=True).is_disabled()
    seen["race_removed"] = api(page, "DELETE", f"/learners/{race['body']['id']}", {"reason": "duplicate"})["status"]
    goto(page, sid, "checks")
    goto(page, sid, "confirm")
    button = page.get_by_role("button", name="ยืนยันข้อมูล", exact=True)
    seen["confirm_enabled_again"] = button.is_enabled()
    button.click()
    page.wait_for_selector("dialog[open]")
    settle(page, lambda: page.locator("dialog[open] button[type=submit]").click())
    seen["confirmed_notice"] = notice(page)
    seen["confirmed_api"] = api(page, "GET", f"/rounds/{args['round_id']}/confirmations/{sid}")["body"]["state"]
    out["school"] = seen
    return page


def lao_reads_and_revokes(p, args, out):
    page = signed_in(p, args, "lao")
    lid = args["lao"]["unit_id"]
    sid = args["school"]["unit_id"]
    seen = {}
    # its own checks (the other-affiliation school's missing headcount) and its units' tallies
    goto(page, lid, "checks")
    seen["errors"] = texts(page, ".check-item-error")
    seen["rows"] = texts(page, ".checks-children table.data tbody tr")
    seen["names"] = texts(page, ".checks-children table.data tbody th")
    seen["statement"] = page.locator(".check-statement").inner_text()
    check_page(page, "checks-lao")
    # the school's checks, read only, with the explanation
    settle(page, lambda: page.click(f".checks-children a[href='#/u/{sid}/checks']"))
    seen["school_hash"] = page.evaluate("location.hash")
    seen["school_boxes"] = page.locator(".page.checks textarea").count()
    seen["school_buttons"] = page.locator(".page.checks .check-item button").count()
    seen["school_queries"] = texts(page, ".check-item-query")
    seen["school_statement"] = page.locator(".check-statement").inner_text()
    check_page(page, "checks-lao-reads-school")
    # the CDC's query (no learner yet), read only too
    goto(page, lid, "checks")
    settle(page, lambda: page.click(f".checks-children a[href='#/u/{args['cdc']['id']}/checks']"))
    seen["cdc_queries"] = texts(page, ".check-item-query")
    seen["cdc_boxes"] = page.locator(".page.checks textarea").count()
    check_page(page, "checks-lao-reads-cdc")
    # the LAO's own confirm section: the checks summary before its (withheld) button
    goto(page, lid, "children")
    seen["own"] = page.locator("section[aria-labelledby=own-heading]").inner_text()
    check_page(page, "checks-lao-children")
    # the school's confirmation revoked with a reason (what the school then compares with)
    page.click(f"button[aria-label='ยกเลิกการยืนยันของ {args['school']['name']}']")
    page.wait_for_selector("dialog[open]")
    page.fill("dialog[open] textarea[name=reason]", args["revoke_reason"])
    settle(page, lambda: page.click("dialog[open] button[type=submit]"))
    seen["revoked_notice"] = notice(page)
    # the same checks page in English
    set_lang(page, "en")
    goto(page, lid, "checks")
    seen["en_heading"] = page.locator(".page.checks h2").first.inner_text()
    seen["en_errors"] = texts(page, ".check-item-error")
    check_page(page, "checks-lao-en")
    out["lao"] = seen
    page.context.close()


def school_sees_the_changes(page, args, out):
    """After the revoke: a learner's first name changed; the confirm page lists it against
    the last confirmation."""
    sid = args["school"]["unit_id"]
    normal = args["normal"]
    learner = api(page, "GET", f"/learners/{normal['id']}")["body"]
    changed = api(page, "PATCH", f"/learners/{normal['id']}",
                  {"first_name": args["new_first_name"], "version": learner["version"]})
    seen = {"patch": changed["status"]}
    goto(page, sid, "checks")  # away and back: the confirm page drawn afresh
    goto(page, sid, "confirm")
    page.wait_for_selector(".seal-diff")
    seen["diff"] = page.locator(".seal-diff").inner_text()
    seen["confirm_enabled"] = page.get_by_role("button", name="ยืนยันข้อมูล", exact=True).is_enabled()
    check_page(page, "checks-school-diff")
    out["diff"] = seen
    page.context.close()


def lao_sees_the_changes(p, args, out):
    """The level above sees what changed at the school since its last confirmation, on the
    school's checks page, with the note the school confirmed with."""
    page = signed_in(p, args, "lao")
    sid = args["school"]["unit_id"]
    goto(page, sid, "checks")
    page.wait_for_selector(".seal-diff")
    out["lao_diff"] = {"diff": page.locator(".seal-diff").inner_text(),
                       "note": page.locator(".page.checks .confirm-note").all_inner_texts()}
    check_page(page, "checks-lao-reads-school-diff")
    page.context.close()


def province_reads_tallies(p, args, out):
    page = signed_in(p, args, "province")
    pid = args["province"]["unit_id"]
    seen = {}

    # units still being computed (the answer's `pending` made 2 on the way): said, with a reload
    def still_computing(route):
        response = route.fetch()
        body = response.json()
        body["pending"] = 2
        route.fulfill(response=response, json=body)

    wanted = f"/api/v1/rounds/{args['round_id']}/checks?org_unit_id={pid}"

    def pattern(url):
        return url.endswith(wanted)

    page.route(pattern, still_computing)
    goto(page, pid, "checks")
    seen["pending_shown"] = page.locator(".checks-pending").inner_text()
    check_page(page, "checks-province-pending")
    page.unroute(pattern)
    settle(page, lambda: page.click("#checks-refresh"))
    for _ in range(20):  # the real answer: computed by now, or soon after a reload or two
        if not page.locator(".checks-pending").count():
            break
        settle(page, lambda: page.click("#checks-refresh"))
    seen["pending"] = page.locator(".checks-pending").count()
    seen["rows"] = texts(page, ".checks-children table.data tbody tr")
    check_page(page, "checks-province")
    out["province"] = seen
    page.context.close()


def department_changes_a_rule(p, args, out):
    page = signed_in(p, args, "department")
    did = args["department"]["unit_id"]
    goto(page, did, "rounds")
    if page.input_value("#settings-round") != str(args["round_id"]):
        settle(page, lambda: page.select_option("#settings-round", str(args["round_id"])))
    seen = {"heading": page.locator("#rules-h").inner_text(),
            "legends": texts(page, "form.rules-form legend"),
            "labels": texts(page, "form.rules-form label"),
            "share_before": page.input_value("#r-total-changed-share")}
    check_page(page, "checks-department-rules")
    # a share that is no number: refused beside its field, in Thai, nothing sent
    page.fill("#r-total-changed-share", "สามสิบ")
    page.click("form.rules-form button[type=submit]")
    page.wait_for_selector("form.rules-form .error-summary")
    seen["bad_error"] = page.locator("[data-field='rules.total_changed.share'] .field-error").inner_text()
    check_page(page, "checks-department-rules-error")
    # 20 % -> 30 %, after the confirmation step
    page.fill("#r-total-changed-share", "30")
    page.click("form.rules-form button[type=submit]")
    page.wait_for_selector("dialog[open]")
    seen["dialog"] = page.locator("dialog[open]").inner_text()
    check_page(page, "checks-department-rules-confirm")
    settle(page, lambda: page.click("dialog[open] button[type=submit]"))
    seen["notice"] = notice(page)
    if page.input_value("#settings-round") != str(args["round_id"]):
        settle(page, lambda: page.select_option("#settings-round", str(args["round_id"])))
    seen["share_after"] = page.input_value("#r-total-changed-share")
    out["department"] = seen
    page.context.close()


def run(p, args):
    out = {}
    school_page = school_fixes_explains_and_confirms(p, args, out)
    lao_reads_and_revokes(p, args, out)
    school_sees_the_changes(school_page, args, out)
    lao_sees_the_changes(p, args, out)
    province_reads_tallies(p, args, out)
    department_changes_a_rule(p, args, out)
    return out
