"""The LAO, province and department officers' pages as those officers use them, in Thai:
the approval screen (children by name, revoke with a reason, the "not yet" filter),
headcounts of the other-affiliation schools, accounts (create, reset), units (add a
school; the province verifies it), deadline extensions, the audit log, reports, and
rounds (the department creates one with Buddhist-era dates). Every page is checked.

args: url, chromium, password, round_id (round 2; round 1 of the year has a headcount),
      lao, lao_b, province, department: {username, unit_id},
      school {id, name} (confirmed through the API before), cdc {id, name},
      other_school {id, name}, new_account {username, password}, new_school {code, name},
      extension {unit_id, date (dd/mm/25xx)}, new_round {academic_year, census, opens, closes}
"""
from tests.browser.common import check_page, goto, open_portal, set_lang, settle, sign_in


def texts(page, selector):
    return page.locator(selector).all_inner_texts()


def dialog_submit(page, reason=None):
    page.wait_for_selector("dialog[open]")
    if reason is not None:
        page.fill("dialog[open] textarea[name=reason]", reason)
    settle(page, lambda: page.click("dialog[open] button[type=submit]"))


def notice(page):
    loc = page.locator("#notice .notice")
    return loc.first.inner_text() if loc.count() else None


def signed_in(p, args, who):
    """A fresh browser signed in as ``args[who]`` with the scenario's round chosen."""
    page = open_portal(p, args["url"], args["chromium"], label=who)
    sign_in(page, args[who]["username"], args["password"])
    if page.input_value("#round-select") != str(args["round_id"]):
        settle(page, lambda: page.select_option("#round-select", str(args["round_id"])))
    return page


def lao(p, args, out):
    page = signed_in(p, args, "lao")
    lid = args["lao"]["unit_id"]
    school = args["school"]

    # the approval screen: children by name, the school confirmed, the CDC not yet
    goto(page, lid, "children")
    seen = {"names": texts(page, ".page-children table.data tbody th"),
            "rows": texts(page, ".page-children table.data tbody tr"),
            "own": page.locator("#own-heading").inner_text()}
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
    goto(page, args["lao_b"]["unit_id"], "children")
    seen = {"summary": page.locator("section[aria-labelledby=own-heading]").inner_text()}
    page.locator("section[aria-labelledby=own-heading] button").click()
    page.wait_for_selector("dialog[open]")
    seen["dialog"] = page.locator("dialog[open]").inner_text()
    check_page(page, "oversight-lao-confirm-dialog")
    dialog_submit(page)
    seen["notice"] = notice(page)
    seen["after"] = page.locator("section[aria-labelledby=own-heading]").inner_text()
    out["lao_confirm"] = seen
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


def run(p, args):
    out = {}
    lao(p, args, out)
    lao_confirms(p, args, out)
    province(p, args, out)
    department(p, args, out)
    return out
