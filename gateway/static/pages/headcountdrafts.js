// Headcount drafts: a new round starts each other-affiliation school's headcount from
// the round before; the LAO accepts it as it stands (or edits it and saves).
import { api, errorText } from "../core/api.js";
import { lang, num, register, t } from "../core/i18n.js";
import { badge, button, el, notice } from "../core/ui.js";
import { data, roundName, tx } from "./oversight.js";

register({
  th: {
    "hcdraft.badge": "ร่างจากรอบก่อน",
    "hcdraft.text": "จำนวนนี้คัดลอกจาก{round} ยังไม่นับว่ากรอกแล้วจนกว่าจะรับรองหรือแก้ไขแล้วบันทึก",
    "hcdraft.accept": "รับรองจำนวนเดิมของ {name}",
    "hcdraft.accepted": "รับรองจำนวนนักเรียนของ {name} แล้ว (รวม {total} คน)",
    "hcdraft.previous_round": "รอบก่อน",
  },
  en: {
    "hcdraft.badge": "Draft from the previous round",
    "hcdraft.text": "These counts were copied from {round}. They do not count as entered until you accept them, or edit and save them.",
    "hcdraft.accept": "Accept the counts of {name} as they are",
    "hcdraft.accepted": "The counts of {name} are accepted ({total} pupils)",
    "hcdraft.previous_round": "the previous round",
  },
});

// the draft's notice with its "accept" button (null when the headcount is no draft)
export function draftNotice(ctx, school, editable) {
  if (!school || !school.draft) return null;
  const from = (ctx.rounds || []).find((r) => r.id === school.draft_from);
  const box = el("div", { class: "notice info inline headcount-draft", dataset: { draft: String(school.school_id) } },
    el("p", {}, badge("draft", t("hcdraft.badge")), " ",
      t("hcdraft.text", { round: from ? roundName(from) : t("hcdraft.previous_round") })));
  if (editable) {
    box.append(el("div", { class: "actions" }, button(tx("hcdraft.accept", { name: data(school.name) }), async () => {
      try {
        const saved = await api("POST", `/rounds/${ctx.round.id}/institutions/${school.school_id}/headcount/accept`);
        notice(tx("hcdraft.accepted", { name: data(school.name), total: num(saved.counts ? saved.counts.total : 0) }), "ok");
        await ctx.refresh();
      } catch (e) {
        if (e && e.name === "AbortError") return;
        notice(errorText(e), "error");
      }
    }, { kind: "primary" })));
  }
  return box;
}

// the affiliations list from the server (GET /affiliations) into a <select>, names in
// the current language; the options already there stay when it cannot be read
export async function fillAffiliations(select, signal) {
  try {
    const list = await api("GET", "/affiliations", null, { signal });
    const chosen = select.value;
    const thai = lang() === "th";
    select.replaceChildren(el("option", { value: "" }, t("common.choose")),
      ...(list.items || []).map((a) => el("option", { value: a.code, dataset: { listed: "server" } },
        thai ? a.name_th : a.name_en)));
    select.value = chosen;
  } catch (e) {
    // the built-in list stays
  }
}
