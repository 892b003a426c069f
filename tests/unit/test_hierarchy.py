from services.common import hierarchy as h


def test_paths_and_ancestry():
    assert h.make_path(None, 1) == "/1/"
    assert h.make_path("/1/7/", 42) == "/1/7/42/"
    assert h.path_ids("/1/7/42/") == [1, 7, 42]
    assert h.parent_path_of("/1/7/42/") == "/1/7/"
    assert h.parent_path_of("/1/") is None
    assert h.is_ancestor_or_self("/1/7/", "/1/7/42/")
    assert h.is_ancestor_or_self("/1/7/", "/1/7/")
    assert not h.is_strict_ancestor("/1/7/", "/1/7/")
    # id 7 is not an ancestor of id 71's children: the trailing slash matters
    assert not h.is_ancestor_or_self("/1/7/", "/1/71/5/")
    assert not h.is_ancestor_or_self("", "/1/")
    assert not h.is_ancestor_or_self(None, "/1/")


def test_authority_rules():
    assert h.can_verify("province", "/1/2/", "/1/2/3/4/")
    assert not h.can_verify("lao", "/1/2/3/", "/1/2/3/4/")
    assert not h.can_verify("province", "/1/9/", "/1/2/3/4/")
    assert h.can_close("/1/2/3/", "/1/2/3/4/") and not h.can_close("/1/2/3/4/", "/1/2/3/4/")
    assert h.can_revoke("/1/2/", "/1/2/3/") and not h.can_revoke("/1/2/3/", "/1/2/3/")
    assert h.can_create_under("/1/2/3/", "/1/2/3/")
    assert not h.can_create_under("/1/2/3/", "/1/2/")


def test_levels():
    assert h.PARENT_TYPE["cdc"] == "lao" and h.PARENT_TYPE["lao"] == "province"
    assert h.ROLE_OF_TYPE["school"] == h.ROLE_OF_TYPE["cdc"] == "institution"
    assert "other_school" not in h.ROLE_OF_TYPE


def test_database_urls_on_tcp_and_unix_socket_servers():
    from services.common.settings import with_database
    assert with_database("postgresql://postgres@127.0.0.1:5432", "lec_x") == \
        "postgresql+psycopg2://postgres@127.0.0.1:5432/lec_x"
    assert with_database("postgresql://u:p%40ss@db:5433/", "lec_x") == "postgresql+psycopg2://u:p%40ss@db:5433/lec_x"
    # the embedded server listens on a socket only
    assert with_database("postgresql://postgres:@/postgres?host=/tmp/pg", "lec_x") == \
        "postgresql+psycopg2://postgres:@/lec_x?host=%2Ftmp%2Fpg"
