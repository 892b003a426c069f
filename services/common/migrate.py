"""Create each service's database if missing and bring its schema to the head
revision: ``python -m services.common.migrate [service ...]``."""
import argparse
import logging
import os
import sys

import psycopg2
from alembic import command
from alembic.config import Config
from psycopg2 import sql
from sqlalchemy.engine import make_url

from services.common import settings

log = logging.getLogger("lec.migrate")

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _connect_args(url):
    u = make_url(url)
    host = u.host or u.query.get("host") or "127.0.0.1"
    return dict(host=host, port=u.port or 5432, user=u.username or "postgres",
                password=u.password or None, dbname="postgres"), u.database


def _server_connection(args):
    conn = psycopg2.connect(**{k: v for k, v in args.items() if v is not None})
    conn.autocommit = True
    return conn


def ensure_database(url):
    """CREATE DATABASE when it does not exist yet (safe when two processes race)."""
    args, name = _connect_args(url)
    conn = _server_connection(args)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone():
                return False
            try:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            except (psycopg2.errors.DuplicateDatabase, psycopg2.errors.UniqueViolation):
                return False
            log.info("created database %s", name)
            return True
    finally:
        conn.close()


def drop_database(url):
    args, name = _connect_args(url)
    conn = _server_connection(args)
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    finally:
        conn.close()


def alembic_config(service, url=None):
    cfg = Config()
    cfg.set_main_option("script_location", os.path.join(HERE, service, "migrations"))
    cfg.set_main_option("sqlalchemy.url", (url or settings.database_url(service)).replace("%", "%%"))
    return cfg


def migrate(service, url=None):
    url = url or settings.database_url(service)
    ensure_database(url)
    command.upgrade(alembic_config(service, url), "head")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("services", nargs="*", default=list(settings.SERVICES))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for service in args.services:
        if service not in settings.SERVICES:
            parser.error(f"unknown service {service!r}")
        if not os.path.isdir(os.path.join(HERE, service, "migrations")):
            log.info("%s: no migrations", service)
            continue
        migrate(service)
        log.info("%s: schema at head", service)
    return 0


if __name__ == "__main__":
    sys.exit(main())
