"""The institution officer's pages in a real browser, in Thai (and the learners page in
English): learners (add with a BE date, a Thai field error, edit, remove with a reason,
restore, filter), import with the rejected-rows file, carry-over with its preview, confirm
with its summary step; a CDC officer adds a child. The pytest side
(tests/system/test_portal_institution.py) checks every result through the API.

args: url, chromium, password, school {username, unit_id}, cdc {username, unit_id}, lao {username},
round2 (id), closed_round (id), learner {...}, bad_national_id, child {...}, csv (text),
csv_name.
"""
import re
from pathlib import Path

from tests.browser.common import (
    SCREENSHOTS, check_page, goto, open_portal, set_lang, settle, sign_in,
)


def pick_round(page, round_id):
    if page.evaluate("document.getElementById('round-select').value") != str(round_id):
        settle(page, lambda: page.select_option("#round-select", str(round_id)))


def notice_text(page):
    page.wait_for_selector("#notice .notice")
    return page.inner_text("#notice .notice")


def fill_learner(page, learner, national_id):
    page.check(f"input[name=id_kind][value={learner.get('id_kind', 'national_id')}]")
    page.fill("input[name=id_number]", national_id)
    page.select_option("select[name=prefix]", learner["prefix"])
    page.fill("input[name=first_name]", learner["first_name"])
    page.fill("input[name=last_name]", learner["last_name"])
    page.check(f"input[name=sex][value={learner['sex']}]")
    page.fill("input[name=birth_date]", learner["birth_be"])
    if page.locator("select[name=grade] option").count() > 1:
        page.select_option("select[name=grade]", learner["grade"])


def dialog_confirm(page):
    """Press the open dialog's primary (submit) button."""
    page.locator("dialog[open] button[type=submit]").click()


def wait_for_preview(page, round_id, unit_id, timeout_ms=30_000):
    """Until the budget preview counts every learner the institution has now (the
    read model follows the learners' events)."""
    waited = 0
    while True:
        caught_up = page.evaluate("""async ([rid, uid]) => {
          const token = JSON.parse(sessionStorage.getItem('lec.session')).token;
          const get = async (path) => (await fetch('/api/v1' + path,
            {headers: {'Authorization': 'Bearer ' + token}})).json();
          const [learners, budget] = await Promise.all([
            get(`/rounds/${rid}/institutions/${uid}/learners?limit=1`),
            get(`/rounds/${rid}/reports/budget?org_unit_id=${uid}&preview=true&limit=1`)]);
          const line = (budget.preview.lines || []).find((l) => l.unit.id === uid);
          return !!line && line.counts.total === learners.total;
        }""", [round_id, unit_id])
        if caught_up:
            return
        if waited >= timeout_ms:
            raise AssertionError("the budget preview did not catch up with the learners")
        page.wait_for_timeout(250)
        waited += 250


def money_shown(page, scope):
    """The money box's text and the total it shows (waits until it is worked out)."""
    page.wait_for_selector(f"{scope} .money[data-ready]")
    box = page.locator(f"{scope} .money").first
    total = box.locator(".money-total")
    return {"text": box.inner_text(), "total": total.inner_text() if total.count() else None,
            "amount": total.get_attribute("data-amount") if total.count() else None}


def school(p, args, out):
    s = args["school"]
    learner = args["learner"]
    page = open_portal(p, args["url"], args["chromium"], label="school")
    sign_in(page, s["username"], args["password"])
    pick_round(page, args["round2"])
    goto(page, s["unit_id"], "learners")
    check_page(page, "institution-learners")

    # add: a bad national ID first -> the summary and the field's message, in Thai
    page.get_by_role("button", name="เพิ่มผู้เรียน").click()
    page.wait_for_selector("form.learner-form")
    check_page(page, "institution-learner-add")
    fill_learner(page, learner, args["bad_national_id"])
    page.click("form.learner-form button[type=submit]")
    page.wait_for_selector("form.learner-form .error-summary")
    out["error_summary"] = page.inner_text("form.learner-form .error-summary")
    out["id_error"] = page.inner_text(".field[data-field=id_number] .field-error")
    check_page(page, "institution-learner-error")
    # corrected, it is saved
    page.fill("input[name=id_number]", learner["national_id"])
    settle(page, lambda: page.click("form.learner-form button[type=submit]"))
    out["added_notice"] = notice_text(page)
    # the row of this learner: by its ID as shown (1-2345-67890-12-3), as other learners
    # of the school may share the first name
    nid = learner["national_id"]
    shown_id = f"{nid[0]}-{nid[1:5]}-{nid[5:10]}-{nid[10:12]}-{nid[12]}"
    row = page.locator("tr", has_text=shown_id)
    out["added_row"] = row.inner_text()
    out["learner_id"] = int(row.get_attribute("data-learner-id"))

    # edit the name: someone else changes the learner meanwhile (a conflict, explained),
    # the latest details are loaded, and the edit is made again
    full = f"{learner['prefix']} {learner['first_name']} {learner['last_name']}"
    # the edit button of the very row whose learner the other change below targets
    page.locator(f"tr[data-learner-id='{out['learner_id']}']").get_by_role("button", name=f"แก้ไข {full}").click()
    page.wait_for_selector("form.learner-form")
    # the form holds the learner as loaded (and its version) before anyone else changes it
    page.wait_for_function("v => document.querySelector('form.learner-form input[name=first_name]')?.value === v",
                           arg=learner["first_name"])
    out["edit_birth_shown"] = page.input_value("input[name=birth_date]")
    out["other_change"] = page.evaluate("""async ([id, lastName]) => {
      const token = JSON.parse(sessionStorage.getItem('lec.session')).token;
      const r = await fetch('/api/v1/learners/' + id, {method: 'PATCH', body: JSON.stringify({last_name: lastName}),
        headers: {'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'}});
      return r.status;
    }""", [out["learner_id"], args["other_last_name"]])
    assert out["other_change"] == 200, f"the other change was answered {out['other_change']}"
    page.fill("input[name=first_name]", args["new_first_name"])
    page.click("form.learner-form button[type=submit]")
    page.wait_for_selector("form.learner-form .error-summary")
    out["conflict_summary"] = page.inner_text("form.learner-form .error-summary")
    check_page(page, "institution-learner-conflict")
    page.get_by_role("button", name="โหลดข้อมูลล่าสุด").click()
    page.wait_for_function("v => document.querySelector('input[name=last_name]')?.value === v",
                           arg=args["other_last_name"])
    page.fill("input[name=first_name]", args["new_first_name"])
    settle(page, lambda: page.click("form.learner-form button[type=submit]"))
    out["edited_notice"] = notice_text(page)
    full = f"{learner['prefix']} {args['new_first_name']} {args['other_last_name']}"

    # remove with a reason and a note
    page.get_by_role("button", name=f"จำหน่ายออก {full}").click()
    page.wait_for_selector("dialog[open] select[name=reason]")
    out["remove_dialog"] = page.inner_text("dialog[open]")
    check_page(page, "institution-learner-remove")
    page.select_option("dialog[open] select[name=reason]", "moved_out")
    page.fill("dialog[open] textarea[name=note]", "ย้ายตามผู้ปกครองไปต่างจังหวัด")
    settle(page, lambda: dialog_confirm(page))
    out["removed_notice"] = notice_text(page)

    # the removed ones, then restore
    page.select_option("select[name=status]", "removed")
    page.wait_for_selector(f"tr[data-learner-id='{out['learner_id']}'].removed")
    out["removed_rows"] = page.locator("tbody tr").count()
    check_page(page, "institution-learners-removed")
    page.get_by_role("button", name=f"นำกลับ {full}").click()
    page.wait_for_selector("dialog[open]")
    settle(page, lambda: dialog_confirm(page))
    out["restored_notice"] = notice_text(page)

    # filter by grade (the filter stays after the re-render)
    page.select_option("select[name=status]", "active")
    page.select_option("select[name=grade]", args["filter_grade"])
    page.wait_for_function("g => [...document.querySelectorAll('tbody tr')].length > 0 && "
                           "[...document.querySelectorAll('tbody tr td[data-label=\"ชั้น\"]')]"
                           ".every(td => td.textContent.trim() === g)", arg=args["filter_grade_th"])
    out["filtered_rows"] = page.locator("tbody tr").count()
    check_page(page, "institution-learners-filtered")
    with page.expect_download() as export:
        page.get_by_role("button", name="ส่งออก CSV").click()
    out["export_name"] = export.value.suggested_filename
    out["export_file"] = Path(export.value.path()).read_text(encoding="utf-8-sig")

    # English: the same page, switched
    set_lang(page, "en")
    page.wait_for_selector("table.data")
    out["english_heading"] = page.inner_text("section.learners h2")
    check_page(page, "institution-learners-en")
    set_lang(page, "th")

    # import: a file with one bad row, and the rejected-rows file
    goto(page, s["unit_id"], "import")
    check_page(page, "institution-import")
    with page.expect_download() as template:
        page.get_by_role("button", name="ดาวน์โหลดแบบฟอร์ม CSV").click()
    out["template_name"] = template.value.suggested_filename
    out["template_head"] = Path(template.value.path()).read_text(encoding="utf-8-sig").splitlines()[0]
    upload = Path(SCREENSHOTS).parent / "institution-import.csv"
    upload.write_text(args["csv"], encoding="utf-8")
    page.set_input_files("input[type=file]", str(upload))
    page.evaluate("""() => {
      const b = document.querySelector('form.panel button[type=submit]');
      window.__importDisabled = false;
      new MutationObserver(() => { if (b.disabled) window.__importDisabled = true; })
        .observe(b, {attributes: true});
    }""")
    page.click("form.panel button[type=submit]")
    page.wait_for_selector("section.result")
    out["button_disabled_while_running"] = page.evaluate("window.__importDisabled")
    out["import_result"] = page.inner_text("section.result")
    out["progress_value"] = page.evaluate("document.querySelector('.import-progress progress')?.value")
    with page.expect_download() as rejected:
        page.get_by_role("button", name="ดาวน์โหลดแถวที่ไม่รับ (CSV)").click()
    out["rejected_name"] = rejected.value.suggested_filename
    out["rejected_file"] = Path(rejected.value.path()).read_text(encoding="utf-8-sig")
    check_page(page, "institution-import-result")

    # carry-over: preview, then the action with its confirmation step
    page.get_by_role("button", name="ดูตัวอย่างการยกยอด").click()
    page.wait_for_selector(".carry-preview .preview")
    out["carry_preview"] = page.inner_text(".carry-preview .preview")
    check_page(page, "institution-carry-over-preview")
    page.locator(".carry-preview .actions button").click()
    page.wait_for_selector("dialog[open]")
    out["carry_dialog"] = page.inner_text("dialog[open]")
    settle(page, lambda: dialog_confirm(page))
    out["carry_notice"] = notice_text(page)

    # confirm: the summary with the money at stake, the "are you sure" step, then the server's state
    wait_for_preview(page, args["round2"], s["unit_id"])
    goto(page, s["unit_id"], "confirm")
    out["confirm_money"] = money_shown(page, "section.check")
    out["confirm_summary"] = page.inner_text("section.confirm")
    check_page(page, "institution-confirm")
    page.get_by_role("button", name="ยืนยันข้อมูล").click()
    page.wait_for_selector("dialog[open]")
    out["confirm_dialog_money"] = money_shown(page, "dialog[open]")
    out["confirm_dialog"] = page.inner_text("dialog[open]")
    page.fill("dialog[open] textarea[name=reason]", args["confirm_note"])
    check_page(page, "institution-confirm-dialog")
    settle(page, lambda: dialog_confirm(page))
    out["confirm_notice"] = notice_text(page)
    page.wait_for_selector(".confirmed-line")
    out["confirmed_state"] = page.inner_text("section.confirm")
    check_page(page, "institution-confirmed")

    # sealed: the learners page offers no add and says why
    goto(page, s["unit_id"], "learners")
    out["sealed_add_buttons"] = page.get_by_role("button", name="เพิ่มผู้เรียน").count()
    out["sealed_edit_buttons"] = page.locator(".row-actions button").count()
    out["sealed_banner"] = page.inner_text("section.learners .notice")
    check_page(page, "institution-learners-sealed")
    goto(page, s["unit_id"], "import")
    out["sealed_file_inputs"] = page.locator("input[type=file]").count()

    # a closed round: nothing to add, import or confirm, and why
    pick_round(page, args["closed_round"])
    goto(page, s["unit_id"], "confirm")
    out["closed_confirm_buttons"] = page.get_by_role("button", name="ยืนยันข้อมูล").count()
    out["closed_banner"] = page.inner_text("section.confirm .notice")
    check_page(page, "institution-confirm-closed")
    goto(page, s["unit_id"], "learners")
    out["closed_add_buttons"] = page.get_by_role("button", name="เพิ่มผู้เรียน").count()


def cdc(p, args, out):
    c = args["cdc"]
    child = args["child"]
    page = open_portal(p, args["url"], args["chromium"], label="cdc")
    sign_in(page, c["username"], args["password"])
    pick_round(page, args["round2"])
    goto(page, c["unit_id"], "learners")
    page.get_by_role("button", name="เพิ่มเด็ก").click()
    page.wait_for_selector("form.learner-form")
    out["cdc_grade_options"] = page.locator("select[name=grade] option").all_inner_texts()
    fill_learner(page, child, child["national_id"])
    settle(page, lambda: page.click("form.learner-form button[type=submit]"))
    out["cdc_notice"] = notice_text(page)
    check_page(page, "institution-cdc-learners")


def lao(p, args, out):
    """The LAO above reads the school's learners; the changes are the school's own."""
    page = open_portal(p, args["url"], args["chromium"], label="lao")
    sign_in(page, args["lao"]["username"], args["password"])
    pick_round(page, args["round2"])
    goto(page, args["school"]["unit_id"], "learners")
    page.wait_for_selector("table.data")
    out["lao_add_buttons"] = page.get_by_role("button", name="เพิ่มผู้เรียน").count()
    out["lao_row_buttons"] = page.locator(".row-actions button").count()
    out["lao_banner"] = page.inner_text("section.learners .notice")
    out["lao_rows"] = page.locator("tbody tr").count()
    check_page(page, "institution-learners-lao")


def run(p, args):
    out = {}
    school(p, args, out)
    cdc(p, args, out)
    lao(p, args, out)
    out["clean_text"] = {k: v for k, v in out.items() if isinstance(v, str) and re.search(r"⟦", v)}
    return out
