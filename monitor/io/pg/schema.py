"""The database's tables, as numbered migrations. `monitor store migrate` runs those a
database lacks; every open checks the number: a database older or newer than this
monitor is refused with words that say what to do. An empty database is made at once.

Each part of the backend declares its tables in its own section below."""

from __future__ import annotations

import psycopg

from monitor.io.store import StoreError

# -- the store (io/pg/store.py) ------------------------------------------------------------
STORE = """
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE SEQUENCE commits;
CREATE TABLE items(
    id text PRIMARY KEY,
    doc bigint NOT NULL,             -- core.entries.doc_key(id): what searches return
    day date NOT NULL,               -- the UTC day of `published`
    published timestamptz NOT NULL,
    first_seen timestamptz NOT NULL,
    language text,
    sources text[] NOT NULL,
    actors text[] NOT NULL,          -- canonical names, folded (`actor:`)
    annotated boolean NOT NULL,
    has_text boolean NOT NULL,
    record bytea NOT NULL,           -- the Item, msgpack
    entry bytea NOT NULL,            -- its Entry, msgpack: what dashboards load
    words tsvector NOT NULL,         -- io/pg/search.py
    seq bigint NOT NULL              -- the commit that wrote it last
);
CREATE INDEX items_published ON items(published DESC);
CREATE INDEX items_day ON items(day);
CREATE INDEX items_doc ON items(doc);
CREATE INDEX items_seq ON items(seq);
CREATE INDEX items_first_seen ON items(first_seen);
CREATE INDEX items_language ON items(language);
CREATE INDEX items_sources ON items USING gin(sources);
CREATE INDEX items_actors ON items USING gin(actors);
CREATE INDEX items_words ON items USING gin(words);
-- every identity key (guid, link, …) of every item: a copy seen again resolves to it
CREATE TABLE item_keys(key text PRIMARY KEY, id text NOT NULL);
CREATE INDEX item_keys_id ON item_keys(id);
-- items dropped by retention, so that readers following the commits forget them
CREATE TABLE dropped(id text NOT NULL, seq bigint NOT NULL,
    at timestamptz NOT NULL DEFAULT now());
CREATE TABLE store_meta(k text PRIMARY KEY, v bigint NOT NULL);
-- each day's filter index (core.index parts), as of its newest commit: derived data
CREATE TABLE day_parts(day date PRIMARY KEY, seq bigint NOT NULL, items integer NOT NULL,
    parts bytea NOT NULL);
CREATE INDEX dropped_seq ON dropped(seq);
-- records that could not be read, set aside by `monitor repair`
CREATE TABLE quarantine(id text NOT NULL, record bytea NOT NULL, why text NOT NULL,
    at timestamptz NOT NULL DEFAULT now());
-- per source: its HTTP cache and health (SourceState, msgpack) and its lease
CREATE TABLE sources(
    name text PRIMARY KEY,
    state bytea NOT NULL,
    next_due timestamptz,
    lease_owner text,
    lease_until timestamptz
);
CREATE INDEX sources_due ON sources(next_due);
"""

# -- search (io/pg/search.py) ---------------------------------------------------------------
SEARCH = """
-- unaccent is STABLE (its dictionary could change); an index needs IMMUTABLE
CREATE FUNCTION monitor_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;
-- items.words: title A, author C, sources D, body B, 100 empty positions apart
CREATE FUNCTION monitor_words(title text, body text, author text, sources text)
    RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT ts_delete(
        setweight(to_tsvector('simple', monitor_unaccent(title)), 'A') || '~:100'::tsvector
        || setweight(to_tsvector('simple', monitor_unaccent(author)), 'C') || '~:100'::tsvector
        || setweight(to_tsvector('simple', monitor_unaccent(sources)), 'D') || '~:100'::tsvector
        || setweight(to_tsvector('simple', monitor_unaccent(body)), 'B'), '~'::text) $$;
-- where a word or phrase starts, by weight (its last word a prefix when `prefix`)
CREATE FUNCTION monitor_starts(words tsvector, terms text[], prefix boolean)
    RETURNS TABLE(start int, weight text) LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT u.pos - t.k::int + 1, u.weight
        FROM unnest(words) AS v(lexeme, positions, weights)
        CROSS JOIN LATERAL unnest(v.positions, v.weights) AS u(pos, weight)
        JOIN unnest(terms) WITH ORDINALITY AS t(word, k)
            ON v.lexeme = monitor_unaccent(t.word) OR (prefix AND t.k = cardinality(terms)
                AND starts_with(v.lexeme, monitor_unaccent(t.word)))
        GROUP BY 1, 2 HAVING count(DISTINCT t.k) = cardinality(terms) $$;
-- FTS5's NEAR, in one column: the right one starts from n + its length words before
-- the left one to n + the left one's length after (io/pg/search.py)
CREATE FUNCTION monitor_near(words tsvector, lterms text[], lprefix boolean,
        rterms text[], rprefix boolean, n int)
    RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT EXISTS (SELECT 1 FROM monitor_starts(words, lterms, lprefix) l
        JOIN monitor_starts(words, rterms, rprefix) r ON l.weight = r.weight
            AND r.start - l.start BETWEEN -(n + cardinality(rterms))
                AND n + cardinality(lterms)) $$;
-- lang: as core.query_terms.language_test compares
CREATE INDEX items_language_code ON items(lower(replace(language, '_', '-')) text_pattern_ops);
-- every actor and source name ever stored: actor: and source: test the names, then ask
-- the GIN indexes of items.actors and items.sources for the ones that match
CREATE TABLE actor_names(name text PRIMARY KEY);
CREATE TABLE source_names(name text PRIMARY KEY);
CREATE FUNCTION monitor_note_names() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO actor_names SELECT DISTINCT unnest(actors) FROM fresh ORDER BY 1
        ON CONFLICT DO NOTHING;
    INSERT INTO source_names SELECT DISTINCT unnest(sources) FROM fresh ORDER BY 1
        ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER items_names_inserted AFTER INSERT ON items REFERENCING NEW TABLE AS fresh
    FOR EACH STATEMENT EXECUTE FUNCTION monitor_note_names();
CREATE TRIGGER items_names_updated AFTER UPDATE ON items REFERENCING NEW TABLE AS fresh
    FOR EACH STATEMENT EXECUTE FUNCTION monitor_note_names();
"""

# -- triage (io/triage.py, on io/pg/tables.py) -------------------------------------------------
# The folder store's triage.sqlite, each row naming its analyst ("user"; "" for shared
# rows). Searches join starred, tags and seen on the item id: indexed. Every write first
# takes the one row of triage_writes (writers take turns; readers see the count change).
TRIAGE = """
CREATE TABLE triage_writes(n bigint NOT NULL);
INSERT INTO triage_writes VALUES (0);
CREATE TABLE users("user" text PRIMARY KEY, since timestamptz NOT NULL);
CREATE TABLE seen("user" text NOT NULL, id text NOT NULL, PRIMARY KEY("user", id));
CREATE INDEX seen_id ON seen(id);
CREATE TABLE starred(
    "user" text NOT NULL, id text NOT NULL, at timestamptz NOT NULL, PRIMARY KEY("user", id));
CREATE INDEX starred_id ON starred(id);
CREATE TABLE tags(
    "user" text NOT NULL, id text NOT NULL, key text NOT NULL, name text NOT NULL,
    by text NOT NULL, at timestamptz NOT NULL, PRIMARY KEY("user", id, key));
CREATE INDEX tags_id ON tags(id);
CREATE INDEX tags_key ON tags(key);
CREATE TABLE notes(
    "user" text NOT NULL, id text NOT NULL, text text NOT NULL, at timestamptz NOT NULL,
    PRIMARY KEY("user", id));
CREATE INDEX notes_id ON notes(id);
-- the stories an analyst marked seen (actors, quotes: JSON lists), and their new angles
CREATE TABLE stories(
    "user" text NOT NULL, id text NOT NULL, at timestamptz NOT NULL, actors text NOT NULL,
    quotes text NOT NULL, PRIMARY KEY("user", id));
CREATE INDEX stories_id ON stories(id);
CREATE TABLE angles(
    "user" text NOT NULL, id text NOT NULL, story text NOT NULL, why text NOT NULL,
    at timestamptz NOT NULL, PRIMARY KEY("user", id));
CREATE INDEX angles_id ON angles(id);
"""

# -- the alert ledger (io/ledger.py, on io/pg/tables.py) ----------------------------------------
# The folder store's alerts.sqlite. UNIQUE(watch, story) and the primary key of matches
# keep an alert and a match from being recorded twice; writers take turns on
# ledger_writes. A pending delivery taken by a sender has its next_try moved on by a
# lease (`Ledger.due_deliveries`).
LEDGER = """
CREATE TABLE ledger_writes(n bigint NOT NULL);
INSERT INTO ledger_writes VALUES (0);
CREATE TABLE alerts(
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, watch text NOT NULL,
    story text NOT NULL, at timestamptz NOT NULL, sources integer NOT NULL,
    seen boolean NOT NULL DEFAULT false, data text NOT NULL, UNIQUE(watch, story));
CREATE INDEX alerts_at ON alerts(at);
CREATE TABLE matches(
    watch text NOT NULL, item text NOT NULL, alert bigint NOT NULL, words text NOT NULL,
    context text NOT NULL, at timestamptz NOT NULL, shingles bytea NOT NULL, story text,
    PRIMARY KEY(watch, item));
CREATE INDEX matches_recent ON matches(watch, at);
CREATE TABLE deliveries(
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, alert bigint NOT NULL,
    watch text NOT NULL, channel text NOT NULL, state text NOT NULL DEFAULT 'pending',
    attempts integer NOT NULL DEFAULT 0, next_try timestamptz NOT NULL, last_error text,
    done_at timestamptz, tried_at timestamptz, UNIQUE(alert, channel));
CREATE INDEX deliveries_due ON deliveries(state, next_try);
"""

# -- stories (io/story_file.py, on io/pg/tables.py) ---------------------------------------------
# The folder store's stories.sqlite: each recent item's story (derived data). Pollers
# upsert; the last to save an item's story wins.
STORIES = """
CREATE TABLE story_writes(n bigint NOT NULL);
INSERT INTO story_writes VALUES (0);
CREATE TABLE members(item text PRIMARY KEY, story text NOT NULL, seen timestamptz NOT NULL);
CREATE INDEX members_seen ON members(seen);
"""

# -- work queues (io/pg/queue.py) -----------------------------------------------------------
WORK = """
-- what stored items still need: their actors, their article page. A job per item and
-- kind, made when an item is written needing it; taken by one worker at a time (a lease)
CREATE TABLE work(
    kind text NOT NULL,              -- 'actors' or 'text'
    id text NOT NULL,                -- the item
    queued timestamptz NOT NULL DEFAULT now(),
    tries int NOT NULL DEFAULT 0,    -- times taken; given up after queue.TRIES
    lease_owner text,
    lease_until timestamptz,
    done timestamptz,                -- done or given up: kept a while, then pruned
    gave_up boolean NOT NULL DEFAULT false,
    PRIMARY KEY (kind, id)
);
CREATE INDEX work_todo ON work(kind, queued DESC) WHERE done IS NULL;
CREATE INDEX work_done ON work(done) WHERE done IS NOT NULL;
-- the items still without actors, newest first: the backlog a worker catches up
CREATE INDEX items_unannotated ON items(published DESC) WHERE NOT annotated;
"""

MIGRATIONS: dict[int, list[str]] = {
    1: [STORE, SEARCH, TRIAGE, LEDGER, STORIES, WORK],
}
VERSION = max(MIGRATIONS)
_LOCK = 7_000_001  # advisory lock: one process migrates at a time


def version(conn: psycopg.Connection) -> int:
    """The database's migration number; 0 for a database without monitor's tables."""
    found = conn.execute("SELECT to_regclass('monitor_schema')").fetchone()
    if found is None or found[0] is None:
        return 0
    row = conn.execute("SELECT max(version) FROM monitor_schema").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def migrate(conn: psycopg.Connection) -> tuple[int, int]:
    """Run the migrations the database lacks, each in one transaction; returns the
    number before and after. Refuses a database newer than this monitor."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
        before = version(conn)
        if before > VERSION:
            raise StoreError(_newer(before))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS monitor_schema("
            "version int PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())"
        )
        for number in range(before + 1, VERSION + 1):
            for script in MIGRATIONS[number]:
                if script.strip():
                    conn.execute(script)  # our own constants
            conn.execute("INSERT INTO monitor_schema(version) VALUES (%s)", (number,))
    return before, VERSION


def check(conn: psycopg.Connection, *, create: bool) -> None:
    """At open: an empty database is made (with `create`); one of another number is
    refused, saying what to do."""
    found = version(conn)
    if found == VERSION:
        return
    if found == 0 and create:
        migrate(conn)
        return
    if found == 0:
        raise StoreError("the database has no monitor tables yet: run `monitor store migrate`")
    if found < VERSION:
        raise StoreError(
            f"the database is at schema version {found}, this monitor needs {VERSION}: "
            "run `monitor store migrate` (back it up first: pg_dump)"
        )
    raise StoreError(_newer(found))


def _newer(found: int) -> str:
    return (
        f"the database is at schema version {found}, newer than this monitor's {VERSION}: "
        "upgrade monitor on this machine"
    )
