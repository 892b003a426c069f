"""Who blocks me and the notices, as the officers use them: the province reads the units that
have not confirmed (soonest deadline first, the overdue ones in red, Buddhist-era dates, the
checks, requests and contacts of each), in Thai and in English; the LAO follows the bell to its
notices (its deadline reminder); the school reads the transfer it must answer and follows its
link. What each page shows is compared with what the API says at that moment.

args: url, chromium, password, round_id,
      province {username, unit_id}, lao {username, unit_id}, school {username, unit_id}
"""
from tests.browser.common import check_page, goto, set_lang, settle, signed_in, texts


def api(page, path):
    """GET with the signed-in officer's token."""
    return page.evaluate("""async (path) => {
        const token = JSON.parse(sessionStorage.getItem('lec.session')).token;
        const r = await fetch('/api/v1' + path, {headers: {Authorization: 'Bearer ' + token}});
        return {status: r.status, body: await r.json()};
    }""", path)


def rows(page):
    return page.locator("#blockers-list table.data tbody tr").evaluate_all(
        "(els) => els.map((e) => ({unit: Number(e.dataset.unit), overdue: e.dataset.overdue === 'true', "
        "text: e.innerText}))")


def province_reads_its_blockers(p, args, out):
    page = signed_in(p, args, "province")
    pid = args["province"]["unit_id"]
    goto(page, pid, "blockers")
    seen = {"heading": page.locator("#blockers-h").inner_text(), "total": page.locator("#blockers-total").inner_text(),
            "rows": rows(page), "tab": page.locator("#tabs a[data-page='blockers']").inner_text()}
    seen["api"] = api(page, f"/rounds/{args['round_id']}/blockers?org_unit_id={pid}&limit=50")["body"]
    seen["overdue_red"] = page.locator("tr.overdue .down").count()
    check_page(page, "blockers-province")
    set_lang(page, "en")
    seen["en_heading"] = page.locator("#blockers-h").inner_text()
    seen["en_rows"] = rows(page)
    seen["en_headers"] = texts(page, "#blockers-list table.data thead th")
    check_page(page, "blockers-province-en")
    out["province"] = seen
    page.context.close()


def lao_follows_the_bell(p, args, out):
    page = signed_in(p, args, "lao")
    seen = {"bell": page.locator("#notices-bell a").get_attribute("title"),
            "count": page.locator("#notices-bell .notices-count").inner_text()}
    seen["api"] = api(page, "/me/notices")["body"]
    settle(page, lambda: page.click("#notices-bell a"))
    seen["hash"] = page.evaluate("() => location.hash")
    seen["items"] = texts(page, "#notice-list li")
    seen["kinds"] = page.locator("#notice-list li").evaluate_all("(els) => els.map((e) => e.dataset.kind)")
    check_page(page, "notices-lao")
    set_lang(page, "en")
    seen["en_items"] = texts(page, "#notice-list li")
    check_page(page, "notices-lao-en")
    out["lao"] = seen
    page.context.close()


def school_reads_its_transfer(p, args, out):
    page = signed_in(p, args, "school")
    sid = args["school"]["unit_id"]
    goto(page, sid, "notices")
    seen = {"items": texts(page, "#notice-list li"),
            "kinds": page.locator("#notice-list li").evaluate_all("(els) => els.map((e) => e.dataset.kind)"),
            "links": page.locator("#notice-list li a.notice-link").evaluate_all("(els) => els.map((e) => e.getAttribute('href'))"),
            "api": api(page, f"/me/notices?round_id={args['round_id']}")["body"]}
    check_page(page, "notices-school")
    set_lang(page, "en")
    seen["en_items"] = texts(page, "#notice-list li")
    check_page(page, "notices-school-en")
    out["school"] = seen
    page.context.close()


def run(p, args):
    out = {}
    province_reads_its_blockers(p, args, out)
    lao_follows_the_bell(p, args, out)
    school_reads_its_transfer(p, args, out)
    return out
