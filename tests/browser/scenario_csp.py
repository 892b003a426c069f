"""The portal under its Content-Security-Policy: every page of an officer's unit is opened
(every script of the portal runs) and a printable report is opened from a blob URL (which
keeps the portal's policy: the report's own inline style and print script are allowed by
their hashes); what the browser refused under the policy is reported.

args: url, chromium, username, password
"""
from tests.browser.common import ERRORS, open_portal, settle, sign_in

WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline")));
"""

OPEN_PRINTABLE = """async () => {
  const round = document.getElementById('round-select').value;
  const unit = location.hash.split('/')[2];
  const r = await fetch(`/api/v1/rounds/${round}/reports/summary?org_unit_id=${unit}&format=html`,
    {headers: {Authorization: 'Bearer ' + window.__lecSession.token, Accept: 'text/html'}});
  window.open(URL.createObjectURL(await r.blob()), '_blank');
}"""


def run(p, args):
    out = {"violations": [], "console": []}
    page = open_portal(p, args["url"], args["chromium"], label="csp", init_script=WATCH)
    context = page.context
    context.on("console", lambda m: out["console"].append(m.text) if "Content Security Policy" in m.text else None)
    sign_in(page, args["username"], args["password"])
    out["pages"] = [page.locator("#tabs a[aria-current=page]").get_attribute("data-page")]
    for tab in page.locator("#tabs a:not([aria-current=page])").evaluate_all("links => links.map((a) => a.dataset.page)"):
        settle(page, lambda: page.click(f"#tabs a[data-page='{tab}']"))
        out["pages"].append(tab)
    with context.expect_page() as opened:
        page.evaluate(OPEN_PRINTABLE)
    report = opened.value
    report.on("pageerror", lambda e: ERRORS.append(f"report: {e}"))
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
    return out
