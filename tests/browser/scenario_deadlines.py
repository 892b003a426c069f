"""Deadlines per level as the department sets them, in Thai then English: the rounds page
shows each level's deadline; the department opens a round's deadline dialog, types a
province day before the LAOs' (refused, in words), then the LAO, province and department
days in the Buddhist era; on the extensions page of a province it gives one LAO a later
deadline for the LAO level only. The LAO's officer then sees that deadline in the shell.
Every page state is checked at 1280 and 390 px.

args: url, chromium, password, round_id, round_name, round_year, round_number,
      department {username, unit_id}, province {unit_id}, lao {username, unit_id},
      bad {province} (dd/mm/25xx), days {lao, province, department} (dd/mm/25xx),
      extension_date (dd/mm/25xx)
"""
from tests.browser.common import check_page, dialog_submit, goto, notice, set_lang, settle, signed_in, texts


def round_row(page, name):
    rows = [r for r in texts(page, ".page-rounds table.data tbody tr") if name in r]
    return rows[0] if rows else None


def open_deadlines(page, args):
    page.click(f"button[aria-label='เปลี่ยนกำหนดส่งของ{args['round_name']}']")
    page.wait_for_selector("dialog[open] input[name=lao_on]")


def department_sets_deadlines(p, args, out):
    page = signed_in(p, args, "department")
    did, pid = args["department"]["unit_id"], args["province"]["unit_id"]
    seen = {}
    goto(page, did, "rounds")
    seen["row_before"] = round_row(page, args["round_name"])
    check_page(page, "deadlines-rounds")

    # a province day before the LAOs': refused, in words, nothing changed
    open_deadlines(page, args)
    seen["labels"] = texts(page, "dialog[open] label")
    seen["prefilled"] = {name: page.input_value(f"dialog[open] input[name={name}]")
                         for name in ("closes_on", "lao_on", "province_on", "department_on")}
    check_page(page, "deadlines-dialog")
    page.fill("dialog[open] input[name=lao_on]", args["days"]["lao"])
    page.fill("dialog[open] input[name=province_on]", args["bad"]["province"])
    dialog_submit(page)
    seen["bad_notice"] = notice(page)
    check_page(page, "deadlines-refused")

    # the LAO, province and department days
    open_deadlines(page, args)
    for level in ("lao", "province", "department"):
        page.fill(f"dialog[open] input[name={level}_on]", args["days"][level])
    dialog_submit(page)
    seen["notice"] = notice(page)
    seen["row"] = round_row(page, args["round_name"])
    seen["levels"] = texts(page, ".page-rounds table.data tbody tr:has-text('%s') .level-deadlines li"
                           % args["round_name"])
    check_page(page, "deadlines-rounds-set")

    # an extension for one LAO, at the LAO level only
    goto(page, pid, "extensions")
    seen["level_options"] = texts(page, "#ext-level option")
    page.select_option("#f-org_unit_id", str(args["lao"]["unit_id"]))
    page.select_option("#ext-level", "lao")
    page.fill("#ext-date", args["extension_date"])
    settle(page, lambda: page.click("form[aria-labelledby=ext-add-h] button[type=submit]"))
    seen["ext_notice"] = notice(page)
    seen["ext_rows"] = texts(page, ".page-extensions table.data tbody tr")
    seen["ext_deadlines"] = page.locator(".page-extensions p.level-deadlines").inner_text()
    check_page(page, "deadlines-extensions")

    # the same in English
    set_lang(page, "en")
    seen["en_ext_rows"] = texts(page, ".page-extensions table.data tbody tr")
    seen["en_level_options"] = texts(page, "#ext-level option")
    check_page(page, "deadlines-extensions-en")
    goto(page, did, "rounds")
    en_name = f"Academic year {args['round_year']}, round {args['round_number']}"
    seen["en_levels"] = texts(page, f".page-rounds table.data tbody tr:has-text('{en_name}') .level-deadlines li")
    check_page(page, "deadlines-rounds-en")
    open_deadlines_en(page, args)
    seen["en_labels"] = texts(page, "dialog[open] label")
    check_page(page, "deadlines-dialog-en")
    page.click("dialog[open] button.secondary")
    out["department"] = seen
    page.context.close()


def open_deadlines_en(page, args):
    year, number = args["round_year"], args["round_number"]
    page.click(f"button[aria-label='Change the deadline of Academic year {year}, round {number}']")
    page.wait_for_selector("dialog[open] input[name=lao_on]")


def lao_sees_its_deadline(p, args, out):
    page = signed_in(p, args, "lao")
    seen = {"deadline": page.locator("#window-info .deadline").inner_text(),
            "tags": texts(page, "#window-info .tag")}
    check_page(page, "deadlines-lao-shell")
    set_lang(page, "en")
    seen["deadline_en"] = page.locator("#window-info .deadline").inner_text()
    check_page(page, "deadlines-lao-shell-en")
    out["lao"] = seen
    page.context.close()


def run(p, args):
    out = {}
    department_sets_deadlines(p, args, out)
    lao_sees_its_deadline(p, args, out)
    return out
