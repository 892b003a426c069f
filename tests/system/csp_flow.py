"""The portal under its Content-Security-Policy in a real browser (headless
Chromium through Playwright), run as a program of its own by test_platform.py
(Playwright's driver does not survive the test process's eventlet patching).

    python tests/system/csp_flow.py URL CHROMIUM USERNAME PASSWORD

Signs in, waits for the panels (every script ran), opens the printable report
(a blob URL, which keeps the portal's policy), presses its print button and
prints one JSON object: what the browser refused under the policy, whether the
report's own styles applied and whether its button printed.
"""
import json
import sys

from playwright.sync_api import sync_playwright

WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline")));
"""


def main(url, chromium, username, password):
    out = {"violations": [], "console": [], "errors": []}

    def watch(page):
        page.on("console", lambda m: out["console"].append(m.text)
                if "Content Security Policy" in m.text else None)
        page.on("pageerror", lambda e: out["errors"].append(str(e)))

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        context = browser.new_context()
        context.add_init_script(WATCH)
        context.on("page", watch)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(url + "/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("section.reports", timeout=60_000)
        out["panels"] = page.locator("#panels h2").all_inner_texts()
        with context.expect_page() as opened:
            page.locator("section.reports a", has_text="พิมพ์").first.click()
        report = opened.value
        report.wait_for_load_state()
        report.wait_for_selector("table")
        out["report_table_style"] = report.evaluate(
            "getComputedStyle(document.querySelector('table')).borderCollapse")
        # its print button works (the dialog itself is not opened here)
        report.evaluate("window.__printed = false; window.print = () => { window.__printed = true; }")
        report.click("#print")
        out["report_printed"] = report.evaluate("window.__printed")
        for each in (page, report):
            out["violations"] += each.evaluate("window.__csp || []")
        browser.close()
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main(*sys.argv[1:])
