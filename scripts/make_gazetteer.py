"""Write monitor/data/countries.toml: every ISO 3166 country with its names in several
languages, from pycountry's translations plus the common names below.

    uv run python scripts/make_gazetteer.py

The file it writes is plain data: edit it freely, or re-run this script after editing
COMMON. People, organisations and places other than countries live in
monitor/data/gazetteer.toml, which is written by hand.
"""

from __future__ import annotations

import gettext
import json
from pathlib import Path

import pycountry

LANGS = ("fr", "de", "es", "ru", "it", "pt", "nl")
OUT = Path(__file__).resolve().parents[1] / "monitor" / "data" / "countries.toml"

# Names the press uses that ISO's official forms miss. Key: alpha-2 code.
COMMON: dict[str, tuple[str, list[str]]] = {
    "US": (
        "United States",
        [
            "USA",
            "U.S.",
            "U.S.A.",
            "US",
            "United States of America",
            "Etats-Unis",
            "Estados Unidos",
            "EEUU",
            "EE.UU.",
            "США",
            "Соединённые Штаты",
            "Соединенные Штаты",
            "Vereinigte Staaten",
            "Vereinigten Staaten",
            "Stati Uniti",
        ],
    ),
    "RU": (
        "Russia",
        ["Russie", "Russland", "Rusia", "Россия", "Российская Федерация", "Fédération de Russie"],
    ),
    "GB": (
        "United Kingdom",
        [
            "UK",
            "U.K.",
            "Britain",
            "Great Britain",
            "Royaume-Uni",
            "Grande-Bretagne",
            "Großbritannien",
            "Grossbritannien",
            "Reino Unido",
            "Gran Bretaña",
            "Великобритания",
            "Британия",
            "Соединённое Королевство",
        ],
    ),
    "KR": (
        "South Korea",
        ["Corée du Sud", "Südkorea", "Corea del Sur", "Южная Корея", "Republic of Korea"],
    ),
    "KP": (
        "North Korea",
        ["Corée du Nord", "Nordkorea", "Corea del Norte", "Северная Корея", "КНДР"],
    ),
    "SY": ("Syria", ["Syrie", "Syrien", "Siria", "Сирия"]),
    "IR": ("Iran", ["Iran", "Irán", "Иран"]),
    "VE": ("Venezuela", ["Venezuela", "Венесуэла"]),
    "BO": ("Bolivia", ["Bolivie", "Bolivien", "Боливия"]),
    "TZ": ("Tanzania", ["Tanzanie", "Tansania", "Танзания"]),
    "MD": ("Moldova", ["Moldavie", "Moldau", "Moldavia", "Молдавия", "Молдова"]),
    "VN": ("Vietnam", ["Viêt Nam", "Vietnam", "Вьетнам"]),
    "LA": ("Laos", ["Laos", "Лаос"]),
    "TW": ("Taiwan", ["Taïwan", "Taiwán", "Тайвань"]),
    "PS": ("Palestine", ["Palestine", "Palästina", "Palestina", "Палестина"]),
    "CD": (
        "DR Congo",
        [
            "RDC",
            "RD Congo",
            "Democratic Republic of the Congo",
            "République démocratique du Congo",
            "ДР Конго",
        ],
    ),
    "CZ": (
        "Czech Republic",
        ["Czechia", "République tchèque", "Tchéquie", "Tschechien", "Chequia", "Чехия"],
    ),
    "NL": (
        "Netherlands",
        ["Pays-Bas", "Niederlande", "Países Bajos", "Нидерланды", "Holland", "Hollande"],
    ),
    "AE": (
        "United Arab Emirates",
        [
            "UAE",
            "Emirats arabes unis",
            "EAU",
            "Vereinigte Arabische Emirate",
            "Emiratos Árabes Unidos",
            "ОАЭ",
        ],
    ),
    "CN": ("China", ["Chine", "China", "Китай"]),
    "DE": ("Germany", ["Allemagne", "Deutschland", "Alemania", "Германия"]),
    "FR": ("France", ["Frankreich", "Francia", "Франция"]),
    "UA": ("Ukraine", ["Ucrania", "Украина"]),
    "TR": ("Turkey", ["Türkiye", "Turquie", "Türkei", "Turquía", "Турция"]),
    "VA": ("Vatican", ["Holy See", "Saint-Siège", "Vatican", "Vatikan", "Vaticano", "Ватикан"]),
    "MK": (
        "North Macedonia",
        ["Macédoine du Nord", "Nordmazedonien", "Macedonia del Norte", "Северная Македония"],
    ),
    "CI": ("Ivory Coast", ["Côte d'Ivoire", "Elfenbeinküste", "Costa de Marfil", "Кот-д’Ивуар"]),
    "BN": ("Brunei", ["Brunei", "Бруней"]),
    "FM": ("Micronesia", ["Micronésie", "Mikronesien"]),
    "IL": ("Israel", ["Israël", "Israel", "Израиль"]),
    "IN": ("India", ["Inde", "Indien", "Индия"]),
    "JP": ("Japan", ["Japon", "Japón", "Япония"]),
}
# Translations that are also common words or first names: never aliases.
SKIP = {"Maurice", "Dominique", "Man", "Réunion", "Reunion", "Guyane", "Martinique", "Jersey",
        "Island"}


def reorder(name: str) -> str:
    """'Corée, République de' -> 'République de Corée'; "Iran, République islamique d'" too;
    'Falkland Islands (Malvinas)' -> 'Falkland Islands'."""
    name = name.split(" (")[0]
    if ", " not in name:
        return name
    head, tail = name.split(", ", 1)
    return tail + ("" if tail.endswith(("'", "’")) else " ") + head


def main() -> None:
    tr = {
        lang: gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
        for lang in LANGS
    }
    lines = [
        "# Countries: the canonical English name, then the names the press uses in other languages.",
        "# Written by scripts/make_gazetteer.py from pycountry's ISO 3166 translations; edit freely.",
        "# Matching ignores case and accents and is word-bounded; short all-capital aliases (US, UK)",
        "# match only in capitals.",
        "",
    ]
    for c in sorted(pycountry.countries, key=lambda c: c.alpha_2):
        iso_names = [c.name, getattr(c, "common_name", None), getattr(c, "official_name", None)]
        name, extra = COMMON.get(
            c.alpha_2, (getattr(c, "common_name", None) or reorder(c.name), [])
        )
        aliases: list[str] = []
        for n in [*extra, *(reorder(x) for x in iso_names if x)]:
            aliases.append(n)
        for lang in LANGS:
            for n in iso_names:
                if n:
                    aliases.append(reorder(tr[lang].gettext(n)))
        seen = {name.casefold()}
        keep = []
        for a in aliases:
            a = a.replace("́", "")  # a stress mark in some Russian names
            if a.casefold() in seen or a in SKIP or len(a) < 2:
                continue
            seen.add(a.casefold())
            keep.append(a)
        lines.append(f"[{json.dumps(name, ensure_ascii=False)}]")
        lines.append('kind = "place"')
        lines.append(f"aliases = {json.dumps(keep, ensure_ascii=False)}")
        lines.append("")
    OUT.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
