"""The PostgreSQL server the backend's tests run on: started here, on 127.0.0.1, with
the `unaccent` extension and the `simple` text search configuration the search needs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.postgres import running_server


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    with running_server() as url:
        yield url


def test_the_server_searches_folded_words(database: str) -> None:
    import psycopg

    with psycopg.connect(database, autocommit=True) as db:
        db.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        row = db.execute(
            "SELECT to_tsvector('simple', unaccent(%s)) @@ to_tsquery('simple', %s)",
            ("Les États-Unis et la Russie", "etats <-> unis"),
        ).fetchone()
        assert row == (True,)
        row = db.execute(
            "SELECT to_tsvector('simple', unaccent(%s)) @@ to_tsquery('simple', %s)",
            ("Les États-Unis et la Russie", "unis <-> etats"),
        ).fetchone()
        assert row == (False,)
        version = db.execute("SHOW server_version_num").fetchone()
        assert version is not None and int(version[0]) >= 150000
