"""The portal's shell as the officers of every level meet it: the sign-in page (Thai first,
its refusals in plain words), the header, breadcrumb, round selector and deadline, the
overview of a unit and the search among its units, the language switch, session renewal,
the expiry warning, the re-login that keeps the page, one's own password, and sign-out.

args: url, chromium, password, accounts {level: {username, unit_id, search?}},
      victim (an account whose password the scenario changes), victim_new_password,
      throttled (an account to fail sign-ins with), round_ids (two rounds to switch between)
"""
from tests.browser.common import (RESULT, check_page, open_portal, set_lang, settle, sign_in,
                                  wait_rendered, rendered)


def texts(page, selector):
    return page.locator(selector).all_inner_texts()


def text(page, selector):
    loc = page.locator(selector)
    return loc.first.inner_text() if loc.count() else None


def submit_login(page, username, password):
    page.fill("#login-username", username)
    page.fill("#login-password", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#login-form .error-summary")
    return text(page, "#login-form .error-summary")


def login_page(p, args, out):
    page = open_portal(p, args["url"], args["chromium"], label="login", address="192.0.2.41")
    out["login"] = {"lang": page.evaluate("document.documentElement.lang"), "title": text(page, "#login-title"),
                    "labels": texts(page, "#login-form label")}
    check_page(page, "login")
    out["login"]["wrong"] = submit_login(page, args["throttled"], "not-the-password-1")
    out["login"]["password_kept"] = page.input_value("#login-password")
    check_page(page, "login-error")
    # failures from one name and address: a wait, said in seconds
    waits = []
    for _ in range(8):
        said = submit_login(page, args["throttled"], "not-the-password-1")
        waits.append(said)
        if "วินาที" in said:
            break
    out["login"]["throttled"] = waits[-1]
    set_lang(page, "en")
    out["login"]["title_en"] = text(page, "#login-title")
    out["login"]["labels_en"] = texts(page, "#login-form label")
    out["login"]["throttled_en"] = submit_login(page, args["throttled"], "not-the-password-1")
    check_page(page, "login-en")
    page.context.close()


def shell(p, args, level, account, out):
    page = open_portal(p, args["url"], args["chromium"], label=level)
    sign_in(page, account["username"], args["password"])
    seen = {
        "header": text(page, "#header"),
        "account": text(page, "details.account summary"),
        "title": text(page, "#unit-title"),
        "meta": text(page, "#unit-meta"),
        "breadcrumb": texts(page, "#breadcrumb li"),
        "round": page.input_value("#round-select"),
        "rounds": texts(page, "#round-select option"),
        "badge": text(page, "#window-info .badge"),
        "deadline": text(page, "#window-info .deadline"),
        "countdown": text(page, "#window-info .countdown"),
        "tabs": texts(page, "#tabs a"),
        "details": texts(page, ".summary-list .summary-row"),
        "hash": page.evaluate("location.hash"),
    }
    check_page(page, f"shell-{level}")
    if page.locator("#children-q").count():
        seen["children_count"] = page.locator("#children-results tbody tr").count()
        seen["children_heading"] = text(page, "#overview-children")
        page.fill("#children-q", account["search"])
        page.wait_for_function("() => document.querySelectorAll('#children-results tbody tr').length === 1")
        seen["search_rows"] = texts(page, "#children-results tbody th")
        settle(page, lambda: page.locator("#children-results tbody th a").first.click())
        seen["child"] = {"title": text(page, "#unit-title"), "breadcrumb": texts(page, "#breadcrumb li"),
                         "hash": page.evaluate("location.hash")}
        check_page(page, f"child-of-{level}")
        settle(page, lambda: page.locator("#breadcrumb a").first.click())
    set_lang(page, "en")
    seen["en"] = {"account": text(page, "details.account summary"), "tabs": texts(page, "#tabs a"),
                  "deadline": text(page, "#window-info .deadline"), "badge": text(page, "#window-info .badge"),
                  "details": texts(page, ".summary-list .summary-row"), "lang": page.evaluate("document.documentElement.lang")}
    check_page(page, f"shell-{level}-en")
    set_lang(page, "th")
    seen["th_again"] = text(page, "details.account summary")
    # renewal while at work: a fresh token, kept for the session
    seen["renewed"] = page.evaluate("window.__lecSession.renewNow()")
    seen["stored"] = page.evaluate("JSON.parse(sessionStorage.getItem('lec.session')).token")
    seen["after_renew_render"] = page.evaluate("document.getElementById('unit-title').innerText")
    # sign-out: nothing left filled in or stored
    page.click("details.account summary")
    settle(page, lambda: page.click("#sign-out"))
    seen["signed_out"] = {"view": page.evaluate("document.getElementById('main').dataset.view"),
                          "username": page.input_value("#login-username"),
                          "password": page.input_value("#login-password"),
                          "storage": page.evaluate("sessionStorage.length"),
                          "hash": page.evaluate("location.hash"), "notice": text(page, "#notice")}
    out["levels"][level] = seen
    page.context.close()


def rounds_and_session(p, args, out):
    """As the LAO: switching rounds twice quickly leaves one page; the expiry warning renews;
    a 401 opens the re-login dialog and the page's form survives it; own password change."""
    account = args["accounts"]["lao"]
    page = open_portal(p, args["url"], args["chromium"], label="session")
    sign_in(page, account["username"], args["password"])
    # the date rules the pages share (core/dates.js), in this browser's Thai mode
    out["dates"] = page.evaluate("""async () => {
      const d = await import('/static/core/dates.js');
      const input = d.dateInput({name: 'probe', value: '2023-11-10'});
      return {
        be: d.parseDate('05/11/2566'), ce: d.parseDate('5/11/2023'), iso: d.parseDate('2023-11-05'),
        bad: d.parseDate('31/02/2566'), junk: d.parseDate('hello'),
        shown: d.formatDate('2023-11-10'), input: input.value, inputIso: input.isoValue,
        placeholder: input.placeholder,
        midnight: d.deadlineText('2023-11-11T00:00:00+07:00'),
        noon: d.deadlineText('2023-11-10T05:30:00Z'),
        utcMidnight: d.deadlineText('2023-11-10T17:00:00Z'),
        time: d.formatDateTime('2023-11-10T07:05:00Z'),
        passed: d.countdown('2020-01-01T00:00:00Z'),
        left: d.countdown(new Date(Date.now() + (2 * 24 + 5) * 3600e3 + 60e3).toISOString()),
      };
    }""")
    first, second = [str(r) for r in args["round_ids"]]
    mark = rendered(page)
    page.select_option("#round-select", second)
    page.select_option("#round-select", first)
    wait_rendered(page, mark)
    page.wait_for_timeout(1500)  # anything the first switch was loading would land by now
    out["switch"] = {"round": page.input_value("#round-select"),
                     "overviews": page.locator("#page .overview").count(),
                     "details": page.locator("#page .summary-list").count(),
                     "deadline": text(page, "#window-info .deadline")}
    # the warning before expiry when idle: stay signed in renews the token
    before = page.evaluate("window.__lecSession.token")
    page.evaluate("window.__lecSession.warnNow()")
    page.wait_for_selector("dialog.expiry[open]")
    out["warning"] = {"text": text(page, "dialog.expiry")}
    check_page(page, "session-warning")
    page.click("#expiry-stay")
    page.wait_for_selector("dialog.expiry", state="detached")
    page.wait_for_function("t => window.__lecSession.token !== t", arg=before)
    out["warning"]["renewed"] = page.evaluate("window.__lecSession.token")
    out["warning"]["notice"] = text(page, "#notice")
    # a form in progress, then the token ends (the password changed elsewhere)
    page.fill("#children-q", account["search"])
    page.wait_for_function("() => document.querySelectorAll('#children-results tbody tr').length === 1")
    token = page.evaluate("window.__lecSession.token")
    changed = page.request.post(args["url"] + "/api/v1/me/password",
                                headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": "192.0.2.40"},
                                data={"current_password": args["password"], "new_password": args["lao_new_password"]})
    out["relogin"] = {"changed": changed.status}
    # every gateway process hears of the change through the registry's event: wait for it
    for _ in range(50):
        me = page.request.get(args["url"] + "/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        if me.status == 401:
            break
        page.wait_for_timeout(200)
    out["relogin"]["refused"] = me.status
    page.evaluate("() => { window.__probe = import('/static/core/api.js').then((m) => m.api('GET', '/me'))"
                  ".then((me) => me.username, (e) => 'failed: ' + e.message); }")
    page.wait_for_selector("dialog.relogin[open]")
    out["relogin"]["dialog"] = text(page, "dialog.relogin")
    check_page(page, "session-relogin")
    page.fill("#relogin-password", "a-wrong-password-9")
    page.click("dialog.relogin button[type=submit]")
    page.wait_for_selector("dialog.relogin .error-summary")
    out["relogin"]["wrong"] = text(page, "dialog.relogin .error-summary")
    page.fill("#relogin-password", args["lao_new_password"])
    page.click("dialog.relogin button[type=submit]")
    page.wait_for_selector("dialog.relogin", state="detached")
    out["relogin"]["probe"] = page.evaluate("window.__probe")
    out["relogin"]["search_kept"] = page.input_value("#children-q")
    out["relogin"]["rows_kept"] = page.locator("#children-results tbody tr").count()
    out["relogin"]["token"] = page.evaluate("window.__lecSession.token")
    page.context.close()


def timers(p, args, out):
    """The session's own timers, with the browser's clock moved on (tokens live 15 minutes):
    an officer at work is renewed without noticing; an idle one is warned first."""
    account = args["accounts"]["province"]
    page = open_portal(p, args["url"], args["chromium"], label="timers", clock=True)
    sign_in(page, account["username"], args["password"])
    first = page.evaluate("window.__lecSession.token")
    page.clock.fast_forward("08:00")
    page.click("#unit-title")  # at work: a click
    page.clock.fast_forward("03:00")  # 4 minutes left, active 3 minutes ago: renewed
    page.wait_for_function("t => window.__lecSession.token !== t", arg=first)
    renewed = page.evaluate("window.__lecSession.token")
    warned_before = page.locator("dialog.expiry").count()
    page.clock.fast_forward("14:00")  # idle since: 1 minute left
    page.wait_for_selector("dialog.expiry[open]")
    out["timers"] = {"first": first, "renewed": renewed, "warned_while_active": warned_before,
                     "idle_token": page.evaluate("window.__lecSession.token"),
                     "warning": text(page, "dialog.expiry")}
    page.click("#expiry-stay")
    page.wait_for_selector("dialog.expiry", state="detached")
    page.wait_for_function("t => window.__lecSession.token !== t", arg=renewed)
    out["timers"]["stayed"] = page.evaluate("window.__lecSession.token")
    page.context.close()


def own_password(p, args, out):
    """One's own password: refusals in Thai beside the fields, then signed out to sign in again."""
    victim = args["victim"]
    page = open_portal(p, args["url"], args["chromium"], label="password")
    sign_in(page, victim, args["password"])
    page.click("details.account summary")
    page.click("#change-password")
    page.wait_for_selector("dialog.password[open]")
    check_page(page, "password-dialog")

    def attempt(current, new, repeat=None):
        page.fill("#password-form [name=current_password]", current)
        page.fill("#password-form [name=new_password]", new)
        page.fill("#password-form [name=repeat_password]", new if repeat is None else repeat)
        page.click("#password-form button[type=submit]")
        page.wait_for_selector("#password-form .error-summary")
        return {"summary": text(page, "#password-form .error-summary"),
                "fields": texts(page, "#password-form .field-error:not([hidden])")}

    out["password"] = {"mismatch": attempt(args["password"], "long-enough-pass-1", "something-else-2"),
                       "wrong_current": attempt("not-my-password-1", "a-fine-new-pass-word-7"),
                       "weak": attempt(args["password"], "password123")}
    check_page(page, "password-dialog-errors")
    page.fill("#password-form [name=current_password]", args["password"])
    page.fill("#password-form [name=new_password]", args["victim_new_password"])
    page.fill("#password-form [name=repeat_password]", args["victim_new_password"])
    settle(page, lambda: page.click("#password-form button[type=submit]"))
    out["password"]["after"] = {"view": page.evaluate("document.getElementById('main').dataset.view"),
                                "notice": text(page, "#notice"),
                                "storage": page.evaluate("sessionStorage.length")}
    sign_in(page, victim, args["victim_new_password"])
    out["password"]["signed_in_again"] = text(page, "details.account summary")
    page.context.close()


def run(p, args):
    out = RESULT
    out["levels"] = {}
    login_page(p, args, out)
    for level, account in args["accounts"].items():
        shell(p, args, level, account, out)
    rounds_and_session(p, args, out)
    timers(p, args, out)
    own_password(p, args, out)
    return out
