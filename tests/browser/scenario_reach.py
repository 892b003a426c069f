"""Reaching across the subtree, and signing out, as officers use them, in Thai: the province
grants a deadline extension to a school two levels down found by typing part of its Thai
name (keyboard only) and creates an account for it with the same unit search; the LAO lists
every account of its subtree and finds one by typing; signing out clears everything (Back and
a reload show the sign-in page with empty fields) and ends the token on the server, and a
sign-out whose request cannot reach the server still clears everything. Every page state is
checked.

args: url, chromium, password, round_id,
      province {username, unit_id}, lao {username, unit_id},
      school {id, name, lao_name, search (part of its Thai name), code},
      extension_date (dd/mm/25xx), new_account {username, password},
      account {username, search (part of it)}
"""
from tests.browser.common import RESULT, check_page, goto, notice, settle, signed_in, texts


def search_unit(page, box, text):
    """Type ``text`` into the unit search ``box`` (an input's selector) and wait for its results."""
    page.fill(box, "")
    page.locator(box).press_sequentially(text, delay=30)
    page.wait_for_function(
        "([sel, q]) => { const i = document.querySelector(sel); return i && i.dataset.q === q && !i.dataset.busy; }",
        arg=[box, text])


def sign_out_state(page):
    return {"view": page.evaluate("document.getElementById('main').dataset.view"),
            "username": page.input_value("#login-username"),
            "password": page.input_value("#login-password"),
            "storage": page.evaluate("sessionStorage.length"),
            "token": page.evaluate("window.__lecSession.token"),
            "fields": page.evaluate("[...document.querySelectorAll('input')].filter((i) => i.value"
                                    " && i.type !== 'submit' && i.type !== 'button').length")}


def sign_out(page):
    page.click("details.account summary")
    settle(page, lambda: page.click("#sign-out"))
    page.wait_for_selector("main#main[data-view='login'][data-ready='true']")


def province(p, args, out):
    page = signed_in(p, args, "province")
    pid = args["province"]["unit_id"]
    school = args["school"]
    seen = {}

    # a deadline extension for a school two levels down, found by part of its Thai name
    goto(page, pid, "extensions")
    seen["nearby"] = texts(page, "#f-org_unit_id option")
    box = "#f-org_unit_id-search"
    seen["search_label"] = page.locator(f"label[for='{box[1:]}']").inner_text()
    search_unit(page, box, school["search"])
    seen["options"] = texts(page, ".unit-results [role=option]")
    seen["status"] = page.locator(".unit-search-status").first.inner_text()
    seen["expanded"] = page.get_attribute(box, "aria-expanded")
    check_page(page, "reach-province-extension-search")
    # the keyboard: down to the school, Enter chooses it (the form is not sent)
    page.focus(box)
    page.keyboard.press("ArrowDown")
    seen["active"] = page.evaluate(
        "sel => { const i = document.querySelector(sel); const a = i.getAttribute('aria-activedescendant');"
        " return a ? document.getElementById(a).innerText : null; }", box)
    page.keyboard.press("Enter")
    seen["chosen"] = page.locator(".unit-chosen").first.inner_text()
    seen["chosen_value"] = page.input_value("#f-org_unit_id")
    seen["expanded_after"] = page.get_attribute(box, "aria-expanded")
    seen["notice_before"] = notice(page)
    page.fill("#ext-date", args["extension_date"])
    check_page(page, "reach-province-extension-chosen")
    settle(page, lambda: page.click("form[aria-labelledby=ext-add-h] button[type=submit]"))
    seen["notice"] = notice(page)
    seen["rows"] = texts(page, ".page-extensions table.data tbody tr")
    check_page(page, "reach-province-extension-saved")
    out["extension"] = seen
    RESULT.update(out)

    # an account for the same school, its unit found with the same search (a click this time)
    goto(page, pid, "accounts")
    acc = {}
    search_unit(page, box, school["code"][:6])
    acc["options"] = texts(page, ".unit-results [role=option]")
    page.locator(".unit-results [role=option]", has_text=school["name"]).click()
    acc["chosen"] = page.locator(".unit-chosen").first.inner_text()
    acc["heading"] = page.locator("#account-create-h").inner_text()
    new = args["new_account"]
    page.fill("#f-username", new["username"])
    page.fill("#f-password", new["password"])
    check_page(page, "reach-province-account-chosen")
    settle(page, lambda: page.click("form[aria-labelledby=account-create-h] button[type=submit]"))
    acc["notice"] = notice(page)
    # the list now shows every account of the subtree, found by the new one's name
    acc["mode"] = page.input_value("#accounts-unit")
    acc["search_kept"] = page.input_value("#f-accounts-q")
    acc["listed"] = texts(page, ".page-accounts table.data tbody tr")
    check_page(page, "reach-province-account-created")
    out["province_account"] = acc
    RESULT.update(out)

    # signing out while the server cannot be reached: everything is cleared all the same
    out["province_token"] = page.evaluate("window.__lecSession.token")
    page.route("**/api/v1/auth/logout", lambda route: route.abort())
    sign_out(page)
    out["province_signed_out"] = sign_out_state(page)
    page.context.close()


def lao(p, args, out):
    page = signed_in(p, args, "lao")
    lid = args["lao"]["unit_id"]
    seen = {}
    goto(page, lid, "accounts")
    seen["options"] = texts(page, "#accounts-unit option")
    settle(page, lambda: page.select_option("#accounts-unit", "all"))
    seen["all_heading"] = page.locator("#accounts-h").inner_text()
    seen["all_count"] = page.locator("#accounts-all-count").inner_text()
    seen["all_rows"] = texts(page, ".page-accounts table.data tbody th")
    check_page(page, "reach-lao-all-accounts")
    # typing part of a username narrows the list as it is typed
    wanted = args["account"]["search"]
    page.locator("#f-accounts-q").press_sequentially(wanted, delay=30)
    page.wait_for_function(
        "q => { const r = document.getElementById('accounts-all-results'); return r && r.dataset.q === q && r.dataset.ready === 'true'; }",
        arg=wanted)
    seen["found_count"] = page.locator("#accounts-all-count").inner_text()
    seen["found_rows"] = texts(page, ".page-accounts table.data tbody tr")
    check_page(page, "reach-lao-account-found")
    out["lao_accounts"] = seen
    RESULT.update(out)

    # sign-out: the token read from the page before, then nothing left on the page or stored
    out["lao_token"] = page.evaluate("window.__lecSession.token")
    out["lao_hash_before"] = page.evaluate("location.hash")
    sign_out(page)
    out["lao_signed_out"] = sign_out_state(page)
    out["lao_signed_out"]["notice"] = notice(page)
    check_page(page, "reach-lao-signed-out")
    # Back: still the sign-in page, its fields empty
    page.go_back()
    page.wait_for_timeout(500)
    page.wait_for_selector("main#main[data-ready='true']")
    out["lao_back"] = sign_out_state(page)
    out["lao_back"]["hash"] = page.evaluate("location.hash")
    # a reload: the same
    page.reload()
    page.wait_for_selector("main#main[data-ready='true']")
    out["lao_reload"] = sign_out_state(page)
    check_page(page, "reach-lao-signed-out-reload")
    page.context.close()


def run(p, args):
    out = RESULT
    province(p, args, out)
    lao(p, args, out)
    return dict(out)
