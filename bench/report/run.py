"""Summary latency at national size: the reporting read model against a GROUP BY
over an enrollment-like learners table, in the same run and database.

    make bench-report                       # national size (about 2 million learners)
    make bench-report BENCH_ARGS="--scale 5 --baseline-samples 10"   # 10 million learners
    python -m bench.report.run --scale 0.05 --samples 20

It creates a database of its own (``<LEC_DB_PREFIX>benchreport<LEC_BENCH_ID>``
on ``LEC_PG_URL``, or ``BENCH_REPORT_DB_URL``), migrates the reporting schema
into it, and loads a synthetic country after DOMAIN.md's figures, times
``--scale``: 76 provinces, about 7,850 LAOs, 20,000 CDCs, 1,100 LAO schools,
20,000 other-affiliation schools, about 2 million learners (1.2 million CDC
children, 0.8 million pupils) and about 90,000 caregivers and teachers, every
row made by ``INSERT ... SELECT generate_series`` in the database. The read
model is filled the way a rebuild fills it (facts, then
``services.reporting.rebuild.recount``); the baseline table is enrollment's own
``learners`` table definition (same columns and indexes, built after the rows
are in), holding the same learners with names and ID numbers.

For each level (department, province, LAO, institution) it times, for random
units, the service's real ``summary`` (learners by grade, sex, ID kind, CDC
ages, other-school headcounts, confirmation progress), the read model's answer
to the learner question alone (learners by grade x sex x ID kind x CDC age),
and the same learner question answered by ``GROUP BY`` over the learners of
the unit's subtree (for the first ``--baseline-samples`` units only: over the
whole country it takes seconds); it prints p50 and p99 in milliseconds, a ratio
line per level and the department's headline.
"""
import argparse
import csv
import io
import json
import os
import random
import statistics
import sys
import time

from sqlalchemy import MetaData, text
from sqlalchemy.orm import sessionmaker

from bench.common import bench_name
from services.common import migrate, settings
from services.common.context import Actor
from services.common.db import UnitOfWork, make_engine
from services.enrollment import models as enrollment_models
from services.reporting import queries, rebuild

ROUND_ID = 1
CENSUS = "2026-11-10"
FIGURES = {"provinces": 76, "laos": 7_850, "schools": 1_100, "cdcs": 20_000, "other_schools": 20_000,
           "pupils": 800_000, "children": 1_200_000}

SETTINGS = {"cdc_age": {"min_years": 2, "max_years": 5}}

BASELINE = """
SELECT grade, sex, id_kind,
       CASE WHEN grade = 'cdc' THEN date_part('year', age(DATE '{census}', birth_date))::int ELSE -1 END AS age,
       count(*)
FROM learners
WHERE round_id = :r AND institution_path LIKE :prefix AND status = 'active'
GROUP BY 1, 2, 3, 4
""".format(census=CENSUS)


def db_url():
    explicit = os.environ.get("BENCH_REPORT_DB_URL")
    if explicit:
        return settings.normalise_db_url(explicit)
    base = settings.current().pg_url.rstrip("/")
    return settings.normalise_db_url(f"{base}/{bench_name(settings.db_prefix() + 'benchreport')}")


def say(*args):
    print(*args, flush=True)


# -- loading ---------------------------------------------------------------------------

def load(engine, scale, seed):
    rng = random.Random(seed)
    n = {k: max(1, round(v * scale)) if k not in ("provinces",) else v for k, v in FIGURES.items()}
    n["provinces"] = min(76, max(1, round(76 * min(1.0, scale * 20))))
    units, next_id = [], 2
    units.append((1, "DLA", "กรมส่งเสริมการปกครองท้องถิ่น", "department", None, "/1/", 0, "active", None))
    provinces = []
    for p in range(n["provinces"]):
        provinces.append((next_id, f"/1/{next_id}/"))
        units.append((next_id, f"P{p:02d}", f"จังหวัด {p}", "province", 1, f"/1/{next_id}/", 1, "active", None))
        next_id += 1
    laos = []
    for i in range(n["laos"]):
        pid, ppath = provinces[i % len(provinces)]
        path = f"{ppath}{next_id}/"
        laos.append((next_id, path))
        units.append((next_id, f"L{i:05d}", f"อปท. {i}", "lao", pid, path, 2, "active", None))
        next_id += 1
    institutions = []
    for kind, count in (("school", n["schools"]), ("cdc", n["cdcs"]), ("other_school", n["other_schools"])):
        for i in range(count):
            lid, lpath = laos[rng.randrange(len(laos))]
            path = f"{lpath}{next_id}/"
            units.append((next_id, f"{kind[0].upper()}{i:06d}", f"{kind} {i}", kind, lid, path, 3, "active",
                          "obec" if kind == "other_school" else None))
            institutions.append((next_id, kind, path, lid))
            next_id += 1
    with engine.begin() as conn:
        conn.execute(text("""INSERT INTO rp_rounds (id, academic_year, number, census_date, opens_at, closes_at,
                             settings, version) VALUES (:r, 2569, 2, :c, now() - interval '30 days',
                             now() + interval '30 days', CAST(:s AS jsonb), 1)"""),
                     {"r": ROUND_ID, "c": CENSUS, "s": json.dumps(SETTINGS)})
        copy_rows(conn, "rp_units", ("id", "code", "name", "type", "parent_id", "path", "depth", "status",
                                     "affiliation", "version"), [u + (1,) for u in units])
        conn.execute(text("CREATE TEMP TABLE bench_inst (id bigint, kind text, path text, n int)"))
        schools = [i for i in institutions if i[1] == "school"]
        cdcs = [i for i in institutions if i[1] == "cdc"]
        rows = [(i[0], "school", i[2], n["pupils"] // len(schools) + rng.randint(-200, 200)) for i in schools]
        rows += [(i[0], "cdc", i[2], max(1, n["children"] // len(cdcs) + rng.randint(-40, 40))) for i in cdcs]
        copy_rows(conn, "bench_inst", ("id", "kind", "path", "n"), [(a, b, c, max(1, d)) for a, b, c, d in rows])
        say(f"  units: {len(units):,}; learners to make: {sum(max(1, r[3]) for r in rows):,}")
        started = time.perf_counter()
        conn.execute(text("""
            INSERT INTO rp_learners (round_id, learner_id, version, institution_id, institution_path, grade, sex,
                                     id_kind, age, active)
            SELECT :r, row_number() OVER (), 1, i.id, i.path,
                   CASE WHEN i.kind = 'cdc' THEN 'cdc'
                        ELSE (ARRAY['k1','k2','k3','p1','p2','p3','p4','p5','p6','m1','m2','m3','m4','m5','m6'])
                             [1 + (g * 7 + i.id) % 15] END,
                   CASE WHEN (g + i.id) % 2 = 0 THEN 'M' ELSE 'F' END,
                   CASE WHEN (g * 13 + i.id) % 50 = 0 THEN 'g_code' ELSE 'national_id' END,
                   CASE WHEN i.kind = 'cdc' THEN 2 + (g * 3 + i.id) % 4 ELSE -1 END,
                   (g * 31 + i.id) % 97 <> 0
            FROM bench_inst i CROSS JOIN LATERAL generate_series(1, i.n) AS g"""), {"r": ROUND_ID})
        say(f"  learner facts written in {time.perf_counter() - started:.1f}s")
        others = [i for i in institutions if i[1] == "other_school"]
        copy_rows(conn, "rp_headcounts", ("round_id", "school_id", "version", "lao_id", "school_path", "closed",
                                          "by_grade", "total"),
                  [(ROUND_ID, i[0], 1, i[3], i[2], False, '{"p1": %d, "p2": %d}' % (a, b), a + b)
                   for i in others for a, b in [(rng.randint(5, 60), rng.randint(5, 60))]])
        confirmed = [u for u in units if u[3] in ("school", "cdc", "lao") and rng.random() < 0.6]
        copy_rows(conn, "rp_confirmations", ("round_id", "unit_id", "unit_type", "unit_path", "state",
                                             "changed_at", "confirmed_at", "counts"),
                  [(ROUND_ID, u[0], u[3], u[5], "confirmed", "2026-11-05T10:00:00+07:00",
                    "2026-11-05T10:00:00+07:00", '{"total": 0, "by_grade": {}}') for u in confirmed])
        # caregivers (a caregiver teacher and one or two caregivers per CDC) and
        # teachers (one per 20 pupils) of each institution, a few of them gone
        conn.execute(text("""
            INSERT INTO rp_staff (round_id, staff_id, version, institution_id, institution_path, position, active)
            SELECT :r, row_number() OVER (), 1, i.id, i.path,
                   CASE WHEN i.kind = 'school' THEN 'teacher' WHEN g = 1 THEN 'caregiver_teacher'
                        ELSE 'caregiver' END,
                   (g * 17 + i.id) % 41 <> 0
            FROM bench_inst i
            CROSS JOIN LATERAL generate_series(1, CASE WHEN i.kind = 'school' THEN greatest(1, i.n / 20)
                                                       ELSE 2 + i.id % 2 END) AS g"""), {"r": ROUND_ID})
    started = time.perf_counter()
    with sessionmaker(engine)() as session:
        uow = UnitOfWork(session)
        rebuild.recount_units(uow)
        rebuild.recount(uow, ROUND_ID)
        uow.commit()
    say(f"  aggregates recounted (as a rebuild does) in {time.perf_counter() - started:.1f}s")
    return units


def copy_rows(conn, table, columns, rows):
    buf = io.StringIO()
    writer = csv.writer(buf)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    buf.seek(0)
    with conn.connection.cursor() as cur:
        cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '')", buf)


def load_baseline(engine):
    """Enrollment's learners table (its own definition), with the same learners."""
    metadata = MetaData()
    table = enrollment_models.learners.to_metadata(metadata)
    metadata.create_all(engine, tables=[table])
    started = time.perf_counter()
    with engine.begin() as conn:
        # the indexes are built once the rows are in (the same indexes, made faster)
        conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        indexes = conn.execute(text("""SELECT indexname, indexdef FROM pg_indexes
                                       WHERE tablename = 'learners' AND indexname NOT IN
                                       (SELECT conname FROM pg_constraint)""")).all()
        for name, _ in indexes:
            conn.execute(text(f'DROP INDEX "{name}"'))
        conn.execute(text(f"""
            INSERT INTO learners (id, round_id, institution_id, institution_path, id_kind, id_number,
                                  prefix, first_name, last_name, sex, birth_date, nationality, grade, status,
                                  removal_reason, source, version)
            SELECT learner_id, round_id, institution_id, institution_path, id_kind,
                   lpad(learner_id::text, 13, '0'), 'ด.ญ.', 'ชื่อ' || learner_id, 'นามสกุล', sex,
                   CASE WHEN grade = 'cdc' THEN DATE '{CENSUS}' - ((age * 365) + 100)
                        ELSE DATE '2015-05-01' END,
                   'ไทย', grade, CASE WHEN active THEN 'active' ELSE 'removed' END,
                   CASE WHEN active THEN NULL ELSE 'moved_out' END, 'manual', 1
            FROM rp_learners WHERE round_id = {ROUND_ID}"""))
        for _, definition in indexes:
            conn.execute(text(definition))
        conn.execute(text("ANALYZE"))
    say(f"  baseline learners table written in {time.perf_counter() - started:.1f}s")


# -- timing ------------------------------------------------------------------------------

def percentile(values, p):
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def time_ms(fn):
    started = time.perf_counter()
    result = fn()
    return (time.perf_counter() - started) * 1000, result


STAFF = """
SELECT count(*) FROM rp_staff WHERE round_id = :r AND institution_path LIKE :prefix AND active
"""


def measure(engine, units, samples, baseline_samples, seed):
    """Per level: the summary and the read model's learner question for
    ``samples`` random units, and the GROUP BY for the first
    ``baseline_samples`` of them (checked against the other two, and the
    summary's staff against a count of the staff records)."""
    rng = random.Random(seed)
    Session = sessionmaker(engine)
    by_type = {}
    for u in units:
        by_type.setdefault(u[3], []).append(u)
    levels = [("department", by_type["department"]), ("province", by_type["province"]),
              ("LAO", by_type["lao"]), ("institution", by_type["school"] + by_type["cdc"])]
    results = []
    with Session() as session:
        uow = UnitOfWork(session, actor=Actor.system("bench"))
        for name, pool in levels:
            picks = [rng.choice(pool) for _ in range(samples)]
            full, same, theirs = [], [], []
            for n, unit in enumerate(picks):
                ms, report = time_ms(lambda: queries.summary(uow, ROUND_ID, unit[0]))
                full.append(ms)
                ms, cube = time_ms(lambda: queries.learner_cube(uow, ROUND_ID, unit[0]))
                same.append(ms)
                totals = {sum(r[4] for r in cube), report["learners"]["total"]}
                if n < baseline_samples:
                    ms, rows = time_ms(lambda: session.execute(text(BASELINE),
                                                               {"r": ROUND_ID, "prefix": unit[5] + "%"}).all())
                    theirs.append(ms)
                    totals.add(sum(r[4] for r in rows))
                    staff = session.execute(text(STAFF), {"r": ROUND_ID, "prefix": unit[5] + "%"}).scalar_one()
                    if staff != report["staff"]["total"]:
                        raise SystemExit(f"the staff differ on {unit}: {staff} != {report['staff']['total']}")
                if len(totals) != 1:
                    raise SystemExit(f"the answers differ on {unit}: {totals}")
            results.append((name, full, same, theirs))
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the national figures")
    parser.add_argument("--samples", type=int, default=50, help="units timed per level")
    parser.add_argument("--baseline-samples", type=int, default=None,
                        help="of those, how many are also answered by GROUP BY (default: all; a GROUP BY over "
                             "the whole country takes seconds at --scale 5)")
    parser.add_argument("--seed", type=int, default=2569)
    args = parser.parse_args(argv)
    url = db_url()
    say(f"database {url.rsplit('/', 1)[1]} (dropped and made again)")
    migrate.drop_database(url)
    migrate.migrate("reporting", url)
    engine = make_engine(url, pool_size=2)
    try:
        say("loading a synthetic country ...")
        loading = time.perf_counter()
        units = load(engine, args.scale, args.seed)
        load_baseline(engine)
        with engine.connect() as conn:
            total = conn.execute(text("SELECT count(*) FROM rp_learners WHERE active")).scalar_one()
            cube = conn.execute(text("SELECT count(*) FROM rp_learner_counts")).scalar_one()
            staff = conn.execute(text("SELECT count(*) FROM rp_staff WHERE active")).scalar_one()
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        say(f"{total:,} active learners; {staff:,} active staff; {cube:,} aggregate rows; {len(units):,} units; "
            f"database {size / 2**30:.1f} GiB; loaded in {time.perf_counter() - loading:.0f}s")
        baseline_samples = args.samples if args.baseline_samples is None else min(args.samples,
                                                                                  max(1, args.baseline_samples))
        say(f"latency in ms, {args.samples} random units per level, the first {baseline_samples} also by "
            "GROUP BY (every answer checked against the others)")
        say("  summary: the whole report (learners by grade, sex, ID kind, level, CDC ages; other schools;")
        say("           confirmation progress); same question: learners by grade x sex x ID kind x CDC age")
        say(f"{'level':<12} {'summary p50':>12} {'p99':>8} | {'same question p50':>18} {'p99':>8} | "
            f"{'GROUP BY p50':>13} {'p99':>9} | {'GROUP BY / same':>15}")
        results = measure(engine, units, args.samples, baseline_samples, args.seed)
        for name, full, same, theirs in results:
            say(f"{name:<12} {statistics.median(full):>12.2f} {percentile(full, 99):>8.2f} | "
                f"{statistics.median(same):>18.2f} {percentile(same, 99):>8.2f} | "
                f"{statistics.median(theirs):>13.2f} {percentile(theirs, 99):>9.2f} | "
                f"{statistics.median(theirs) / statistics.median(same):>14.1f}x")
        for name, full, _, theirs in results:
            say(f"ratio {name:<12} summary p50 {statistics.median(full):.2f} ms, GROUP BY p50 "
                f"{statistics.median(theirs):.2f} ms: {statistics.median(theirs) / statistics.median(full):.1f}x")
        _, full, _, theirs = results[0]
        x, y = statistics.median(full), statistics.median(theirs)
        say(f"summary at {total:,} learners, department: p50 {x:.2f} ms (target <= 10 ms); "
            f"GROUP BY baseline p50 {y:.0f} ms: {y / x:.0f}x")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
