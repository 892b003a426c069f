"""The self-established CDC survey as the officers use it: the LAO records a new CDC with
the survey form (a file of the wrong type and one too large refused on the form first) and
its establishing order as a PDF; the province finds it in its pending list, opens the
document and sends it back with a reason; the LAO (in English) reads the reason on the
CDC's profile page, corrects the contact's phone, attaches a second document and
resubmits; the province verifies it and downloads the printable survey form. Every step is
read back through the API; every page checked at 1280 and 390 px.

args: url, chromium, password, lao {username, unit_id}, province {username, unit_id},
      cdc {code, name}, reason, phone, new_phone
"""
from tests.browser.common import check_page, dialog_submit, goto, notice, open_portal, set_lang, settle, sign_in

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def api(page, method, path):
    """The API with the signed-in officer's token: what it says at this step."""
    return page.evaluate("""async ([method, path]) => {
        const token = JSON.parse(sessionStorage.getItem('lec.session')).token;
        const r = await fetch('/api/v1' + path, {method, headers: {Authorization: 'Bearer ' + token}});
        const text = await r.text();
        return {status: r.status, body: text ? JSON.parse(text) : null};
    }""", [method, path])


def login(p, args, who, lang=None):
    page = open_portal(p, args["url"], args["chromium"], label=who, lang=lang)
    sign_in(page, args[who]["username"], args["password"])
    return page


def field_error(page, name):
    loc = page.locator(f'.field[data-field="{name}"] .field-error')
    return loc.first.inner_text() if loc.count() and loc.first.is_visible() else None


def lao_submits(p, args, out):
    page = login(p, args, "lao")
    lid = args["lao"]["unit_id"]
    seen = {}
    goto(page, lid, "surveys")
    seen["heading"] = page.locator("#surveys-h").inner_text()
    form = page.locator("#survey-form")
    form.locator("#s-code").fill(args["cdc"]["code"])
    form.locator("#s-name").fill(args["cdc"]["name"])
    form.locator("#s-line").fill("99 หมู่ 3 ถนนห้วยแก้ว")
    form.locator("#s-province_code").fill("50")
    form.locator("#s-district_code").fill("5001")
    form.locator("#s-subdistrict_code").fill("500105")
    form.locator("#s-established_on").fill("16/05/2558")
    form.locator("#s-authorisation_ref").fill("คำสั่งที่ 12/2558")
    form.locator("#s-contact_name").fill("สมศรี ใจดี")
    form.locator("#s-phone").fill(args["phone"])
    form.locator("#s-email").fill("somsri@example.org")
    form.locator("#s-capacity").fill("60")
    form.locator("#s-count").fill("2")
    form.locator("#s-condition").select_option("fair")
    form.locator("#s-year_built").fill("2558")
    form.locator("#s-established_by").fill("องค์การบริหารส่วนตำบลทดสอบ")
    form.locator("#s-funding_source").select_option("lao_budget")
    form.locator("#s-children_expected").fill("45")
    # a text file, then a file over 5 MB: refused on the form, nothing sent
    form.locator("#s-file").set_input_files(files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"}])
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#survey-form .error-summary")
    seen["type_error"] = field_error(page, "file")
    form.locator("#s-file").set_input_files(files=[{"name": "big.pdf", "mimeType": "application/pdf",
                                                     "buffer": PDF + b"0" * (5 * 1024 * 1024)}])
    form.locator("button[type=submit]").click()
    page.wait_for_timeout(200)
    seen["size_error"] = field_error(page, "file")
    seen["none_created"] = api(page, "GET", f"/org-units/{lid}/children?q={args['cdc']['code']}")["body"]["total"]
    check_page(page, "survey-lao-form-errors")
    form.locator("#s-file").set_input_files(files=[{"name": "คำสั่งจัดตั้ง.pdf", "mimeType": "application/pdf",
                                                     "buffer": PDF}])
    settle(page, lambda: form.locator("button[type=submit]").click())
    seen["notice"] = notice(page)
    seen["rows"] = page.locator(".page-surveys table.data tbody tr").all_inner_texts()
    found = api(page, "GET", f"/org-units/{lid}/children?q={args['cdc']['code']}")["body"]["items"]
    seen["unit"] = found[0] if found else None
    if found:
        unit = api(page, "GET", f"/org-units/{found[0]['id']}")["body"]
        seen["profile"] = unit["profile"]
        seen["survey"] = unit["survey"]
        seen["documents"] = api(page, "GET", f"/org-units/{found[0]['id']}/documents")["body"]["items"]
    check_page(page, "survey-lao-submitted")
    out["lao"] = seen
    return page


def province_rejects(p, args, out, cdc_id):
    page = login(p, args, "province")
    pid = args["province"]["unit_id"]
    seen = {}
    goto(page, pid, "surveys")
    seen["count"] = page.locator(".page-surveys .count").inner_text()
    seen["rows"] = page.locator(".page-surveys table.data tbody tr").all_inner_texts()
    # the document opens (downloads) from the list
    with page.expect_download() as got:
        page.locator(".doc-link").first.click()
    seen["download"] = got.value.suggested_filename
    check_page(page, "survey-province-pending")
    page.get_by_role("button", name=f"ส่งกลับ {args['cdc']['name']}").click()
    page.wait_for_selector("dialog[open]")
    seen["dialog"] = page.locator("dialog[open]").inner_text()
    check_page(page, "survey-province-reject-dialog")
    dialog_submit(page, args["reason"])
    seen["notice"] = notice(page)
    seen["api"] = api(page, "GET", f"/org-units/{cdc_id}")["body"]
    # the units page's status filter finds it at any depth
    goto(page, pid, "units")
    page.select_option("#units-status", "rejected")
    page.wait_for_function("name => (document.querySelector('.page-units .list-box') || {}).innerText"
                           "?.includes(name)", arg=args["cdc"]["name"])
    seen["units_rejected"] = page.locator(".page-units .list-box table tbody tr").all_inner_texts()
    out["province_reject"] = seen
    return page


def lao_corrects_and_resubmits(p, args, out, cdc_id):
    page = login(p, args, "lao", lang="en")
    seen = {}
    goto(page, cdc_id, "profile")
    seen["reason"] = page.locator(".rejection-reason").first.inner_text()
    seen["heading"] = page.locator("#profile-h").inner_text()
    check_page(page, "survey-lao-rejected-en")
    page.locator("#p-phone").fill("12345")
    page.locator("#profile-form button[type=submit]").click()
    page.wait_for_selector("#profile-form .error-summary")
    seen["phone_error"] = field_error(page, "contact.phone")
    check_page(page, "survey-lao-profile-error-en")
    page.locator("#p-phone").fill(args["new_phone"])
    settle(page, lambda: page.locator("#profile-form button[type=submit]").click())
    seen["saved"] = notice(page)
    page.locator("#doc-file").set_input_files(files=[{"name": "photo.png", "mimeType": "image/png",
                                                      "buffer": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64}])
    page.select_option("#doc-kind", "other")
    settle(page, lambda: page.locator(".doc-add button[type=submit]").click())
    seen["attached"] = notice(page)
    # a "PDF" that is not one: the server's refusal, in English
    page.locator("#doc-file").set_input_files(files=[{"name": "fake.pdf", "mimeType": "application/pdf",
                                                      "buffer": b"<html>no</html>"}])
    page.locator(".doc-add button[type=submit]").click()
    page.wait_for_selector(".doc-add .error-summary")
    seen["invalid_document"] = field_error(page, "file")
    seen["docs"] = page.locator("#docs-h + .table-wrap tbody tr, #docs-h ~ .table-wrap tbody tr").all_inner_texts()
    check_page(page, "survey-lao-corrected-en")
    settle(page, lambda: page.locator("#resubmit").click())
    seen["resubmitted"] = notice(page)
    seen["api"] = api(page, "GET", f"/org-units/{cdc_id}")["body"]
    seen["api_docs"] = api(page, "GET", f"/org-units/{cdc_id}/documents")["body"]["items"]
    check_page(page, "survey-lao-resubmitted-en")
    out["lao_resubmit"] = seen


def province_verifies(page, args, out, cdc_id):
    pid = args["province"]["unit_id"]
    seen = {}
    goto(page, pid, "surveys")
    seen["rows"] = page.locator(".page-surveys table.data tbody tr").all_inner_texts()
    page.get_by_role("button", name=f"รับรอง {args['cdc']['name']}").click()
    page.wait_for_selector("dialog[open]")
    settle(page, lambda: page.click("dialog[open] button[type=submit]"))
    seen["notice"] = notice(page)
    seen["api"] = api(page, "GET", f"/org-units/{cdc_id}")["body"]
    with page.expect_download() as got:
        page.locator("[data-print=html]").click()
    seen["print_name"] = got.value.suggested_filename
    seen["print"] = open(got.value.path(), encoding="utf-8").read()
    check_page(page, "survey-province-verified")
    # the verified CDC's profile page, as the province reads it (Thai, BE dates)
    goto(page, cdc_id, "profile")
    seen["profile_date"] = page.input_value("#p-established_on")
    seen["profile_year"] = page.input_value("#p-year_built")
    seen["profile_docs"] = page.locator(".page-profile table.data tbody tr").count()
    check_page(page, "survey-province-profile")
    set_lang(page, "en")
    goto(page, pid, "surveys")
    seen["en_heading"] = page.locator("#surveys-h").inner_text()
    check_page(page, "survey-province-en")
    out["province_verify"] = seen


def run(p, args):
    out = {}
    lao_submits(p, args, out)
    unit = out["lao"].get("unit")
    assert unit, out["lao"]
    province_page = province_rejects(p, args, out, unit["id"])
    lao_corrects_and_resubmits(p, args, out, unit["id"])
    province_verifies(province_page, args, out, unit["id"])
    return out
