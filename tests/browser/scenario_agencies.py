"""Agencies that pull, as the department officer manages them: the agencies page in Thai,
an agency created (its secret shown once, in a dialog with a copy button and a warning,
gone from the page once closed), its secret rotated (the new one shown once), then, in
English, disabled. After each step the agency's credentials are tried through the API
(POST /auth/token with client credentials) from the page.

args: url, chromium, password, round_id, department {username, unit_id}, agency_name, description
"""
from tests.browser.common import check_page, goto, notice, set_lang, settle, signed_in


def token_status(page, client_id, secret):
    return page.evaluate("""async ([id, secret]) => {
        const r = await fetch('/api/v1/auth/token', {method: 'POST', headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({grant_type: 'client_credentials', client_id: id, client_secret: secret})});
        return r.status;
    }""", [client_id, secret])


def agencies(page):
    return page.evaluate("""async () => {
        const token = JSON.parse(sessionStorage.getItem('lec.session')).token;
        const r = await fetch('/api/v1/agencies?limit=1000', {headers: {Authorization: 'Bearer ' + token}});
        return (await r.json()).items;
    }""")


def read_secret_dialog(page, seen, prefix):
    page.wait_for_selector("dialog.agency-secret-dialog[open]")
    seen[f"{prefix}_title"] = page.locator("dialog[open] h2").inner_text()
    seen[f"{prefix}_warning"] = page.locator("dialog[open] .notice").inner_text()
    seen[f"{prefix}_client_id"] = page.input_value("#agency-client-id")
    seen[f"{prefix}_secret"] = page.input_value("#agency-secret")
    page.click("#agency-copy")
    page.wait_for_function("document.querySelector('dialog[open] .copy-status').textContent.length > 0")
    seen[f"{prefix}_copy_status"] = page.locator("dialog[open] .copy-status").inner_text()
    check_page(page, f"agencies-{prefix}-secret")
    settle(page, lambda: page.click("#agency-secret-done"))
    seen[f"{prefix}_notice"] = notice(page)
    seen[f"{prefix}_gone"] = seen[f"{prefix}_secret"] not in page.content()


def run(p, args):
    page = signed_in(p, args, "department")
    did = args["department"]["unit_id"]
    seen = {}
    goto(page, did, "agencies")
    seen["heading"] = page.locator("#agencies-h").inner_text()
    seen["nav"] = page.locator("nav a[href$='/agencies']").first.inner_text()
    check_page(page, "agencies-list")

    # a name left out: refused beside its field, nothing sent
    page.click("form[aria-labelledby=agency-add-h] button[type=submit]")
    page.wait_for_selector("form[aria-labelledby=agency-add-h] .error-summary")
    seen["required"] = page.locator("[data-field='name'] .field-error").inner_text()
    check_page(page, "agencies-required")

    # created: the secret once, with its copy button and warning
    page.fill("#agency-name", args["agency_name"])
    page.fill("#agency-description", args["description"])
    page.click("form[aria-labelledby=agency-add-h] button[type=submit]")
    read_secret_dialog(page, seen, "created")
    client_id, first = seen["created_client_id"], seen["created_secret"]
    mine = next(a for a in agencies(page) if a["client_id"] == client_id)
    seen["agency_id"] = mine["id"]
    row = f"tr[data-agency='{mine['id']}']"
    seen["row"] = page.locator(row).inner_text()
    seen["token_first"] = token_status(page, client_id, first)

    # rotated: a new secret once; the old one refused
    page.click(f"{row} button[aria-label='ออกรหัสลับใหม่ของ {args['agency_name']}']")
    page.wait_for_selector("dialog[open]")
    seen["rotate_dialog"] = page.locator("dialog[open]").inner_text()
    check_page(page, "agencies-rotate-confirm")
    page.click("dialog[open] button[type=submit]")
    read_secret_dialog(page, seen, "rotated")
    seen["token_old"] = token_status(page, client_id, first)
    seen["token_new"] = token_status(page, client_id, seen["rotated_secret"])
    seen["row_after_use"] = page.locator(row).inner_text()

    # in English: disabled, after the "are you sure" step
    set_lang(page, "en")
    goto(page, did, "agencies")
    seen["en_heading"] = page.locator("#agencies-h").inner_text()
    check_page(page, "agencies-en")
    page.click(f"{row} button[aria-label='Disable {args['agency_name']}']")
    page.wait_for_selector("dialog[open]")
    seen["disable_dialog"] = page.locator("dialog[open]").inner_text()
    check_page(page, "agencies-disable-confirm-en")
    settle(page, lambda: page.click("dialog[open] button[type=submit]"))
    seen["disabled_notice"] = notice(page)
    seen["disabled_row"] = page.locator(row).inner_text()
    seen["disabled_buttons"] = page.locator(f"{row} button").count()
    seen["token_disabled"] = token_status(page, client_id, seen["rotated_secret"])
    check_page(page, "agencies-disabled-en")
    page.context.close()
    return {"department": seen}
