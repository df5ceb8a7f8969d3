"""The shipped organisations (monitor/data/organisations.toml): found by canonical name in
French and English, one owner per alias across the data files, risky words left alone."""

from __future__ import annotations

import tomllib
from collections import defaultdict
from importlib import resources

import pytest

from monitor.core.gazetteer import alias_key, match_gazetteer
from monitor.io.annotate import gazetteer, shipped_actors

FILES = ("gazetteer.toml", "organisations.toml", "countries.toml")
# Shared before organisations.toml existed, in countries.toml (made by a script): two
# territories named Saint-Martin, and Russian forms that one stem joins.
KNOWN_SHARED = {
    ("saint", "martin"),
    ("sint", "maarten"),
    ("нигер",),
    ("виргинск", "остров"),
}


def _data(name: str) -> dict[str, dict[str, object]]:
    text = resources.files("monitor.data").joinpath(name).read_text("utf-8")
    return tomllib.loads(text)


def _names(text: str) -> list[str]:
    return [spec.name for _, _, spec in match_gazetteer(text, gazetteer())]


def test_organisations_are_shipped() -> None:
    orgs = _data("organisations.toml")
    assert 400 <= len(orgs) <= 600
    assert all(d["kind"] == "organisation" for d in orgs.values())
    shipped = {s.name for s in shipped_actors()}
    assert set(orgs) <= shipped
    assert not set(orgs) & set(_data("gazetteer.toml"))  # each where it is, once


def test_clubs_by_full_name_not_by_a_shared_nickname() -> None:
    assert _names("Manchester City beat Arsenal; the Dodgers won.") == [
        "Manchester City",
        "Arsenal",
        "Los Angeles Dodgers",
    ]
    assert _names("Spurs fans and Wolves fans met in Liverpool.") == []  # whose Spurs?
    assert _names("McDonald’s and Disney") == ["McDonald's", "Walt Disney Company"]


def test_no_alias_has_two_owners_across_the_data_files() -> None:
    owners: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for file in FILES:
        for name, d in _data(file).items():
            for alias in (name, *d.get("aliases", ())):  # type: ignore[misc]
                owners[alias_key(str(alias))].add(name)
    shared = {key: names for key, names in owners.items() if len(names) > 1}
    assert set(shared) <= KNOWN_SHARED, {k: v for k, v in shared.items() if k not in KNOWN_SHARED}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Le Rassemblement national et LFI ont voté contre, selon l'AFP.",
            ["Rassemblement national", "La France insoumise", "Agence France-Presse"],
        ),
        (
            "Le Conseil constitutionnel a censuré la loi ; la CGT appelle à la grève.",
            ["Conseil constitutionnel", "CGT"],
        ),
        (
            "Tsahal a frappé des positions du Hamas et du Hezbollah, a indiqué l'ONU.",
            ["Israel Defense Forces", "Hamas", "Hezbollah", "United Nations"],
        ),
        (
            "La Réserve fédérale et la Banque de France ; Nvidia et TotalEnergies en hausse.",
            ["Federal Reserve", "Banque de France", "Nvidia", "TotalEnergies"],
        ),
        (
            "The State Department and the FBI briefed the House of Representatives.",
            ["US State Department", "FBI", "US House of Representatives"],
        ),
        (
            "GOP senators met Labour ministers, Reuters and the Associated Press reported.",
            ["Republican Party", "Labour", "Reuters", "AP"],
        ),
        (
            "The IRGC, the Houthis and Daesh; the Bundestag and the AfD; the Duma and the FSB.",
            [
                "Islamic Revolutionary Guard Corps",
                "Houthis",
                "Islamic State group",
                "Bundestag",
                "AfD",
                "State Duma",
                "FSB",
            ],
        ),
        (
            "Médecins sans frontières and UNRWA warned the European Court of Human Rights.",
            ["Médecins Sans Frontières", "UNRWA", "European Court of Human Rights"],
        ),
        ("Путин встретился с руководством Газпрома и ФСБ.", ["Vladimir Putin", "Gazprom", "FSB"]),
        ("Глава Росатома и Газпром.", ["Rosatom", "Gazprom"]),
    ],
)
def test_organisations_are_found_by_canonical_name(text: str, expected: list[str]) -> None:
    assert _names(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "le monde entier retient son souffle ; les échos de la guerre",
        "la libération et le point de vue des voisins, le parisien du coin",
        "he works from his home office, fed up with the labour market",
        "a renaissance of reform, a meta analysis, an apple a day",
        "the amazon rainforest and an islamic state in the making",
        "un état islamique, le crédit agricole, la police nationale",
        "the guardian of the house, the democrats and the republicans",
        "el país y el mundo, die linke Hand",
    ],
)
def test_risky_aliases_do_not_fire_on_ordinary_text(text: str) -> None:
    assert _names(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Combats à Hama et à Douma, en Syrie.", ["Syria"]),  # cities, not Hamas nor the Duma
        ("L'AP-HP a ouvert une enquête.", ["AP-HP"]),  # not the AP
        ("Le TAS a rendu sa décision ; les APL baissent.", []),  # not TASS, not the PLA
        ("The RSF and RSF said so.", []),  # two organisations' initials: neither
        ("Über 100 Menschen kamen.", []),  # German, not Uber
    ],
)
def test_look_alikes_stay_apart(text: str, expected: list[str]) -> None:
    assert _names(text) == expected
