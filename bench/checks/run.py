"""Checks before confirming at national size: the stored findings and tallies
(``services.enrollment.checks``) against computing the department's answer on
request, in the same run and database.

    make bench-checks                        # national size (about 2 million learners a round)
    python -m bench.checks.run --scale 0.05 --samples 20

It creates a database of its own (``<LEC_DB_PREFIX>benchchecks`` on
``LEC_PG_URL``, or ``BENCH_CHECKS_DB_URL``), migrates enrollment's schema into
it and loads a synthetic country after DOMAIN.md's figures at ``--scale``: 76
provinces, 7,850 LAOs, 1,100 LAO schools, 20,000 CDCs and 20,000 other-
affiliation schools with headcounts, in two rounds of one academic year (about
1.9 million learners in round 1, 2 million in round 2). Names, birth dates and
grades are realistic enough that a small share trips each rule: ages outside
the grade's band (near and far), likely duplicates (chance ones and entered
twice), empty CDCs, institutions that removed many learners as "not found",
totals and headcounts that moved, other schools without a headcount.

It measures, on round 2 against round 1:

(a) the full refresh of every institution and LAO, as the service's timer does
    it (``checks.seed`` then ``checks.refresh_queued`` batches of 200): units/s;
(b) ``review.report`` of the department and of a province, warm (nothing
    queued): p50 / p99 in ms;
(c) ``review.report`` of an LAO (refreshed with its institutions) and of an
    institution (refreshed): p50 / p99;
(e) ``review.check_tallies`` (the progress report's column) for the
    department's provinces and for a province's LAOs: p50 / p99;
(d) the baseline: the department's answer computed on request without the
    store (``checks.compute`` over every unit in batches of 200, summed), and
    the ratio to (b); the two answers must agree.
"""
import argparse
import json
import os
import random
import statistics
import sys
import time

from sqlalchemy import select, text
from sqlalchemy.orm import sessionmaker

from bench.common import FIRST_F, FIRST_M, LAST, SURNAME_ENDS
from bench.report.run import copy_rows, percentile, say, time_ms
from services.common import migrate, settings
from services.common.context import Actor
from services.common.db import make_engine
from services.common.values import Round, Unit
from services.enrollment import checks, review
from services.enrollment.models import check_findings, learners

FIGURES = {"provinces": 76, "laos": 7_850, "schools": 1_100, "cdcs": 20_000, "other_schools": 20_000,
           "pupils": 800_000, "children": 1_200_000}
ROUND_1 = {"id": 1, "academic_year": 2569, "number": 1, "census_date": "2026-06-10", "settings": {}}
ROUND_2 = {"id": 2, "academic_year": 2569, "number": 2, "census_date": "2026-11-10", "settings": {}}
BATCH = 200
SCHOOL_GRADES = ["k1", "k2", "k3", "p1", "p2", "p3", "p4", "p5", "p6", "m1", "m2", "m3", "m4", "m5", "m6"]

# more given names and family names than bench.common's, so that chance
# duplicates (same name, surname and birth date) stay as rare as they are
FIRST_MORE_M = ("ก้องภพ", "ณัฐภัทร", "ธนวัฒน์", "ปกรณ์", "พงศกร", "ภานุวัฒน์", "รัชชานนท์", "วีรภาพ",
                "ศักดิ์ดา", "สิรวิชญ์", "อนุชา", "อัครพล", "เจษฎา", "ชนาธิป", "ณภัทร", "ทินภัทร",
                "ธนดล", "นนทพัทธ์", "ปุณณวิช", "พชร", "ภัทรพล", "วชิรวิทย์", "ศิวกร", "อชิระ")
FIRST_MORE_F = ("กมลชนก", "ขวัญข้าว", "จิราพร", "ชญานิศ", "ฐิติมา", "ณัฐนิชา", "ธนพร", "นันทิชา",
                "ปาริชาต", "พัชราภา", "ภัทรวดี", "มนัสนันท์", "รินรดา", "วรรณิศา", "ศศิกานต์", "สุชาดา",
                "อริสา", "อัญชลี", "เกศินี", "ชลธิชา", "ณิชาภัทร", "ธัญชนก", "ปภาวรินทร์", "ลลิตา")


def db_url():
    explicit = os.environ.get("BENCH_CHECKS_DB_URL")
    if explicit:
        return settings.normalise_db_url(explicit)
    base = settings.current().pg_url.rstrip("/")
    return settings.normalise_db_url(f"{base}/{settings.db_prefix()}benchchecks")


class Uow:
    """What ``review.report_of`` needs of a unit of work."""

    def __init__(self, session, actor):
        self.session = session
        self.actor = actor

    def commit(self):
        self.session.commit()


# -- loading ---------------------------------------------------------------------------

def make_units(scale, rng):
    n = {k: max(1, round(v * scale)) for k, v in FIGURES.items()}
    n["provinces"] = min(76, max(1, round(76 * min(1.0, scale * 20))))
    rows, next_id = [(1, "DLA", "กรมส่งเสริมการปกครองท้องถิ่น", "department", None, "/1/", "active", None)], 2
    provinces = []
    for p in range(n["provinces"]):
        provinces.append((next_id, f"/1/{next_id}/"))
        rows.append((next_id, f"P{p:02d}", f"จังหวัด {p}", "province", 1, f"/1/{next_id}/", "active", None))
        next_id += 1
    laos = []
    for i in range(n["laos"]):
        pid, ppath = provinces[i % len(provinces)]
        laos.append((next_id, f"{ppath}{next_id}/"))
        rows.append((next_id, f"L{i:05d}", f"อปท. {i}", "lao", pid, laos[-1][1], "active", None))
        next_id += 1
    for kind, count in (("school", n["schools"]), ("cdc", n["cdcs"]), ("other_school", n["other_schools"])):
        for i in range(count):
            lid, lpath = laos[rng.randrange(len(laos))]
            rows.append((next_id, f"{kind[0].upper()}{i:06d}", f"{kind} {i}", kind, lid, f"{lpath}{next_id}/",
                         "active", "obec" if kind == "other_school" else None))
            next_id += 1
    return n, rows


def sizes(n, rows, rng):
    """(id, kind, path, learners in round 1, in round 2, share removed as not found)."""
    schools = [r for r in rows if r[3] == "school"]
    cdcs = [r for r in rows if r[3] == "cdc"]
    out = []
    for group, total in ((schools, n["pupils"]), (cdcs, n["children"])):
        mean = total / len(group)
        for unit in group:
            now = max(1, round(mean * rng.uniform(0.3, 1.7)))
            if unit[3] == "cdc" and rng.random() < 0.005:
                now = 0                                   # an empty CDC
            moved = rng.random()
            before = round(now / 1.35) if moved < 0.03 else round(now * rng.uniform(0.93, 0.97))
            not_found = 15 if rng.random() < 0.01 else 0  # per cent removed as not found
            out.append((unit[0], unit[3], unit[5], before, now, not_found))
    return out


# One round's learners of every institution, from a hash of (institution, row):
# the grade, sex, names, the age at the census date (now and then outside the
# grade's band: one year a query, four an error) and the birth date. Every
# 5,000th row repeats the row before under its own ID (a likely duplicate).
LEARNERS = """
INSERT INTO learners (round_id, institution_id, institution_path, id_kind, id_number, prefix, first_name,
                      last_name, sex, birth_date, nationality, grade, status, removal_reason, source)
SELECT :round, s.id, s.path, 'national_id', lpad((s.id * 100000 + g)::text, 13, '0'),
       CASE WHEN h.male THEN 'เด็กชาย' ELSE 'เด็กหญิง' END,
       CASE WHEN h.male THEN (CAST(:first_m AS text[]))[1 + h.v % :n_first_m]
            ELSE (CAST(:first_f AS text[]))[1 + h.v % :n_first_f] END,
       (CAST(:last AS text[]))[1 + (h.v / 97) % :n_last] || (CAST(:ends AS text[]))[1 + (h.v / 9973) % :n_ends],
       CASE WHEN h.male THEN 'M' ELSE 'F' END,
       (CAST(:census AS date) - make_interval(years => a.age))::date - (h.v / 7919) % 365,
       'ไทย', a.grade,
       CASE WHEN (h.v / 31) % 100 < s.not_found OR (h.v / 31) % 100 = 99 THEN 'removed' ELSE 'active' END,
       CASE WHEN (h.v / 31) % 100 < s.not_found THEN 'not_found'
            WHEN (h.v / 31) % 100 = 99 THEN 'moved_out' END,
       'import'
FROM bench_sizes s
CROSS JOIN LATERAL generate_series(1, CASE WHEN :round = 1 THEN s.before ELSE s.now END) AS g
CROSS JOIN LATERAL (SELECT CASE WHEN (g + s.id) % 5000 = 0 AND g > 1 THEN g - 1 ELSE g END AS n) AS d
CROSS JOIN LATERAL (SELECT ((s.id * 2654435761 + d.n * 40503) % 2147483629)::int AS v,
                           ((s.id * 2654435761 + d.n * 40503) % 2147483629 / 3) % 2 = 0 AS male) AS h
CROSS JOIN LATERAL (
    SELECT CASE WHEN s.kind = 'cdc' THEN 'cdc' ELSE (CAST(:grades AS text[]))[1 + (h.v / 13) % 15] END AS grade,
           CASE WHEN s.kind = 'cdc' THEN 2 + (h.v / 17) % 3
                ELSE 3 + (h.v / 13) % 15 + (h.v / 17) % 2
                     + CASE WHEN (h.v / 19) % 1000 = 1 THEN 4 WHEN (h.v / 19) % 400 = 0 THEN 2 ELSE 0 END
           END AS age) AS a
"""


def load(engine, scale, seed):
    rng = random.Random(seed)
    n, rows = make_units(scale, rng)
    inst = sizes(n, rows, rng)
    names = {"first_m": list(FIRST_M + FIRST_MORE_M), "first_f": list(FIRST_F + FIRST_MORE_F),
             "last": list(LAST) + [a + b for a in LAST[:5] for b in ("กุล", "วงศ์")], "ends": list(SURNAME_ENDS)}
    params = {**names, **{f"n_{k}": len(v) for k, v in names.items()}, "grades": SCHOOL_GRADES}
    indexes = [ix for ix in learners.indexes]
    with engine.begin() as conn:
        copy_rows(conn, "units", ("id", "code", "name", "type", "parent_id", "path", "status", "affiliation",
                                  "version"), [r + (1,) for r in rows])
        conn.execute(text("CREATE TEMP TABLE bench_sizes (id bigint, kind text, path text, before int, now int, "
                          "not_found int)"))
        copy_rows(conn, "bench_sizes", ("id", "kind", "path", "before", "now", "not_found"), inst)
        for ix in indexes:  # built once afterwards: faster than row by row
            ix.drop(conn)
        for round_ in (ROUND_1, ROUND_2):
            started = time.perf_counter()
            conn.execute(text(LEARNERS), {**params, "round": round_["id"], "census": round_["census_date"]})
            say(f"  round {round_['number']} learners written in {time.perf_counter() - started:.1f}s")
        started = time.perf_counter()
        for ix in indexes:
            ix.create(conn)
        say(f"  learner indexes built in {time.perf_counter() - started:.1f}s")
        others = [r for r in rows if r[3] == "other_school"]
        heads = []
        for unit in others:
            a, b = rng.randint(5, 60), rng.randint(5, 60)
            heads.append((1, unit[0], unit[4], unit[5], False, json.dumps({"p1": a, "p2": b}), a + b))
            luck = rng.random()
            if luck < 0.01:
                continue                                  # no headcount this round: an error
            if luck < 0.03:
                a, b = round(a * 1.4) + 3, round(b * 1.4) + 3   # moved: a query
            else:
                a, b = max(0, a + rng.randint(-2, 2)), max(0, b + rng.randint(-2, 2))
            heads.append((2, unit[0], unit[4], unit[5], False, json.dumps({"p1": a, "p2": b}), a + b))
        copy_rows(conn, "headcounts", ("round_id", "school_id", "lao_id", "school_path", "closed", "by_grade",
                                       "total"), heads)
        conn.execute(text("ANALYZE"))
    return rows


def unit_dict(row):
    return Unit(id=row[0], code=row[1], name=row[2], type=row[3], parent_id=row[4], path=row[5], status=row[6])


# -- measuring -------------------------------------------------------------------------

def full_refresh(Session, rules):
    started = time.perf_counter()
    with Session() as session:
        checks.seed(session, rules, "/1/")
        session.commit()
        queued = checks.pending(session, rules.id, "/1/")
        done = 0
        while True:
            n = checks.refresh_queued(session, rules, BATCH)
            session.commit()
            if not n:
                break
            done += n
    return queued, done, time.perf_counter() - started


def baseline(Session, rules, rows):
    """The department's answer without the store: every unit's findings computed, summed."""
    checked = [unit_dict(r) for r in rows if r[3] in checks.CHECKED_TYPES]
    totals = {"errors": 0, "queries": 0}
    severity = {code: rule["severity"] for code, rule in rules.checks["rules"].items()}
    with Session() as session:
        for start in range(0, len(checked), BATCH):
            batch = {u.id: u for u in checked[start:start + BATCH]}
            keys = {f[:4]: f[1] for f in checks.compute(session, rules, batch)}  # as refresh stores them
            for code in keys.values():
                totals["errors" if severity[code] == "error" else "queries"] += 1
        session.rollback()
    return totals


def timed_reports(Session, rules, pool, samples, rng, by_lao):
    actor = Actor.system("bench")
    times = []
    with Session() as session:
        uow = Uow(session, actor)
        for _ in range(samples):
            unit = unit_dict(rng.choice(pool))
            below = by_lao.get(unit.id, {}) if unit.type == "lao" else {}
            ms, report = time_ms(lambda: review.report_of(uow, rules, unit, below))
            times.append(ms)
    return times, report


def timed_tallies(Session, rules, pool, samples, rng, children_of):
    times = []
    with Session() as session:
        for _ in range(samples):
            unit = rng.choice(pool)
            scope = {c[0]: c[5] for c in children_of[unit[0]]}
            ms, _ = time_ms(lambda: review.tallies_of(session, rules.id, scope))
            times.append(ms)
    return times


def line(name, values):
    return f"{name:<34} {statistics.median(values):>10.2f} {percentile(values, 99):>10.2f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the national figures")
    parser.add_argument("--samples", type=int, default=20, help="reports timed per level")
    parser.add_argument("--seed", type=int, default=2569)
    args = parser.parse_args(argv)
    url = db_url()
    say(f"database {url.rsplit('/', 1)[1]} (dropped and made again)")
    migrate.drop_database(url)
    migrate.migrate("enrollment", url)
    engine = make_engine(url, pool_size=2)
    Session = sessionmaker(engine)
    rng = random.Random(args.seed)
    try:
        say(f"loading a synthetic country at scale {args.scale:g} ...")
        started = time.perf_counter()
        rows = load(engine, args.scale, args.seed)
        with engine.connect() as conn:
            by_round = dict(conn.execute(text(
                "SELECT round_id, count(*) FILTER (WHERE status = 'active') FROM learners GROUP BY 1")).all())
        kinds = {}
        for r in rows:
            kinds[r[3]] = kinds.get(r[3], 0) + 1
        say(f"  {', '.join(f'{v:,} {k}' for k, v in kinds.items())}; active learners: "
            f"round 1 {by_round.get(1, 0):,}, round 2 {by_round.get(2, 0):,} "
            f"(loaded in {time.perf_counter() - started:.1f}s)")
        rules = checks.RoundRules(Round.from_record(ROUND_2), Round.from_record(ROUND_1))

        queued, done, seconds = full_refresh(Session, rules)
        say(f"(a) full refresh (seed + refresh_queued batches of {BATCH}): {done:,} units "
            f"({queued:,} queued) in {seconds:.1f}s = {done / seconds:,.0f} units/s")
        with Session() as session:
            found = session.execute(select(check_findings.c.code, check_findings.c.severity,
                                           text("count(*)")).where(check_findings.c.round_id == rules.id)
                                    .group_by(check_findings.c.code, check_findings.c.severity)
                                    .order_by(check_findings.c.code)).all()
        say("    findings: " + ", ".join(f"{code} ({severity}) {n:,}" for code, severity, n in found))
        with engine.begin() as conn:  # autovacuum's work in a running system (it may be off here)
            conn.execute(text("ANALYZE check_state, check_findings, check_dirty, units"))

        by_type, by_lao, children_of = {}, {}, {}
        for r in rows:
            by_type.setdefault(r[3], []).append(r)
            if r[4] is not None:
                children_of.setdefault(r[4], []).append(r)
            if r[3] in checks.INSTITUTIONS:
                by_lao.setdefault(r[4], {})[r[0]] = unit_dict(r)
        say(f"latency in ms, {args.samples} samples each{'':<8} {'p50':>10} {'p99':>10}")
        department, dept_report = timed_reports(Session, rules, by_type["department"], args.samples, rng, by_lao)
        say(line("(b) department report (warm)", department))
        province, _ = timed_reports(Session, rules, by_type["province"], args.samples, rng, by_lao)
        say(line("(b) province report (warm)", province))
        lao, _ = timed_reports(Session, rules, by_type["lao"], args.samples, rng, by_lao)
        say(line("(c) LAO report (refreshed)", lao))
        institution, _ = timed_reports(Session, rules, by_type["school"] + by_type["cdc"], args.samples, rng, by_lao)
        say(line("(c) institution report (refreshed)", institution))
        tallies = timed_tallies(Session, rules, by_type["department"], args.samples, rng, children_of)
        say(line("(e) progress column, department", tallies))
        tallies = timed_tallies(Session, rules, by_type["province"], args.samples, rng, children_of)
        say(line("(e) progress column, a province", tallies))

        started = time.perf_counter()
        computed = baseline(Session, rules, rows)
        seconds = time.perf_counter() - started
        stored = dept_report["subtree"]
        say(f"(d) baseline: the department's answer computed on request: {seconds * 1000:,.0f} ms "
            f"({computed['errors']:,} errors, {computed['queries']:,} queries)")
        if (computed["errors"], computed["queries"]) != (stored["errors"], stored["queries"]):
            raise SystemExit(f"the answers differ: stored {stored}, computed {computed}")
        say(f"    stored tallies agree ({stored['errors']:,} errors, {stored['queries']:,} queries, "
            f"pending {dept_report['pending']}); baseline / department p50 = "
            f"{seconds * 1000 / statistics.median(department):,.0f}x")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
