"""The demo's sample feeds: original short news texts, in French, English and German.

Every story has an age in minutes; the server dates it relative to the moment it starts,
so the demo always looks fresh. Reserve stories are published one by one while it runs.
The sites are under the reserved `.example` domain: the links lead nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FeedKind = Literal["rss", "atom", "json"]
# fr: « lun., 14 nov. 2016 19:05:00 +0100 »; de: « Mo, 14 Nov 2016 19:05:00 +0100 »;
# rfc822: "Mon, 14 Nov 2016 18:05:00 GMT"; iso: UTC with Z; iso-cet: Central European offset.
DateStyle = Literal["fr", "de", "rfc822", "iso", "iso-cet"]


@dataclass(frozen=True, slots=True)
class Story:
    age: int  # minutes before the server started; ignored for reserve stories
    slug: str
    title: str
    summary: str
    link: str | None = None  # set when another feed carries the same article
    text: tuple[str, ...] = ()  # full text, one string per paragraph
    author: str | None = None


@dataclass(frozen=True, slots=True)
class Feed:
    name: str
    path: str  # on the demo server
    language: str
    kind: FeedKind
    dates: DateStyle
    site: str
    description: str
    stories: tuple[Story, ...]
    reserve: tuple[Story, ...] = ()
    category: str | None = None
    guid_prefix: str | None = None  # RSS: guids like "prefix:slug" instead of the link
    guids: bool = True  # RSS: whether items carry a guid at all

    def link(self, story: Story) -> str:
        return story.link or f"{self.site}/{story.slug}"


# Articles that two feeds carry under the same link: one item with two sources.
SHARED_CALL_FR = "https://depeches-monde.example/depeches/kremlin-entretien-poutine-trump"
SHARED_CALL_EN = "https://worldwire.example/news/kremlin-putin-trump-syria"
SHARED_QUAKE_EN = "https://worldwire.example/news/new-zealand-quake"

_CALL_FR = Story(
    70,
    "kremlin-entretien-poutine-trump",
    "Le Kremlin annonce un entretien téléphonique entre Vladimir Poutine et Donald Trump",
    "Vladimir Poutine a félicité Donald Trump pour son élection lors d’un appel téléphonique, "
    "a annoncé le Kremlin. Les deux dirigeants ont jugé très mauvais l’état actuel des "
    "relations russo-américaines et sont convenus de rester en contact.",
    link=SHARED_CALL_FR,
)
_CALL_EN = Story(
    85,
    "kremlin-putin-trump-syria",
    "Kremlin: Putin and Trump discussed Syria and terrorism",
    "The two leaders talked about a settlement of the Syrian conflict and agreed to stay in "
    "touch by phone and to prepare a face-to-face meeting, according to the Kremlin's account "
    "of the call.",
    link=SHARED_CALL_EN,
)
_QUAKE_EN = Story(
    280,
    "new-zealand-quake",
    "Magnitude 7.8 earthquake strikes New Zealand's South Island, two dead",
    "The quake struck just after midnight local time, triggering a tsunami warning along the "
    "east coast and landslides that cut off the town of Kaikoura.",
    link=SHARED_QUAKE_EN,
)

LE_QUOTIDIEN = Feed(
    name="Le Quotidien",
    path="/le-quotidien.xml",
    language="fr",
    kind="rss",
    dates="fr",
    site="https://lequotidien.example/international",
    description="Le Quotidien – l’actualité internationale",
    category="France",
    stories=(
        Story(
            18,
            "poutine-trump-normaliser-relations",
            "Poutine et Trump veulent normaliser les relations entre Moscou et Washington",
            "Lors d’un premier entretien téléphonique depuis l’élection américaine, le président "
            "russe et le président élu des États-Unis sont convenus de travailler à une "
            "normalisation des relations, a indiqué le Kremlin. Les deux hommes ont aussi évoqué "
            "la lutte contre le terrorisme et le conflit syrien.",
            author="Service International",
        ),
        _CALL_FR,
        Story(
            175,
            "climat-marrakech-negociateurs",
            "Climat : à Marrakech, les négociateurs veulent préserver l’élan de l’accord de Paris",
            "Réunis au Maroc pour la COP22, les représentants de près de 200 pays cherchent à "
            "fixer les règles d’application de l’accord de Paris, entré en vigueur début "
            "novembre. L’élection américaine pèse sur les discussions.",
        ),
        Story(
            295,
            "seisme-nouvelle-zelande",
            "Nouvelle-Zélande : un séisme de magnitude 7,8 secoue l’île du Sud",
            "Un puissant tremblement de terre a frappé l’île du Sud peu après minuit, heure "
            "locale, faisant deux morts. Une alerte au tsunami a été déclenchée sur la côte est "
            "et des glissements de terrain ont coupé la ville de Kaikoura du reste du pays.",
        ),
        Story(
            415,
            "commerce-ue-royaume-uni",
            "Commerce : Bruxelles et Londres reprennent les discussions, la pêche reste "
            "le principal obstacle",
            "Les négociateurs européens et britanniques ont entamé un nouveau cycle de "
            "discussions sur leur future relation commerciale. L’accès aux eaux de pêche et les "
            "règles de concurrence restent les points les plus disputés.",
        ),
        Story(
            640,
            "moldavie-bulgarie-presidentielles",
            "Moldavie, Bulgarie : deux présidents élus favorables à un rapprochement avec "
            "la Russie",
            "Le socialiste Igor Dodon en Moldavie et l’ancien commandant de l’armée de l’air "
            "Roumen Radev en Bulgarie ont remporté dimanche le second tour de l’élection "
            "présidentielle. Tous deux plaident pour de meilleures relations avec Moscou.",
        ),
        Story(
            905,
            "super-lune",
            "Une « super Lune » d’une taille inédite depuis 1948",
            "La pleine Lune de ce lundi est la plus proche de la Terre depuis près de "
            "soixante-dix ans. Il faudra attendre 2034 pour observer à nouveau un tel phénomène.",
        ),
        Story(
            1105,
            "tempete-facade-atlantique",
            "Météo : vigilance orange pour des vents violents sur la façade atlantique",
            "Des rafales pouvant atteindre 120 km/h sont attendues sur les côtes de Bretagne et "
            "de Vendée. Les autorités recommandent de limiter les déplacements.",
        ),
        Story(
            1290,
            "syrie-alep-moscou-washington",
            "Syrie : Moscou et Washington toujours divisés sur Alep",
            "Les discussions entre diplomates russes et américains sur une trêve humanitaire "
            "n’ont pas abouti, et les combats se poursuivent autour de la ville.",
        ),
        Story(
            1510,
            "goncourt-leila-slimani",
            "Le prix Goncourt décerné à Leïla Slimani pour « Chanson douce »",
            "L’écrivaine franco-marocaine remporte le plus prestigieux des prix littéraires "
            "français avec son deuxième roman, l’histoire d’une nourrice dans une famille "
            "parisienne.",
        ),
        Story(
            1985,
            "seine-surveillance",
            "Paris : la Seine sous surveillance après une semaine de pluie",
            "Le niveau du fleuve monte lentement. Les voies sur berge ont été fermées par "
            "précaution, mais aucune crue majeure n’est attendue.",
        ),
        Story(
            2290,
            "rugby-xv-de-france",
            "Rugby : le XV de France prépare son test-match de samedi",
            "Le sélectionneur a reconduit l’essentiel de l’équipe de la semaine dernière. Les "
            "Bleus veulent confirmer leurs progrès face à un adversaire de l’hémisphère Sud.",
        ),
        Story(
            2610,
            "croissance-france",
            "Économie : la croissance française un peu plus forte que prévu",
            "Le produit intérieur brut a progressé de 0,2 % au troisième trimestre, porté par "
            "la consommation des ménages, selon une première estimation.",
        ),
    ),
    reserve=(
        Story(
            0,
            "seisme-repliques-wellington",
            "Nouvelle-Zélande : de fortes répliques ressenties jusqu’à Wellington",
            "Plusieurs répliques ont secoué la capitale néo-zélandaise, où des bureaux ont été "
            "évacués pour inspection.",
        ),
        Story(
            0,
            "kremlin-rencontre-poutine-trump",
            "Le Kremlin : pas encore de date pour une rencontre entre Poutine et Trump",
            "Le porte-parole du Kremlin a jugé trop tôt pour parler d’un sommet, tout en "
            "saluant la volonté commune d’améliorer les relations.",
        ),
        Story(
            0,
            "cop22-proclamation-marrakech",
            "COP22 : les pays adoptent la « proclamation de Marrakech »",
            "Les délégations réaffirment leur engagement en faveur de l’accord de Paris et "
            "appellent à accélérer la lutte contre le réchauffement climatique.",
        ),
        Story(
            0,
            "super-lune-images",
            "Super Lune : les plus belles images de la nuit",
            "De Lille à Marseille, les photographes amateurs ont profité d’un ciel dégagé pour "
            "observer la pleine Lune.",
        ),
    ),
)

DEPECHES_MONDE = Feed(
    name="Dépêches Monde",
    path="/depeches-monde.atom",
    language="fr",
    kind="atom",
    dates="iso-cet",
    site="https://depeches-monde.example/depeches",
    description="Dépêches Monde – le fil international",
    category="France",
    stories=(
        Story(
            40,
            "equipe-trump-confirme-appel",
            "Washington : l’équipe de Donald Trump confirme l’appel avec Vladimir Poutine",
            "L’équipe de transition du président élu a confirmé l’échange et indiqué que "
            "M. Trump souhaitait une relation solide et durable avec la Russie.",
        ),
        _CALL_FR,
        Story(
            245,
            "cop22-accord-de-paris",
            "COP22 : les pays réaffirment leur attachement à l’accord de Paris",
            "À Marrakech, les délégations ont répété que l’accord de Paris était irréversible, "
            "malgré les incertitudes sur la position des États-Unis après l’élection de "
            "Donald Trump.",
        ),
        Story(
            265,
            "nouvelle-zelande-seisme-bilan",
            "Séisme en Nouvelle-Zélande : deux morts, l’alerte au tsunami levée",
            "Les autorités ont levé l’alerte au tsunami quelques heures après le séisme de "
            "magnitude 7,8. Des centaines de touristes sont bloqués à Kaikoura.",
        ),
        Story(
            505,
            "ue-royaume-uni-negociations",
            "Négociations UE–Royaume-Uni : un nouveau cycle s’achève sans percée",
            "Les deux délégations constatent des divergences persistantes sur la pêche et les "
            "aides d’État et se retrouveront la semaine prochaine à Londres.",
        ),
        Story(
            700,
            "bulgarie-radev-elu",
            "Bulgarie : Roumen Radev élu président, le Premier ministre annonce sa démission",
            "Le candidat soutenu par les socialistes a nettement battu la candidate du parti au "
            "pouvoir. Boïko Borissov avait promis de démissionner en cas de défaite.",
        ),
        Story(
            760,
            "moldavie-dodon-elu",
            "Moldavie : le prorusse Igor Dodon remporte la présidentielle",
            "Le candidat socialiste devance la pro-européenne Maia Sandu au second tour. Il veut "
            "rééquilibrer la politique étrangère du pays en faveur de la Russie.",
        ),
        Story(
            955,
            "super-lune-monde",
            "La super Lune observée de l’Asie aux Amériques",
            "Le phénomène, visible partout dans le monde par ciel dégagé, a attiré les curieux "
            "sur les toits et les plages.",
        ),
        Story(
            1395,
            "mediterranee-sauvetages",
            "Méditerranée : des centaines de migrants secourus au large de la Libye",
            "Plusieurs navires humanitaires et garde-côtes ont participé aux opérations de "
            "sauvetage ces dernières quarante-huit heures.",
        ),
        Story(
            1640,
            "dollar-yen",
            "Changes : le dollar au plus haut depuis plusieurs mois face au yen",
            "Les marchés parient sur une hausse des taux américains et sur une politique de "
            "relance budgétaire aux États-Unis.",
        ),
        Story(
            1890,
            "inde-demonetisation",
            "Inde : longues files d’attente devant les banques après le retrait des billets",
            "Les billets de 500 et 1 000 roupies n’ont plus cours légal depuis l’annonce "
            "surprise du gouvernement, qui veut lutter contre l’argent non déclaré.",
        ),
        Story(
            2455,
            "galileo-kourou",
            "Espace : quatre satellites Galileo lancés depuis Kourou",
            "Une fusée Ariane 5 a placé en orbite quatre nouveaux satellites du système européen "
            "de navigation.",
        ),
    ),
    reserve=(
        Story(
            0,
            "moldavie-sandu-irregularites",
            "Moldavie : la candidate battue dénonce des irrégularités",
            "Maia Sandu affirme que de nombreux électeurs de la diaspora n’ont pas pu voter et "
            "demande un examen des résultats.",
        ),
        Story(
            0,
            "cop23-bonn-fidji",
            "Climat : la COP23 se tiendra à Bonn sous présidence fidjienne",
            "Les Fidji présideront la prochaine conférence, organisée en Allemagne faute "
            "d’infrastructures suffisantes dans l’archipel.",
        ),
        Story(
            0,
            "kaikoura-route-fermee",
            "Nouvelle-Zélande : la route côtière de Kaikoura fermée pour des mois",
            "Les glissements de terrain ont enseveli plusieurs tronçons de la route et de la "
            "voie ferrée qui relient la ville au reste de l’île.",
        ),
    ),
)

WORLD_WIRE = Feed(
    name="World Wire",
    path="/world-wire.rss",
    language="en",
    kind="rss",
    dates="rfc822",
    site="https://worldwire.example/news",
    description="World Wire – top international stories",
    category="Wires",
    guid_prefix="worldwire",
    stories=(
        Story(
            30,
            "putin-trump-call",
            "Putin and Trump agree in phone call to work on mending ties",
            "Russian President Vladimir Putin and US President-elect Donald Trump agreed to work "
            "towards normalising relations in their first phone call since the election, the "
            "Kremlin said. They also discussed joint efforts against terrorism.",
        ),
        _CALL_EN,
        Story(
            140,
            "kaikoura-evacuation",
            "Stranded in Kaikoura: military helicopters fly out tourists",
            "Hundreds of visitors trapped by landslides are being evacuated by air while a navy "
            "ship heads to the coastal town with supplies.",
        ),
        Story(
            200,
            "marrakech-climate-talks",
            "Marrakech climate talks: nations insist the Paris Agreement will hold",
            "Delegates from nearly 200 countries said the fight against climate change was "
            "irreversible, as the US election result cast a shadow over the UN conference in "
            "Morocco.",
        ),
        _QUAKE_EN,
        Story(
            460,
            "eu-uk-trade-round",
            "EU and UK end trade round with gaps on fishing and state aid",
            "Negotiators reported progress on customs and transport but remained apart on "
            "access to fishing waters and rules on subsidies. Talks resume next week.",
        ),
        Story(
            680,
            "bulgaria-moldova-runoffs",
            "Candidates seen as friendly to Moscow win runoffs in Bulgaria and Moldova",
            "Rumen Radev in Bulgaria and Igor Dodon in Moldova both won Sunday's presidential "
            "runoffs after campaigns calling for better ties with Russia.",
        ),
        Story(
            880,
            "supermoon",
            "Supermoon: closest full moon since 1948 lights up the sky",
            "The moon came closer to Earth than at any time in nearly 70 years, looking slightly "
            "larger and brighter than usual. The next comparable supermoon is due in 2034.",
        ),
        Story(
            1000,
            "asian-markets",
            "Asian shares mixed as investors weigh US rate outlook",
            "Markets in Tokyo rose on a weaker yen while Hong Kong and Shanghai slipped.",
        ),
        Story(
            1200,
            "oil-prices-opec",
            "Oil edges higher as producers prepare for OPEC meeting",
            "Prices rose for a second day on hopes that exporters will agree to limit output at "
            "the end of the month.",
        ),
        Story(
            1560,
            "galileo-launch",
            "Europe launches four more Galileo navigation satellites",
            "An Ariane 5 rocket lifted off from French Guiana carrying four satellites for "
            "Europe's answer to GPS.",
        ),
        Story(
            1790,
            "india-cash",
            "India's cash crunch: banks extend hours as old notes are withdrawn",
            "Queues formed outside banks across the country as people rushed to exchange 500 "
            "and 1,000 rupee notes that are no longer legal tender.",
        ),
        Story(
            2200,
            "leonard-cohen",
            "Leonard Cohen, singer and poet, dies at 82",
            "The Canadian songwriter, known for songs such as Suzanne and Hallelujah, released "
            "his final album only weeks ago.",
        ),
        Story(
            2500,
            "us-wildfires",
            "Wildfires force evacuations across the southeastern United States",
            "Dry weather and strong winds fed dozens of fires in the Appalachian region, "
            "covering several cities in smoke.",
        ),
    ),
    reserve=(
        Story(
            0,
            "kremlin-no-summit-date",
            "Kremlin says no date yet for a Putin–Trump meeting",
            "A Kremlin spokesman said it was too early to talk about a summit, but that both "
            "sides wanted to improve relations.",
        ),
        Story(
            0,
            "wellington-aftershock",
            "Strong aftershock rattles Wellington, offices closed for checks",
            "Several buildings in the capital's centre were evacuated so engineers could "
            "inspect them for damage.",
        ),
        Story(
            0,
            "radev-dialogue",
            "Bulgaria's president-elect calls for dialogue with both Brussels and Moscow",
            "Rumen Radev said Bulgaria would stay in the EU and NATO while seeking pragmatic "
            "relations with Russia.",
        ),
        Story(
            0,
            "climate-talks-close",
            "Climate talks close with a call to speed up action",
            "The Marrakech conference ended with a proclamation urging countries to raise their "
            "ambitions under the Paris Agreement.",
        ),
    ),
)

EVENING_GLOBE = Feed(
    name="Evening Globe",
    path="/evening-globe.xml",
    language="en",
    kind="rss",
    dates="iso",
    site="https://eveningglobe.example/world",
    description="The Evening Globe – world news and analysis",
    category="United Kingdom",
    stories=(
        Story(
            55,
            "analysis-putin-trump-call",
            "Analysis: what one phone call can and cannot change between Moscow and Washington",
            "A warm tone between the Kremlin and Trump Tower is not yet a policy. Sanctions, "
            "Ukraine and Syria will test how far a reset can go.",
            author="Anna Whitfield",
            text=(
                "The first phone call between Vladimir Putin and Donald Trump since the US "
                "election was, by both sides' accounts, cordial. The Kremlin said the two men "
                "agreed that relations between their countries were in a poor state and that "
                "they should work together to improve them. Mr Trump's team said he looked "
                "forward to a strong and lasting relationship with Russia.",
                "Warm words are the easy part. The sanctions imposed over Ukraine were set by "
                "Congress and the European Union as well as by the White House, and a new "
                "president cannot simply switch them off. In Syria, Moscow and Washington back "
                "opposite sides, and any joint action against militant groups would need a "
                "degree of trust that has been missing for years.",
                "Diplomats in Europe will be listening closely. Several governments, especially "
                "in the Baltic states and Poland, fear that a rapid reset could come at their "
                "expense. Others argue that a working channel between the Kremlin and the White "
                "House lowers the risk of accidents in the air and at sea.",
                "For now, the two leaders have agreed to keep talking by phone and to prepare a "
                "meeting. What they say when they finally sit down together will matter more "
                "than the tone of a first call.",
            ),
        ),
        _CALL_EN,
        Story(
            215,
            "marrakech-paris-rulebook",
            "Marrakech: climate negotiators race to write the Paris rulebook",
            "Delegates want rules on reporting and checking emissions within two years, while "
            "the US election hangs over the talks.",
            author="Priya Nair",
            text=(
                "Negotiators from nearly 200 countries are working late into the night in "
                "Marrakech to turn the Paris Agreement, which entered into force this month, "
                "into a set of rules that governments can actually follow.",
                "The questions are technical but consequential: how countries will report their "
                "emissions, how their progress will be checked, and how rich nations will show "
                "that they are keeping a promise to mobilise 100 billion dollars a year for "
                "poorer ones by 2020. Delegates say they want a first draft of the rulebook "
                "within two years.",
                "The US election has hung over the conference since its second day. Many "
                "delegates said privately that they expected the next administration to be less "
                "engaged, and several ministers used their speeches to insist that the shift to "
                "clean energy was already under way and would not be reversed by a single "
                "government.",
                "Island states and the poorest countries pressed for more money to adapt to "
                "rising seas and harsher droughts. Morocco, the host, hopes the meeting will be "
                "remembered as a conference of action rather than of promises.",
            ),
        ),
        Story(
            320,
            "new-zealand-night-of-shaking",
            "New Zealand earthquake: a night of shaking, then the long wait for help",
            "Landslides have cut off the coastal town of Kaikoura, and aftershocks are expected "
            "to continue for weeks.",
            author="Tom Harker",
            text=(
                "The shaking began just after midnight and went on for the better part of two "
                "minutes. Across the north of New Zealand's South Island, people woke to the "
                "sound of breaking glass and the sway of houses on their foundations.",
                "The magnitude 7.8 earthquake killed two people and set off a tsunami warning "
                "that sent residents of coastal towns uphill in the dark. Waves reached parts of "
                "the east coast, but the worst of the damage came from the land: landslides "
                "buried the main road and the railway line, leaving the town of Kaikoura cut "
                "off.",
                "In Wellington, across Cook Strait, office workers were told to stay at home "
                "while engineers checked buildings for damage, and operations at the port were "
                "suspended.",
                "By morning, military helicopters were flying in water and food and flying out "
                "tourists, and a navy ship was on its way. Officials warned that aftershocks "
                "could go on for weeks and that repairing the coastal road would take months.",
            ),
        ),
        Story(
            540,
            "eu-uk-trade-explainer",
            "Trade talks explained: what a deal between London and Brussels must cover",
            "Tariffs are the simple part. Fishing rights, state aid and how disputes are settled "
            "are where the negotiators are stuck.",
        ),
        Story(
            720,
            "bulgaria-pm-resigns",
            "Bulgaria's prime minister offers to resign after presidential defeat",
            "Boyko Borisov kept his promise to step down after his party's candidate lost to "
            "Rumen Radev, opening the way to early elections.",
        ),
        Story(
            860,
            "supermoon-thames",
            "In pictures: the supermoon over the Thames",
            "Londoners gathered on bridges and rooftops to watch the biggest full moon in "
            "decades rise over the city.",
        ),
        Story(
            1250,
            "electric-taxis",
            "Electric taxis: drivers weigh up the cost of switching",
            "New emission rules are pushing cab drivers towards electric models, but many say "
            "charging points are still too scarce.",
        ),
        Story(
            1700,
            "theatre-seagull",
            "Theatre review: a sharp, funny new Seagull",
            "Chekhov's comedy of thwarted ambition feels startlingly modern in a pared-back "
            "production.",
        ),
        Story(
            2100,
            "england-squad",
            "Football: England's interim manager names squad for friendly",
            "Several uncapped players have been called up for next week's match at Wembley.",
        ),
        Story(
            2650,
            "cold-snap",
            "Weather: cold snap to bring the first widespread frost of the season",
            "Temperatures are expected to fall below freezing across much of the country "
            "overnight, with snow possible on high ground in Scotland.",
        ),
    ),
    reserve=(
        Story(
            0,
            "kaikoura-first-convoy",
            "Kaikoura: first road convoy reaches the cut-off town",
            "Army trucks carrying fuel and food used a cleared inland route to reach the town.",
        ),
        Story(
            0,
            "trade-talks-resume",
            "Trade talks to resume next week, officials say",
            "British and EU officials will meet again in London, with fisheries once more at "
            "the top of the agenda.",
        ),
        Story(
            0,
            "moldova-dodon-moscow",
            "Moldova's president-elect says his first trip abroad will be to Moscow",
            "Igor Dodon said he wanted to restore trade with Russia, Moldova's former main "
            "export market.",
        ),
    ),
)

NORDIC_REVIEW = Feed(
    name="Nordic Review",
    path="/nordic-review.json",
    language="en",
    kind="json",
    dates="iso-cet",
    site="https://nordicreview.example",
    description="Nordic Review – news from the north, in English",
    category="Nordics",
    stories=(
        Story(
            110,
            "nordic-capitals-putin-trump",
            "Nordic capitals watch the Putin–Trump thaw with caution",
            "Officials in Helsinki, Stockholm and Oslo said better ties between Moscow and "
            "Washington would be welcome, but not at the expense of security in the Baltic "
            "region.",
        ),
        Story(
            255,
            "nordic-delegations-marrakech",
            "Nordic delegations at Marrakech push for faster emissions cuts",
            "Ministers from the region said the Paris Agreement should be followed quickly by "
            "concrete national plans.",
        ),
        _QUAKE_EN,
        Story(
            400,
            "markup-title",
            "[@click=app.quit]x[/]",
            "A sample item whose title looks like console markup. A careful reader shows it as "
            "plain text and never runs it.",
        ),
        Story(
            600,
            "norway-eu-uk-trade",
            "Norway follows the EU–UK trade talks closely",
            "Outside the EU but inside its single market, Norway has much at stake in the rules "
            "London and Brussels agree on.",
        ),
        Story(
            745,
            "moldova-vote-russia",
            "Moldova's vote seen as a test of Russia's pull in its neighbourhood",
            "The victory of Igor Dodon, who favours closer ties with Moscow, is being studied "
            "closely in the Baltic states.",
        ),
        Story(
            925,
            "tromso-supermoon",
            "Northern lights and a supermoon: a rare double show over Tromsø",
            "Clear skies in northern Norway gave photographers both the aurora and the "
            "brightest full moon in decades.",
        ),
        Story(
            1010,
            "escape-title",
            "Terminal escape \x1b]52;c;SGVsbG8=\x07 in a headline",
            "This title carries a terminal control sequence that would write to the clipboard "
            "if it reached the terminal. monitor removes control characters when it stores an "
            "item.",
        ),
        Story(
            1350,
            "finland-basic-income",
            "Finland prepares a two-year basic income experiment",
            "Two thousand unemployed people chosen at random will receive 560 euros a month with "
            "no conditions, starting in January.",
        ),
        Story(
            1610,
            "copenhagen-harbour-bridge",
            "Copenhagen's new harbour bridge changes the daily ride for cyclists",
            "The bridge shortens journeys between the city centre and Christianshavn for tens "
            "of thousands of cyclists a day.",
        ),
        Story(
            1810,
            "bidi-title",
            "\u202eBidi override in a headline",
            "This title begins with a right-to-left override character, which could make the "
            "text after it display backwards. monitor removes it when it stores an item.",
        ),
        Story(
            1950,
            "iceland-coalition-talks",
            "Iceland: coalition talks continue after an inconclusive election",
            "No party won a majority in last month's vote, and party leaders are still "
            "searching for a workable coalition.",
        ),
        Story(
            2310,
            "oslo-car-free",
            "Oslo presses ahead with plans for a car-free city centre",
            "The city will remove hundreds of parking spaces and widen pavements and cycle "
            "lanes over the coming years.",
        ),
        Story(
            2700,
            "baltic-fishing-quotas",
            "Baltic Sea fishing quotas set for next year",
            "Ministers agreed on catch limits for herring, sprat and salmon after scientists "
            "warned about the state of several stocks.",
        ),
    ),
    reserve=(
        Story(
            0,
            "nordic-ministers-marrakech",
            "Nordic ministers welcome the Marrakech outcome",
            "Environment ministers said the conference had kept the Paris Agreement on track "
            "and called for a review of national targets.",
        ),
        Story(
            0,
            "helsinki-kremlin-readout",
            "Helsinki studies the Kremlin's account of the Putin–Trump call",
            "Finnish diplomats said the tone of the call was encouraging but that they would "
            "wait for concrete steps.",
        ),
        Story(
            0,
            "nordic-tourists-kaikoura",
            "Nordic tourists in Kaikoura are safe, ministries say",
            "Foreign ministries in the region said all their citizens known to be in the area "
            "had been accounted for.",
        ),
    ),
)

TAGESBLICK = Feed(
    name="Tagesblick",
    path="/tagesblick.rss",
    language="de",
    kind="rss",
    dates="de",
    site="https://tagesblick.example/ausland",
    description="Tagesblick – Nachrichten aus aller Welt",
    category="Deutschland",
    guids=False,
    stories=(
        Story(
            45,
            "putin-trump-telefonat",
            "Putin und Trump wollen die Beziehungen verbessern",
            "In ihrem ersten Telefonat seit der US-Wahl haben Kremlchef Wladimir Putin und der "
            "künftige US-Präsident Donald Trump vereinbart, an einer Normalisierung der "
            "Beziehungen zu arbeiten. Auch über Syrien sei gesprochen worden, teilte der Kreml "
            "mit.",
        ),
        Story(
            230,
            "klimakonferenz-marrakesch",
            "Klimakonferenz in Marrakesch: Staaten bekennen sich zum Pariser Abkommen",
            "Trotz der Unsicherheit nach der US-Wahl wollen die fast 200 Vertragsstaaten am "
            "Klimaschutz festhalten.",
        ),
        Story(
            290,
            "erdbeben-neuseeland",
            "Schweres Erdbeben erschüttert Neuseeland",
            "Ein Beben der Stärke 7,8 hat die Südinsel Neuseelands erschüttert. Mindestens zwei "
            "Menschen kamen ums Leben, Erdrutsche schnitten den Ort Kaikoura von der Außenwelt "
            "ab.",
        ),
        Story(
            480,
            "eu-grossbritannien-handel",
            "EU und Großbritannien: Handelsgespräche ohne Durchbruch",
            "Bei Fischerei und staatlichen Beihilfen liegen die Positionen weiter auseinander. "
            "Die Verhandlungen sollen kommende Woche fortgesetzt werden.",
        ),
        Story(
            690,
            "bulgarien-moldau-wahlen",
            "Bulgarien und Moldau wählen russlandfreundliche Präsidenten",
            "In beiden Ländern setzten sich bei den Stichwahlen Kandidaten durch, die engere "
            "Beziehungen zu Moskau befürworten.",
        ),
        Story(
            870,
            "supermond",
            "Supermond: So nah war der Mond der Erde seit 1948 nicht",
            "Der Vollmond erschien in der Nacht größer und heller als gewöhnlich. Ein "
            "vergleichbares Schauspiel gibt es erst 2034 wieder.",
        ),
        Story(
            1150,
            "wetter-schnee-alpen",
            "Wetter: Erster Schnee in den Alpen erwartet",
            "Ab Mittwoch sinkt die Schneefallgrenze auf 800 Meter. Autofahrer sollten auf "
            "Winterreifen umsteigen.",
        ),
        Story(
            1450,
            "bundestag-rente",
            "Bundestag debattiert über die Zukunft der Rente",
            "Koalition und Opposition streiten über das Rentenniveau und die Finanzierung der "
            "gesetzlichen Rentenversicherung.",
        ),
        Story(
            2050,
            "weihnachtsmaerkte",
            "Weihnachtsmärkte: In vielen Städten hat der Aufbau begonnen",
            "Die ersten Märkte öffnen Ende November, viele Städte planen mehr Sicherheitskräfte "
            "ein.",
        ),
        Story(
            2400,
            "fussball-wm-qualifikation",
            "Fußball: Deutschland gewinnt deutlich gegen San Marino",
            "Die Nationalmannschaft bleibt in der WM-Qualifikation ohne Punktverlust.",
        ),
    ),
    reserve=(
        Story(
            0,
            "kreml-kein-termin",
            "Kreml: Noch kein Termin für ein Treffen von Putin und Trump",
            "Ein Sprecher des Kreml sagte, für ein Gipfeltreffen sei es noch zu früh.",
        ),
        Story(
            0,
            "nachbeben-wellington",
            "Neuseeland: Starkes Nachbeben erschüttert Wellington",
            "In der Hauptstadt wurden mehrere Bürogebäude vorsorglich geräumt.",
        ),
        Story(
            0,
            "klimagipfel-ende",
            "Klimagipfel in Marrakesch endet mit Appell zu mehr Tempo",
            "Die Staaten verabschiedeten eine Erklärung, die zu schnellerem Handeln gegen die "
            "Erderwärmung aufruft.",
        ),
    ),
)

FEEDS: tuple[Feed, ...] = (
    LE_QUOTIDIEN,
    DEPECHES_MONDE,
    WORLD_WIRE,
    EVENING_GLOBE,
    NORDIC_REVIEW,
    TAGESBLICK,
)
