"""Article pages -> text and metadata (monitor.core.extract), on small pages made here."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from msgspec.structs import replace as struct_replace

from monitor.core.dedupe import merge
from monitor.core.extract import extract_page, fill
from monitor.model import Item, PageText

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
PARA = (
    "Le président de la République a reçu jeudi à l'Élysée les représentants des syndicats "
    "pour une réunion consacrée à la réforme des retraites, présentée comme décisive."
)


def _page(head: str = "", body: str = "", charset: str = "utf-8", paras: int = 8) -> str:
    text = "".join(f"<p>{PARA} Paragraphe {n}.</p>" for n in range(paras))
    return (
        f'<!doctype html><html lang="fr"><head><meta charset="{charset}"><title>Réforme</title>'
        f'<meta property="og:site_name" content="Le Quotidien">{head}</head>'
        f"<body><nav>Accueil Politique Sport</nav><article><h1>Réforme</h1>{text}{body}"
        "</article><footer>Mentions légales</footer></body></html>"
    )


def test_text_and_metadata() -> None:
    head = (
        '<meta name="author" content="Marie Dupont">'
        '<script type="application/ld+json">{"@type": "NewsArticle",'
        ' "datePublished": "2024-11-22T10:15:00+01:00"}</script>'
        '<meta property="article:published_time" content="2024-11-21T00:00:00Z">'
    )
    page = extract_page(_page(head).encode(), "https://quotidien.example/a", now=NOW)
    assert page.problem is None and page.text is not None
    assert page.text.count("Paragraphe") == 8 and "Mentions légales" not in page.text
    assert "\n\n" in page.text  # paragraphs kept apart
    assert page.published == datetime(2024, 11, 22, 9, 15, tzinfo=UTC)  # JSON-LD first
    assert page.author == "Marie Dupont" and page.site_name == "Le Quotidien"
    assert page.language == "fr"


def test_mislabelled_encoding_reads_the_bytes() -> None:
    latin1 = _page(charset="iso-8859-1").encode("iso-8859-1")
    # the header claims UTF-8: it is not even passed on; the bytes say what they are
    page = extract_page(
        latin1, "https://quotidien.example/a", now=NOW, content_type="text/html; charset=utf-8"
    )
    assert page.text is not None and "République" in page.text and "Ã" not in page.text
    undeclared = _page().replace('<meta charset="utf-8">', "").encode("utf-8")
    page = extract_page(
        undeclared,
        "https://quotidien.example/a",
        now=NOW,
        content_type="text/html; charset=iso-8859-1",
    )
    assert page.text is not None and "Élysée" in page.text


def test_future_dates_are_not_taken() -> None:
    head = '<meta property="article:published_time" content="2030-01-01T00:00:00Z">'
    assert extract_page(_page(head).encode(), "https://q.example/", now=NOW).published is None


def test_block_consent_paywall_empty_and_not_html() -> None:
    cloudflare = b"<html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>"
    assert extract_page(cloudflare, "https://q.example/", now=NOW).problem == "blocked"
    challenge = b'<html><body><script src="/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1"></script></body></html>'
    assert extract_page(challenge, "https://q.example/", now=NOW).problem == "blocked"
    consent = extract_page(_page().encode(), "https://consent.example.com/?continue=x", now=NOW)
    assert consent.problem == "consent" and consent.text is None
    wall = (
        "<html><head><title>Privacy settings</title></head><body><p>We use cookies and similar "
        "technologies. Accept all to continue, or manage your consent choices.</p></body></html>"
    )
    assert extract_page(wall.encode(), "https://q.example/", now=NOW).problem == "consent"
    teaser = (
        '<html><head><script type="application/ld+json">{"@type":"NewsArticle",'
        '"isAccessibleForFree":false}</script></head><body><article><p>'
        + " ".join(["The first lines of a story behind the wall."] * 8)
        + "</p></article></body></html>"
    )
    assert extract_page(teaser.encode(), "https://q.example/", now=NOW).problem == "paywall"
    # a full article marked as not free is still an article (served whole to us)
    full = _page(
        '<script type="application/ld+json">{"isAccessibleForFree": false}</script>', paras=12
    )
    assert extract_page(full.encode(), "https://q.example/", now=NOW).problem is None
    empty = b"<html><body><p>Nothing here.</p></body></html>"
    assert extract_page(empty, "https://q.example/", now=NOW).problem == "empty"
    pdf = extract_page(
        b"%PDF-1.7", "https://q.example/a.pdf", now=NOW, content_type="application/pdf"
    )
    assert pdf.problem == "not_html"


def test_hostile_page_text_is_inert() -> None:
    body = "<p>\x1b]8;;http://evil\x07click\x1b]8;;\x07 and \u202etxet\u202c " + PARA + "</p>"
    page = extract_page(_page(body=body).encode(), "https://q.example/", now=NOW)
    assert page.text is not None and "\x1b" not in page.text and "\u202e" not in page.text


def _item(**kw: object) -> Item:
    base = Item(
        id="i1",
        title="Réforme",
        url="https://q.example/a",
        sources=("Q",),
        published=datetime(2024, 11, 22, 8, 0, tzinfo=UTC),
        published_raw="Fri, 22 Nov 2024 08:00:00 GMT",
        date_flag=None,
        language=None,
        summary="En bref.",
        first_seen=NOW,
    )
    return struct_replace(base, **kw)


PAGE = PageText(
    text="Le texte entier.",
    author="Marie Dupont",
    published=datetime(2024, 11, 22, 9, 15, tzinfo=UTC),
    published_raw="2024-11-22T10:15:00+01:00",
    language="fr",
    site_name="Le Quotidien",
)


def test_page_metadata_fills_gaps_only() -> None:
    got = fill(_item(), PAGE)
    assert got.text == "Le texte entier." and got.text_status == "page"
    assert got.published == datetime(2024, 11, 22, 8, 0, tzinfo=UTC)  # the feed's date stays
    assert got.page_published == PAGE.published and got.site_name == "Le Quotidien"
    assert got.author == "Marie Dupont" and got.language == "fr"
    assert fill(_item(author="AFP"), PAGE).author == "AFP"
    assert fill(_item(), PAGE, override_date=True).published == PAGE.published
    undated = fill(_item(date_flag="missing", published=NOW, published_raw=None), PAGE)
    assert undated.published == PAGE.published and undated.date_flag is None
    # a guessed language gives way to the page's declared one; a configured one does not
    assert fill(_item(language="en"), PAGE, keep_language=False).language == "fr"
    assert fill(_item(language="en"), PAGE).language == "en"
    assert fill(_item(), replace(PAGE, language=None), keep_language=False).language is None


def test_a_problem_keeps_the_summary_and_says_why() -> None:
    got = fill(_item(), PageText(problem="paywall", detail="behind a paywall"))
    assert (got.text, got.text_status, got.text_error) == (None, "failed", "paywall")
    assert got.summary == "En bref." and got.to_json()["text_detail"] == "behind a paywall"


def test_page_text_survives_repolls_and_feed_text_counts() -> None:
    stored = fill(_item(), PAGE)
    assert merge(stored, _item(summary="En bref, mis à jour.")) is not None
    again = merge(stored, _item())
    assert again is None  # nothing new: the page text and its status stay
    failed = fill(_item(), PageText(problem="paywall", detail="x"))
    whole = merge(failed, _item(text="Tout le texte, dans le flux.", text_status="feed"))
    assert whole is not None and whole.text_status == "feed" and whole.text_error is None


def test_item_json_round_trip() -> None:
    item = fill(_item(), PAGE)
    assert Item.from_record(item.to_record()) == item
    for key in ("text_status", "text_error", "text_detail", "site_name", "page_published"):
        assert key in item.to_json()
