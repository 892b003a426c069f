"""A portal session in a real browser (headless Chromium through Playwright),
run as a program of its own by test_portal.py (the test process runs under
eventlet's monkey patching, which Playwright's driver does not survive).

    python tests/system/portal_flow.py URL CHROMIUM LAO_USER SCHOOL_USER PASSWORD NEW_USERNAME

Prints one JSON object with what the pages showed.
"""
import json
import sys

from playwright.sync_api import sync_playwright


def sign_in(page, url, username, password):
    page.goto(url + "/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#unit h2", timeout=30_000)
    page.wait_for_selector("div.accounts", timeout=30_000)


def main(url, chromium, lao_user, school_user, password, new_username, school_name):
    out = {"errors": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page()
        page.on("pageerror", lambda e: out["errors"].append(str(e)))
        page.on("dialog", lambda d: d.accept("portal-reset-pass-1") if d.type == "prompt" else d.accept())
        page.set_default_timeout(30_000)

        sign_in(page, url, lao_user, password)
        out["lao_panels"] = page.locator("#panels h3").all_inner_texts()
        out["lao_panel_errors"] = page.locator("#panels > p.error").all_inner_texts()
        out["round"] = page.locator("#round-select").input_value()
        out["lao_header"] = page.locator("#who").inner_text()
        # a unit the API refuses: its message is shown
        page.fill("div.units input[name=code]", "bad code!")
        page.fill("div.units input[name=name]", "x")
        page.click("div.units button[type=submit]")
        page.wait_for_selector("div.units p.error:text('code')")
        out["unit_error"] = page.locator("div.units p.error").inner_text()
        # the LAO's own accounts are changed from above: no buttons for them here
        out["own_unit_resets"] = page.locator("div.accounts button", has_text="Reset password").count()
        # in a school of the LAO: a new account, its password reset, then disabled
        page.locator("#panels a", has_text=school_name).first.click()
        page.wait_for_selector(f"#unit h2:has-text('{school_name}')")
        page.wait_for_selector("div.accounts input[name=username]")
        page.fill("div.accounts input[name=username]", new_username)
        page.fill("div.accounts input[name=password]", "portal-first-pass-1")
        page.click("div.accounts button[type=submit]")
        page.wait_for_selector(f"div.accounts td:text-is('{new_username}')")
        row = page.locator("div.accounts tr", has_text=new_username)
        row.locator("button", has_text="Reset password").click()
        page.wait_for_selector("div.accounts p.error:text('password reset')")
        row.locator("button", has_text="Disable").click()
        page.wait_for_selector(f"div.accounts tr:has-text('{new_username}') .badge:text-is('disabled')")
        out["disabled_row"] = page.locator("div.accounts tr", has_text=new_username).inner_text()
        page.click("text=Sign out")
        page.wait_for_selector("#login-form", state="visible")

        sign_in(page, url, school_user, password)
        out["school_panels"] = page.locator("#panels h3").all_inner_texts()
        browser.close()
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main(*sys.argv[1:])
