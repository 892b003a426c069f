"""What every browser scenario of the portal uses: open the portal in headless Chromium,
sign in, wait for a page to be shown, and check a page (screenshots at 1280 and 390 px,
axe-core, sideways scrolling at 390 px, missing translations, page errors).

The shell marks its state on ``<main id="main">``: ``data-view`` is ``login`` or ``app``,
``data-ready`` is ``true`` once the current page has rendered; ``window.__lecRendered``
counts the renders, so that ``settle`` waits for the render an action causes.
"""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".lec" / "screenshots"
WIDTHS = (1280, 390)
# the address the browser's requests say they come from (the gateway trusts one proxy in the
# tests): apart from the addresses that the tests of failed sign-ins wear out
CLIENT_ADDRESS = "192.0.2.40"

CHECKS = []  # every check_page result of this process
RESULT = {}  # a scenario may fill this as it goes: printed even when it fails half-way
ERRORS = []  # page errors and failed scripts, of every page
_browsers = []
_pages = []

UNTRANSLATED_JS = r"""
() => {
  // visible text with Latin words, outside user data (translate="no") and other-language parts
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const allowed = /^(LEC|CSV|XLSX|Excel|API|OpenAPI|PDF|G|ID|OBEC|BPP|OPEC|THB|BE|CE)$/;
  let node;
  while ((node = walker.nextNode())) {
    const text = node.textContent.trim();
    if (!text || !/[A-Za-z]{2,}/.test(text)) continue;
    const parent = node.parentElement;
    if (!parent || parent.closest('[translate="no"], script, style, noscript, [hidden]')) continue;
    const langOwner = parent.closest('[lang]');
    if (langOwner && langOwner !== document.documentElement && !langOwner.lang.startsWith('th')) continue;
    const box = parent.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    const style = getComputedStyle(parent);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    const words = text.match(/[A-Za-z][A-Za-z'-]+/g) || [];
    if (words.some((w) => !allowed.test(w))) out.push(text.slice(0, 120));
  }
  return out;
}
"""

OVERFLOW_JS = r"""
() => {
  const width = window.innerWidth;
  const wide = [];
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (r.right > width + 1 && r.width > 0 && getComputedStyle(e).position !== 'fixed') {
      if (e.closest('.scroll-x, dialog:not([open])')) continue;
      wide.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '') +
                ' ' + Math.round(r.right));
      if (wide.length >= 8) break;
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: width, wide};
}
"""


def _watch(page, label):
    page.on("pageerror", lambda e: ERRORS.append(f"{label}: {e}"))
    page.on("console", lambda m: ERRORS.append(f"{label} console: {m.text}")
            if m.type == "error" and "Failed to load resource" not in m.text else None)
    page.on("requestfailed", lambda r: ERRORS.append(f"{label}: failed {r.url} {r.failure}")
            if "/static/" in r.url else None)


def browser(p, chromium):
    """One headless Chromium per process."""
    if not _browsers:
        _browsers.append(p.chromium.launch(executable_path=chromium, args=["--no-sandbox"]))
    return _browsers[0]


def open_portal(p, url, chromium, lang=None, width=1280, address=CLIENT_ADDRESS, label="portal",
                clock=False, init_script=None):
    """A fresh browser context (its own sessionStorage and localStorage) on the portal,
    Thai unless ``lang`` says otherwise; the page once the sign-in form is shown. With
    ``clock`` the page's clock is Playwright's (``page.clock.fast_forward("10:00")``)."""
    context = browser(p, chromium).new_context(
        viewport={"width": width, "height": 900}, locale="th-TH", timezone_id="Asia/Bangkok",
        extra_http_headers={"X-Forwarded-For": address}, accept_downloads=True)
    if clock:
        context.clock.install()
    if init_script:
        context.add_init_script(init_script)
    if lang:
        context.add_init_script(f"localStorage.setItem('lec.lang', '{lang}')")
    page = context.new_page()
    page.set_default_timeout(30_000)
    _watch(page, label)
    _pages.append(page)
    page.goto(url.rstrip("/") + "/")
    page.wait_for_selector("main#main[data-ready='true']")
    return page


def rendered(page):
    return page.evaluate("window.__lecRendered || 0")


def wait_rendered(page, after, timeout=60_000):
    """Wait for a render later than ``after`` (a ``rendered(page)`` value) to finish."""
    page.wait_for_function(
        "n => (window.__lecRendered || 0) > n && document.getElementById('main').dataset.ready === 'true'",
        arg=after, timeout=timeout)


def settle(page, action, timeout=60_000):
    """Do ``action()`` (a click, a hash change ...) and wait for the render it causes."""
    mark = rendered(page)
    action()
    wait_rendered(page, mark, timeout)


def sign_in(page, username, password):
    """Sign in through the form; returns once the first page of the user's unit is shown."""
    page.fill("#login-username", username)
    page.fill("#login-password", password)
    settle(page, lambda: page.click("#login-form button[type=submit]"))
    page.wait_for_selector("main#main[data-view='app'][data-ready='true']")


def texts(page, selector):
    return page.locator(selector).all_inner_texts()


def notice(page):
    """The text of the page's notice, or None."""
    loc = page.locator("#notice .notice")
    return loc.first.inner_text() if loc.count() else None


def dialog_submit(page, reason=None):
    """Submit the open dialog, typing ``reason`` into its text box first."""
    page.wait_for_selector("dialog[open]")
    if reason is not None:
        page.fill("dialog[open] textarea[name=reason]", reason)
    settle(page, lambda: page.click("dialog[open] button[type=submit]"))


def signed_in(p, args, who, lang=None):
    """A fresh browser signed in as ``args[who]`` with the scenario's round (``round_id``) chosen."""
    page = open_portal(p, args["url"], args["chromium"], label=who, lang=lang)
    sign_in(page, args[who]["username"], args["password"])
    if page.input_value("#round-select") != str(args["round_id"]):
        settle(page, lambda: page.select_option("#round-select", str(args["round_id"])))
    return page


def goto(page, unit_id, page_id="overview"):
    """Show ``#/u/<unit_id>/<page_id>`` and wait for it (at once when it is shown already)."""
    target = f"#/u/{unit_id}/{page_id}"
    if page.evaluate("() => location.hash") == target:
        page.wait_for_selector("main#main[data-ready='true']")
        return
    settle(page, lambda: page.evaluate("h => { location.hash = h; }", target))


def set_lang(page, code):
    """The header's language switch (ไทย | English); waits for the re-render."""
    label = {"th": "ไทย", "en": "English"}[code]
    if page.evaluate("document.documentElement.lang") == code:
        return
    settle(page, lambda: page.click(f".lang-switch button[lang='{code}']"))
    assert page.evaluate("document.documentElement.lang") == code, label


def axe_violations(page):
    """axe-core's serious and critical violations on the page as it is."""
    from axe_playwright_python.sync_playwright import Axe
    results = Axe().run(page)
    found = []
    for v in results.response.get("violations", []):
        if v.get("impact") in ("serious", "critical"):
            found.append({"id": v["id"], "impact": v["impact"], "help": v.get("help"),
                          "nodes": [", ".join(n.get("target", [])) if isinstance(n.get("target"), list)
                                    else str(n.get("target")) for n in v.get("nodes", [])[:5]]})
    return found


def _safe(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name)


def check_page(page, name, widths=WIDTHS):
    """Screenshots of the page at each width (``.lec/screenshots/<name>-<width>.png``), axe-core
    at each width (serious and critical violations), no sideways scrolling at 390 px, the
    translation keys asked for and missing, Latin text outside user data in Thai mode, and
    the page errors so far. The result is also kept in ``CHECKS``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    result = {"name": name, "lang": page.evaluate("document.documentElement.lang"), "axe": {},
              "violations": [], "overflow": None, "missing": [], "latin": [], "errors": list(ERRORS),
              "screenshots": []}
    for width in widths:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(200)
        path = SCREENSHOTS / f"{_safe(name)}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        result["screenshots"].append(str(path.relative_to(ROOT)))
        found = axe_violations(page)
        result["axe"][str(width)] = len(found)
        result["violations"] += [dict(v, width=width) for v in found]
        if width <= 400:
            seen = page.evaluate(OVERFLOW_JS)
            result["scroll"] = seen
            result["overflow"] = seen["scrollWidth"] > seen["innerWidth"]
    result["missing"] = page.evaluate("window.__lecMissing || []")
    if result["lang"] == "th":
        result["latin"] = page.evaluate(UNTRANSLATED_JS)
    if original:
        page.set_viewport_size(original)
        page.wait_for_timeout(100)
    CHECKS.append(result)
    return result


def screenshot_open_pages(prefix):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shots = []
    for i, page in enumerate(_pages):
        try:
            if not page.is_closed():
                path = SCREENSHOTS / f"{_safe(prefix)}-{i}.png"
                page.screenshot(path=str(path), full_page=True)
                shots.append(str(path.relative_to(ROOT)))
        except Exception:  # noqa: BLE001  (a screenshot of a failure is a courtesy)
            pass
    return shots


def close_all():
    for b in _browsers:
        try:
            b.close()
        except Exception:  # noqa: BLE001
            pass
    _browsers.clear()
    _pages.clear()
