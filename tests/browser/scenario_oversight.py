"""The LAO, province and department officers' pages as those officers use them, in Thai:
the approval screen (children by name, revoke with a reason, the "not yet" filter),
headcounts of the other-affiliation schools, accounts (create, reset), units (add a
school; the province verifies it), deadline extensions, the audit log, reports, and
rounds (the department creates one with Buddhist-era dates). Every page is checked.

args: url, chromium, password, round_id (round 2; round 1 of the year has a headcount),
      lao, lao_b, province, department: {username, unit_id},
      school {id, name} (confirmed through the API before), cdc {id, name},
      other_school {id, name}, new_account {username, password}, new_school {code, name},
      extension {unit_id, date (dd/mm/25xx)}, new_round {academic_year, census, opens, closes},
      school_b {id, name} (LAO b's school, confirmed), pending_cdc {id, name} (recorded by LAO a,
      not verified yet)
Also: the account disabled is enabled again, LAO b (confirmed) is shown why it cannot revoke
its school, the department changes a round's settings and verifies the pending CDC, and the
province reads the settings.
"""
from tests.browser.common import check_page, dialog_submit, goto, notice, set_lang, settle, signed_in, texts


def lao(p, args, out):
    page = signed_in(p, args, "lao")
    lid = args["lao"]["unit_id"]
    school = args["school"]

    # the approval screen: children by name, the school confirmed, the CDC not yet
    goto(page, lid, "children")
    seen = {"names": texts(page, ".page-children table.data tbody th"),
            "rows": texts(page, ".page-children table.data tbody tr"),
            "own": page.locator("#own-heading").inner_text()}
    # the checks column: each child's explained/queries (and errors), linking to its checks
    tallies = page.locator(".page-children table.data tbody tr")
    seen["checks"] = {tallies.nth(n).locator("th").inner_text().strip():
                      {"text": tallies.nth(n).locator("td[data-label='ข้อสังเกตที่ชี้แจงแล้ว']").inner_text().strip(),
                       "href": tallies.nth(n).locator("a.check-tally").first.get_attribute("href")
                       if tallies.nth(n).locator("a.check-tally").count() else None}
                      for n in range(tallies.count())}
    check_page(page, "oversight-lao-children")
    page.click("#children-filter-pending")
    seen["not_yet"] = texts(page, ".page-children table.data tbody th")
    page.click("#children-filter-all")
    # revoke the school's confirmation from the list, with a reason
    page.click(f"button[aria-label='ยกเลิกการยืนยันของ {school['name']}']")
    page.wait_for_selector("dialog[open]")
    seen["dialog"] = page.locator("dialog[open]").inner_text()
    check_page(page, "oversight-lao-revoke-dialog")
    dialog_submit(page, args["revoke_reason"])
    seen["after_notice"] = notice(page)
    seen["after_rows"] = texts(page, ".page-children table.data tbody tr")
    out["children"] = seen

    # headcounts: one form per other-affiliation school, Thai grade names, the total
    goto(page, lid, "headcounts")
    form = page.locator("form.headcount-form", has_text=args["other_school"]["name"])
    hc = {"labels": form.locator("label").all_inner_texts(), "legends": form.locator("legend").all_inner_texts(),
          "previous": form.locator(".previous").inner_text()}
    check_page(page, "oversight-lao-headcounts")
    # "unchanged since last round": last round's counts filled in, then the new ones typed
    form.locator("button", has_text="ใช้จำนวนเท่ารอบก่อน").click()
    hc["after_use_previous"] = form.locator(".compare").inner_text()
    hc["p1_after_use_previous"] = form.locator("input[name=p1]").input_value()
    for grade, n in args["headcount"].items():
        form.locator(f"input[name={grade}]").fill(str(n))
    hc["total_shown"] = form.locator(".total").inner_text()
    settle(page, lambda: form.locator("button[type=submit]").click())
    hc["notice"] = notice(page)
    hc["total_after"] = page.locator("form.headcount-form", has_text=args["other_school"]["name"]).locator(".total").inner_text()
    out["headcounts"] = hc

    # accounts: create one for the school, then reset its password
    goto(page, lid, "accounts")
    settle(page, lambda: page.select_option("#accounts-unit", str(school["id"])))
    account = args["new_account"]
    page.fill("#f-username", account["username"])
    page.fill("#f-password", "1234")
    acc = {"weak": page.locator("#accounts-strength").inner_text()}
    page.fill("#f-password", account["password"])
    acc["strong"] = page.locator("#accounts-strength").inner_text()
    settle(page, lambda: page.click("form[aria-labelledby=account-create-h] button[type=submit]"))
    acc["created_notice"] = notice(page)
    acc["listed"] = texts(page, ".page-accounts table.data tbody th")
    check_page(page, "oversight-lao-accounts")
    page.click(f"button[aria-label='ตั้งรหัสผ่านใหม่ให้ {account['username']}']")
    dialog_submit(page)
    acc["reset_password"] = page.locator(".password-value").inner_text()
    acc["reset_notice"] = notice(page)
    check_page(page, "oversight-lao-accounts-reset")
    # then disable it
    page.click(f"button[aria-label='ระงับใช้งานบัญชี {account['username']}']")
    dialog_submit(page)
    acc["disabled_notice"] = notice(page)
    acc["disabled_row"] = page.locator(".page-accounts table.data tbody tr", has_text=account["username"]).inner_text()
    out["accounts"] = acc

    # units: add a school below the LAO (it starts pending)
    goto(page, lid, "units")
    check_page(page, "oversight-lao-units")
    new = args["new_school"]
    page.select_option("#f-type", "school")
    page.fill("#f-code", new["code"])
    page.fill("#f-name", new["name"])
    settle(page, lambda: page.click("form[aria-labelledby=unit-add-h] button[type=submit]"))
    out["units"] = {"notice": notice(page), "rows": texts(page, ".page-units table.data tbody tr")}
    # close the CDC, with a date and a confirmation step
    page.click(f"button[aria-label='ปิด {args['cdc']['name']}']")
    page.wait_for_selector("dialog[open]")
    page.fill("dialog[open] input[name=closed_on]", args["close_date"])
    check_page(page, "oversight-lao-close-dialog")
    dialog_submit(page)
    out["units"]["closed_notice"] = notice(page)

    # the LAO's reports and audit log are readable too
    goto(page, lid, "reports")
    out["lao_report"] = page.locator(".page-reports .big-number").first.inner_text()
    check_page(page, "oversight-lao-reports")
    goto(page, lid, "audit")
    out["lao_audit"] = texts(page, ".page-audit table.data tbody tr")
    check_page(page, "oversight-lao-audit")
    page.context.close()


def lao_confirms(p, args, out):
    """LAO b (its school confirmed) confirms its own unit after the summary step."""
    page = signed_in(p, args, "lao_b")
    # the read model has taken in the school's confirmation (what the money is compared with)
    for _ in range(120):
        if page.evaluate("""async ([rid, uid]) => {
              const token = JSON.parse(sessionStorage.getItem('lec.session')).token;
              const r = await fetch(`/api/v1/rounds/${rid}/reports/budget?org_unit_id=${uid}&preview=true&limit=1`,
                {headers: {'Authorization': 'Bearer ' + token}});
              const lines = (await r.json()).preview.lines.filter((l) => l.unit.type !== 'other_school');
              return lines.length > 0 && lines.every((l) => l.last_confirmed !== null);
            }""", [args["round_id"], args["lao_b"]["unit_id"]]):
            break
        page.wait_for_timeout(250)
    goto(page, args["lao_b"]["unit_id"], "children")
    # the money at stake for the whole LAO, worked out before the summary is read
    page.wait_for_selector("section[aria-labelledby=own-heading] .money[data-ready]")
    seen = {"summary": page.locator("section[aria-labelledby=own-heading]").inner_text()}
    seen["money_total"] = page.locator("section[aria-labelledby=own-heading] .money .money-total").inner_text()
    page.locator("section[aria-labelledby=own-heading] button").click()
    page.wait_for_selector("dialog[open] .money[data-ready]")
    seen["dialog"] = page.locator("dialog[open]").inner_text()
    seen["dialog_money_total"] = page.locator("dialog[open] .money .money-total").inner_text()
    check_page(page, "oversight-lao-confirm-dialog")
    dialog_submit(page)
    seen["notice"] = notice(page)
    seen["after"] = page.locator("section[aria-labelledby=own-heading]").inner_text()
    out["lao_confirm"] = seen
    page.context.close()


def api_get(page, path):
    """``GET /api/v1<path>`` with the signed-in officer's token: what the API says at this step."""
    return page.evaluate("""async (path) => {
        const token = JSON.parse(sessionStorage.getItem('lec.session')).token;
        const r = await fetch('/api/v1' + path, {headers: {Authorization: 'Bearer ' + token}});
        return {status: r.status, body: await r.json()};
    }""", path)


def sign_in_status(page, args, username, password):
    """The API's answer to a sign-in with these credentials (its status code)."""
    return page.request.post(args["url"].rstrip("/") + "/api/v1/auth/token",
                             data={"username": username, "password": password}).status


def lao_enables(p, args, out):
    """LAO a enables again the account it disabled: while disabled the reset password is
    refused, once enabled it signs in (the test asks the API)."""
    page = signed_in(p, args, "lao")
    account = args["new_account"]
    seen = {"refused_while_disabled": sign_in_status(page, args, account["username"],
                                                     out["accounts"]["reset_password"])}
    goto(page, args["lao"]["unit_id"], "accounts")
    settle(page, lambda: page.select_option("#accounts-unit", str(args["school"]["id"])))
    settle(page, lambda: page.click(f"button[aria-label='เปิดใช้งานบัญชี {account['username']}']"))
    seen["notice"] = notice(page)
    row = page.locator(".page-accounts table.data tbody tr", has_text=account["username"])
    seen["row"], seen["badge"] = row.inner_text(), row.locator(".badge").inner_text()
    seen["disable_offered"] = page.locator(f"button[aria-label='ระงับใช้งานบัญชี {account['username']}']").count()
    check_page(page, "oversight-lao-accounts-enabled")
    out["enable"] = seen
    page.context.close()


def lao_b_parent_confirmed(p, args, out):
    """LAO b, its own unit confirmed, cannot revoke its school: the reason stands where the
    revoke button would be."""
    page = signed_in(p, args, "lao_b")
    goto(page, args["lao_b"]["unit_id"], "children")
    row = page.locator(".page-children table.data tbody tr", has_text=args["school_b"]["name"])
    out["parent_confirmed"] = {
        "row": row.inner_text(),
        "revoke_buttons": row.locator("button").count(),
        "any_revoke": page.locator(f"button[aria-label='ยกเลิกการยืนยันของ {args['school_b']['name']}']").count(),
        "own": page.locator("section[aria-labelledby=own-heading]").inner_text(),
    }
    check_page(page, "oversight-lao-parent-confirmed")
    page.context.close()


def province(p, args, out):
    page = signed_in(p, args, "province")
    pid, lid = args["province"]["unit_id"], args["lao"]["unit_id"]
    new = args["new_school"]

    # verify the school the LAO added, from the LAO's list of units
    goto(page, lid, "units")
    page.click(f"button[aria-label='รับรอง {new['name']}']")
    page.wait_for_selector("dialog[open]")
    check_page(page, "oversight-province-verify-dialog")
    dialog_submit(page)
    out["verify"] = {"notice": notice(page), "rows": texts(page, ".page-units table.data tbody tr")}
    check_page(page, "oversight-province-units")

    # the approval screen of the province: its LAOs by name
    goto(page, pid, "children")
    out["province_children"] = texts(page, ".page-children table.data tbody th")
    check_page(page, "oversight-province-children")

    # a deadline extension for one LAO
    goto(page, pid, "extensions")
    ext = args["extension"]
    page.select_option("#f-org_unit_id", str(ext["unit_id"]))
    page.fill("#ext-date", ext["date"])
    settle(page, lambda: page.click("form[aria-labelledby=ext-add-h] button[type=submit]"))
    out["extension"] = {"notice": notice(page), "rows": texts(page, ".page-extensions table.data tbody tr")}
    check_page(page, "oversight-province-extensions")

    # the audit log of the province
    goto(page, pid, "audit")
    out["audit"] = texts(page, ".page-audit table.data tbody tr")
    check_page(page, "oversight-province-audit")

    # reports: summary, progress, budget, comparison, the forms
    goto(page, pid, "reports")
    reports = {}
    for kind in ("summary", "progress", "budget", "comparison", "forms"):
        link = page.locator(".subnav a", has_text={"summary": "สรุปจำนวนผู้เรียน", "progress": "ความก้าวหน้าการยืนยัน",
                                                   "budget": "งบประมาณ", "comparison": "เปรียบเทียบ",
                                                   "forms": "แบบรายงาน"}[kind])
        settle(page, lambda: link.click())
        reports[kind] = page.locator("#report-h").inner_text()
        check_page(page, f"oversight-province-report-{kind}")
    with page.expect_download() as info:
        page.locator(".downloads button").first.click()
    reports["download"] = info.value.suggested_filename
    out["reports"] = reports

    # the round's settings, read only: no form, no save
    goto(page, pid, "rounds")
    out["province_settings"] = {"text": page.locator("section.settings").inner_text(),
                                "forms": page.locator("section.settings form").count(),
                                "tiers": texts(page, "section.settings table.data tbody tr")}
    check_page(page, "oversight-province-round-settings")
    page.context.close()


def department(p, args, out):
    page = signed_in(p, args, "department")
    did = args["department"]["unit_id"]
    goto(page, did, "rounds")
    r = args["new_round"]
    page.fill("#f-academic_year", str(r["academic_year"]))
    page.select_option("#f-number", str(r["number"]))
    page.fill("#round-census", r["census"])
    page.fill("#round-opens", r["opens"])
    page.fill("#round-closes", r["closes"])
    settle(page, lambda: page.click("form[aria-labelledby=round-create-h] button[type=submit]"))
    out["round"] = {"notice": notice(page), "rows": texts(page, ".page-rounds table.data tbody tr"),
                    "options": texts(page, "#round-select option")}
    check_page(page, "oversight-department-rounds")
    # move its deadline
    page.click(f"button[aria-label='เปลี่ยนกำหนดส่งของปีการศึกษา {r['academic_year']} รอบที่ {r['number']}']")
    page.wait_for_selector("dialog[open]")
    page.fill("dialog[open] input[name=closes_on]", r["new_closes"])
    check_page(page, "oversight-department-deadline-dialog")
    dialog_submit(page)
    out["round"]["deadline_notice"] = notice(page)
    round_settings(page, args, out)
    department_verifies(page, args, out)
    goto(page, did, "units")
    check_page(page, "oversight-department-units")
    goto(page, did, "children")
    check_page(page, "oversight-department-children")
    # the same pages in English
    set_lang(page, "en")
    out["round_en"] = texts(page, ".page-children h2")
    check_page(page, "oversight-department-children-en")
    goto(page, did, "rounds")
    check_page(page, "oversight-department-rounds-en")
    page.context.close()


def round_settings(page, args, out):
    """The department changes the new round's settings: a tier's upper bound below its start
    is refused beside that field and saves nothing; a tier added and removed again changes
    nothing; then a lunch tier's rate and the CDC milk price are saved after the confirmation
    step."""
    r = args["new_round"]
    label = f"ปีการศึกษา {r['academic_year']} รอบที่ {r['number']}"
    settle(page, lambda: page.select_option("#settings-round", label=label))
    round_id = int(page.input_value("#settings-round"))
    seen = {"round_id": round_id, "before": api_get(page, f"/rounds/{round_id}")["body"],
            "heading": page.locator("#settings-h").inner_text(),
            "labels": texts(page, "form.settings-form label"),
            "legends": texts(page, "form.settings-form legend")}
    check_page(page, "oversight-department-settings")
    tier2_max, tier2_rate = "#s-lunch-school-tiers-1-max_pupils", "#s-lunch-school-tiers-1-rate"
    tier3_min = "#s-lunch-school-tiers-2-min_pupils"

    # a bad entry: tier 2 ends (30) before it starts (41)
    page.fill(tier2_max, "30")
    page.click("form.settings-form button[type=submit]")
    page.wait_for_selector("dialog[open]")
    seen["bad_dialog"] = page.locator("dialog[open]").inner_text()
    page.click("dialog[open] button[type=submit]")
    page.wait_for_selector("form.settings-form .error-summary")
    seen["bad_error"] = page.locator("[data-field='settings.lunch.school.tiers.1.max_pupils'] .field-error").inner_text()
    seen["bad_summary"] = page.locator("form.settings-form .error-summary").inner_text()
    seen["bad_invalid"] = page.get_attribute(tier2_max, "aria-invalid")
    check_page(page, "oversight-department-settings-error")
    seen["after_bad"] = api_get(page, f"/rounds/{round_id}")["body"]

    # a tier added (the one before it gets an upper bound) and removed again
    page.click("#tier-add")
    seen["tiers_added"] = page.locator("form.settings-form fieldset.tier").count()
    page.click("button[aria-label='ลบขั้นที่ 5']")
    seen["tiers_removed"] = page.locator("form.settings-form fieldset.tier").count()
    seen["last_open"] = page.locator("form.settings-form fieldset.tier").last.inner_text()

    # the good change: tier 2 back to 100 (tier 3 then starts at 101 by itself), its rate
    # 28.50, the CDC milk price 7.82
    page.fill(tier2_max, "100")
    page.fill(tier2_rate, "28.50")
    seen["tier3_min"] = page.input_value(tier3_min)
    page.fill("#s-milk-cdc-price_per_pack", "7.82")
    page.click("form.settings-form button[type=submit]")
    page.wait_for_selector("dialog[open]")
    seen["dialog"] = page.locator("dialog[open]").inner_text()
    check_page(page, "oversight-department-settings-confirm")
    dialog_submit(page)
    seen["notice"] = notice(page)
    seen["after_rate"] = page.input_value(tier2_rate)
    out["settings"] = seen


def department_verifies(page, args, out):
    """The department verifies the CDC that LAO a recorded (pending) from LAO a's units."""
    cdc = args["pending_cdc"]
    goto(page, args["lao"]["unit_id"], "units")
    page.click(f"button[aria-label='รับรอง {cdc['name']}']")
    page.wait_for_selector("dialog[open]")
    seen = {"dialog": page.locator("dialog[open]").inner_text()}
    dialog_submit(page)
    seen["notice"] = notice(page)
    seen["row"] = page.locator(".page-units table.data tbody tr", has_text=cdc["name"]).inner_text()
    check_page(page, "oversight-department-verified")
    out["department_verify"] = seen


def run(p, args):
    out = {}
    lao(p, args, out)
    lao_enables(p, args, out)
    lao_confirms(p, args, out)
    lao_b_parent_confirmed(p, args, out)
    province(p, args, out)
    department(p, args, out)
    return out
