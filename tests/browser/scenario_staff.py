"""A CDC's caregivers and teachers as its officer records them, in Thai (then in English):
an ID with a wrong check digit refused beside its field, two caregivers recorded, a file
imported (one row refused, shown with its reason), the counts by position, one person removed
with a reason; the LAO reads the CDC's staff. Every page state is checked at 1280 and 390 px.

args: url, chromium, password, round_id, cdc {username, unit_id}, lao {username},
      people [{national_id, prefix, first_name, last_name, start}] (two caregivers),
      bad_id, csv (the file's text), remove_name (the full name of the one to remove)
"""
from tests.browser.common import check_page, goto, notice, set_lang, settle, signed_in, texts


def fill(page, person, position="caregiver", employment="mission_employee"):
    form = "form.staff-form"
    page.fill(f"{form} input[name=national_id]", person["national_id"])
    page.fill(f"{form} input[name=prefix]", person["prefix"])
    page.fill(f"{form} input[name=first_name]", person["first_name"])
    page.fill(f"{form} input[name=last_name]", person["last_name"])
    page.select_option(f"{form} select[name=position]", position)
    page.select_option(f"{form} select[name=employment_type]", employment)
    page.select_option(f"{form} select[name=qualification]", "bachelor_ece")
    page.fill(f"{form} input[name=start_date]", person["start"])


def cdc_records_imports_and_removes(p, args, out):
    page = signed_in(p, args, "cdc")
    cid = args["cdc"]["unit_id"]
    seen = {}
    goto(page, cid, "staff")
    seen["empty"] = page.locator(".page-staff").inner_text()
    check_page(page, "staff-cdc-empty")

    # a national ID whose check digit is wrong: refused beside the field
    settle(page, lambda: page.get_by_role("button", name="เพิ่มบุคลากร", exact=True).click())
    fill(page, dict(args["people"][0], national_id=args["bad_id"]))
    page.click("form.staff-form button[type=submit]")
    page.wait_for_selector("form.staff-form .error-summary")
    seen["bad_id_error"] = page.locator("[data-field='national_id'] .field-error").inner_text()
    check_page(page, "staff-cdc-bad-id")

    # two caregivers (the first corrects its ID)
    page.fill("form.staff-form input[name=national_id]", args["people"][0]["national_id"])
    settle(page, lambda: page.click("form.staff-form button[type=submit]"))
    seen["added"] = [notice(page)]
    settle(page, lambda: page.get_by_role("button", name="เพิ่มบุคลากร", exact=True).click())
    fill(page, args["people"][1], position="caregiver_teacher", employment="civil_servant")
    check_page(page, "staff-cdc-form")
    settle(page, lambda: page.click("form.staff-form button[type=submit]"))
    seen["added"].append(notice(page))

    # a file: one good row, one refused
    page.set_input_files("form.staff-import input[type=file]", files=[{
        "name": "staff.csv", "mimeType": "text/csv", "buffer": args["csv"].encode("utf-8")}])
    settle(page, lambda: page.click("form.staff-import button[type=submit]"))
    seen["import_result"] = page.locator(".import-result").inner_text()
    seen["rejected_rows"] = texts(page, ".import-result table.data tbody tr")
    check_page(page, "staff-cdc-imported")
    seen["figures"] = page.locator(".staff-counts").inner_text()
    seen["names"] = texts(page, ".staff-list table.data tbody th")

    # one removed with a reason
    page.click(f"button[aria-label='นำ {args['remove_name']} ออก']")
    page.wait_for_selector("dialog[open]")
    page.select_option("dialog[open] select[name=reason]", "left")
    check_page(page, "staff-cdc-remove")
    settle(page, lambda: page.click("dialog[open] button[type=submit]"))
    seen["removed"] = notice(page)
    seen["figures_after"] = page.locator(".staff-counts").inner_text()
    check_page(page, "staff-cdc-after")

    # the same page in English
    set_lang(page, "en")
    goto(page, cid, "staff")
    seen["en_heading"] = page.locator(".page-staff h2").first.inner_text()
    seen["en_figures"] = page.locator(".staff-counts").inner_text()
    seen["en_positions"] = texts(page, ".staff-list table.data tbody td[data-label='Position']")
    check_page(page, "staff-cdc-en")
    out["cdc"] = seen
    page.context.close()


def lao_reads(p, args, out):
    page = signed_in(p, args, "lao")
    goto(page, args["cdc"]["unit_id"], "staff")
    out["lao"] = {"names": texts(page, ".staff-list table.data tbody th"),
                  "figures": page.locator(".staff-counts").inner_text()}
    check_page(page, "staff-lao-reads-cdc")
    page.context.close()


def run(p, args):
    out = {}
    cdc_records_imports_and_removes(p, args, out)
    lao_reads(p, args, out)
    return out
