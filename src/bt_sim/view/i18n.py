"""Every word the view shows, in English and Dutch.

``STRINGS[lang][key]`` is a plain-language text; ``{name}`` fields are filled in by :func:`t`.
Both languages have the same keys and the same fields (a test checks this). Behaviour and
scenario names have their own entries (``behaviour.<name>``, ``scenario.<name>``); a name
without one is shown as it is, with spaces for underscores.
"""

from __future__ import annotations

LANGUAGES = ("en", "nl")
LANGUAGE_NAMES = {"en": "English", "nl": "Nederlands"}

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Neighbourhood collectives: how fast does change spread?",
        "language": "Language",
        "scenario": "Scenario",
        "play": "Play",
        "pause": "Pause",
        "step": "Step",
        "reset": "Reset",
        "speed": "Speed (months per second)",
        "month_of": "Month {month} of {total}",
        "finished": "The run has ended: press Reset to start again.",
        "compare": "Compare two settings side by side",
        "compare_help": "Both runs use the same town and the same chance events; only the "
        "settings differ.",
        "setting": "Setting {name}",
        "settings": "Settings",
        "subsidy": "Subsidy: % off the price of {behaviour}",
        "subsidy_behaviour": "Subsidised measure",
        "subsidy_none": "Nothing in this scenario costs money, so there is nothing to subsidise.",
        "price": "Price: EUR {price}",
        "collectives": "Number of citizen collectives (at most one per neighbourhood)",
        "bias": "Who is recruited first: 0 = everyone alike, 10 = mostly the well-off",
        "k": "Privacy: the hub reports only on groups of at least this many households",
        "collectives_inert": "In this scenario everyone adopts by the same simple rule, members "
        "or not: collectives and whom they recruit cannot change it, so these sliders are off.",
        "committed": "Committed early adopters of {behaviour} (% of households)",
        "seed": "Town number (the same number gives the same town and the same chance events; "
        "the scenario's own number shows the town bt-sim run shows first)",
        "network_title": "The town: every dot is a household",
        "colour_by": "Colour the dots by",
        "colour_count": "number of measures taken",
        "legend_none": "nothing yet",
        "legend_one": "1 measure",
        "legend_many": "{n} measures",
        "legend_yes": "does it",
        "legend_no": "not (yet)",
        "legend_member": "black ring: member of a collective",
        "legend_hosted": "orange area: neighbourhood with a collective",
        "adoption_title": "Households taking each measure (%)",
        "saving_title": "Average saving on the monthly meter reading (%)",
        "gap_title": "Inclusivity gap (percentage points)",
        "gap_help": "How many more of the other households take at least one measure than "
        "households with a low income or other disadvantage. 0 means equal.",
        "gap_now": "Now: {town} points in the whole town, {hosted} in neighbourhoods with a "
        "collective.",
        "gap_now_town": "Now: {town} points in the whole town.",
        "gap_unknown": "Not defined: this town has no disadvantaged households.",
        "axis_months": "Months",
        "axis_percent": "%",
        "axis_points": "points",
        "series_saving": "Saving",
        "series_gap": "Gap",
        "hub_title": "What the collectives' data hubs publish",
        "hub_help": "Each cell: the average saving of a group of similar households (and how "
        "many households share their data). A group is shown only when at least {k} of its "
        "households share their data; smaller groups are withheld to protect privacy.",
        "hub_withheld": "withheld",
        "hub_collective": "Collective, neighbourhood {n}",
        "hub_group": "Household size",
        "hub_cell": "{saving}% ({n})",
        "hub_none": "There are no collectives in this setting, so there is no hub.",
        "hub_off": "The collectives in this scenario have no data hub.",
        "hub_release": "Latest release: month {month}",
        "hub_no_release": "No release yet.",
        "size_all": "all",
        "size_1": "1 person",
        "size_2": "2 people",
        "size_2plus": "2 or more",
        "size_3plus": "3 or more",
        "size_3_4": "3 or 4 people",
        "size_5plus": "5 or more",
        "members": "Members of collectives: {members}",
        "error": "This combination does not work:",
        "error_detail": "Change a setting, or press Reset.",
        "offline": "Runs on this computer; nothing is sent anywhere.",
        "behaviour.lower_thermostat": "Thermostat lower",
        "behaviour.shorter_showers": "Shorter showers",
        "behaviour.draught_proofing": "Draught-proofing",
        "behaviour.insulation": "Insulation",
        "behaviour.heat_pump": "Heat pump",
        "behaviour.plant_based_meals": "Plant-based meals",
        "behaviour.new_practice": "New practice",
        "scenario.default": "Energy saving in ten neighbourhoods",
        "scenario.tipping": "Tipping point: plant-based meals",
        "scenario.interventions": "Building blocks: coach, dashboard, event, gatekeepers",
        "scenario.interventions_city": "Building blocks in a larger, poorer town",
        "scenario.bass": "Classic spread (Bass model)",
        "scenario.threshold": "Cascades over thresholds (Watts model)",
        "scenario.complex_contagion": "Spread that needs several contacts (Centola-Macy)",
        "strategy": "The network organisation's strategy (staff and money to spend)",
        "strategy.none": "None: the collectives on their own",
        "strategy.out_ready": "Start new collectives where people are most ready",
        "strategy.out_least_served": "Start new collectives where most low-income households live",
        "strategy.deep": "Support the existing collectives with staff hours",
        "strategy.linking": "Link members of different collectives",
        "strategy.out_and_deep": "Half new collectives (low-income first), half support",
        "organisation_now": "Network organisation so far: {founded} new collectives, {links} "
        "links between collectives, {hours} staff hours spent.",
    },
    "nl": {
        "title": "Buurtcollectieven: hoe snel verspreidt verandering zich?",
        "language": "Taal",
        "scenario": "Scenario",
        "play": "Afspelen",
        "pause": "Pauze",
        "step": "Stap",
        "reset": "Opnieuw",
        "speed": "Snelheid (maanden per seconde)",
        "month_of": "Maand {month} van {total}",
        "finished": "De simulatie is klaar: druk op Opnieuw om opnieuw te beginnen.",
        "compare": "Vergelijk twee instellingen naast elkaar",
        "compare_help": "Beide simulaties gebruiken dezelfde wijk en dezelfde toevalligheden; "
        "alleen de instellingen verschillen.",
        "setting": "Instelling {name}",
        "settings": "Instellingen",
        "subsidy": "Subsidie: % korting op de prijs van {behaviour}",
        "subsidy_behaviour": "Gesubsidieerde maatregel",
        "subsidy_none": "In dit scenario kost niets geld, dus er valt niets te subsidiëren.",
        "price": "Prijs: EUR {price}",
        "collectives": "Aantal bewonerscollectieven (hoogstens één per buurt)",
        "bias": "Wie wordt het eerst gevraagd: 0 = iedereen gelijk, 10 = vooral de welgestelden",
        "k": "Privacy: de hub meldt alleen iets over groepen van minstens zoveel huishoudens",
        "collectives_inert": "In dit scenario neemt iedereen een maatregel volgens dezelfde "
        "eenvoudige regel, lid of niet: collectieven en wie zij werven veranderen daar niets "
        "aan, dus deze schuifjes staan uit.",
        "committed": "Vaste voorlopers met {behaviour} (% van de huishoudens)",
        "seed": "Wijknummer (hetzelfde nummer geeft dezelfde wijk en dezelfde toevalligheden; "
        "het eigen nummer van het scenario toont de wijk die bt-sim run als eerste toont)",
        "network_title": "De wijk: elke stip is een huishouden",
        "colour_by": "Kleur de stippen naar",
        "colour_count": "aantal genomen maatregelen",
        "legend_none": "nog niets",
        "legend_one": "1 maatregel",
        "legend_many": "{n} maatregelen",
        "legend_yes": "doet het",
        "legend_no": "(nog) niet",
        "legend_member": "zwarte ring: lid van een collectief",
        "legend_hosted": "oranje vlak: buurt met een collectief",
        "adoption_title": "Huishoudens die een maatregel nemen (%)",
        "saving_title": "Gemiddelde besparing op de maandelijkse meterstand (%)",
        "gap_title": "Inclusiviteitskloof (procentpunten)",
        "gap_help": "Hoeveel meer van de overige huishoudens minstens één maatregel nemen dan "
        "huishoudens met een laag inkomen of een andere achterstand. 0 betekent gelijk.",
        "gap_now": "Nu: {town} punten in de hele wijk, {hosted} in buurten met een collectief.",
        "gap_now_town": "Nu: {town} punten in de hele wijk.",
        "gap_unknown": "Niet bepaald: deze wijk heeft geen huishoudens met een achterstand.",
        "axis_months": "Maanden",
        "axis_percent": "%",
        "axis_points": "punten",
        "series_saving": "Besparing",
        "series_gap": "Kloof",
        "hub_title": "Wat de datahubs van de collectieven publiceren",
        "hub_help": "Elk vak: de gemiddelde besparing van een groep vergelijkbare huishoudens "
        "(en hoeveel huishoudens hun gegevens delen). Een groep staat er alleen in als minstens "
        "{k} van de huishoudens hun gegevens delen; kleinere groepen worden achtergehouden om "
        "de privacy te beschermen.",
        "hub_withheld": "achtergehouden",
        "hub_collective": "Collectief, buurt {n}",
        "hub_group": "Grootte huishouden",
        "hub_cell": "{saving}% ({n})",
        "hub_none": "Er zijn geen collectieven in deze instelling, dus ook geen hub.",
        "hub_off": "De collectieven in dit scenario hebben geen datahub.",
        "hub_release": "Laatste publicatie: maand {month}",
        "hub_no_release": "Nog niets gepubliceerd.",
        "size_all": "alle",
        "size_1": "1 persoon",
        "size_2": "2 personen",
        "size_2plus": "2 of meer",
        "size_3plus": "3 of meer",
        "size_3_4": "3 of 4 personen",
        "size_5plus": "5 of meer",
        "members": "Leden van collectieven: {members}",
        "error": "Deze combinatie werkt niet:",
        "error_detail": "Verander een instelling, of druk op Opnieuw.",
        "offline": "Draait op deze computer; er wordt niets verstuurd.",
        "behaviour.lower_thermostat": "Thermostaat lager",
        "behaviour.shorter_showers": "Korter douchen",
        "behaviour.draught_proofing": "Tochtwering",
        "behaviour.insulation": "Isolatie",
        "behaviour.heat_pump": "Warmtepomp",
        "behaviour.plant_based_meals": "Plantaardig eten",
        "behaviour.new_practice": "Nieuwe gewoonte",
        "scenario.default": "Energie besparen in tien buurten",
        "scenario.tipping": "Kantelpunt: plantaardig eten",
        "scenario.interventions": "Bouwstenen: coach, dashboard, buurtfeest, sleutelfiguren",
        "scenario.interventions_city": "Bouwstenen in een grotere, armere stad",
        "scenario.bass": "Klassieke verspreiding (Bass-model)",
        "scenario.threshold": "Cascades over drempels (Watts-model)",
        "scenario.complex_contagion": "Verspreiding die meerdere contacten vraagt (Centola-Macy)",
        "strategy": "De aanpak van de netwerkorganisatie (uren en geld om in te zetten)",
        "strategy.none": "Geen: de collectieven op eigen kracht",
        "strategy.out_ready": "Nieuwe collectieven starten waar mensen er het meest klaar voor "
        "zijn",
        "strategy.out_least_served": "Nieuwe collectieven starten waar de meeste huishoudens met "
        "een laag inkomen wonen",
        "strategy.deep": "De bestaande collectieven steunen met uren van medewerkers",
        "strategy.linking": "Leden van verschillende collectieven met elkaar verbinden",
        "strategy.out_and_deep": "Half nieuwe collectieven (lage inkomens eerst), half steun",
        "organisation_now": "Netwerkorganisatie tot nu toe: {founded} nieuwe collectieven, "
        "{links} verbindingen tussen collectieven, {hours} uur van medewerkers ingezet.",
    },
}

SIZE_CLASS_KEYS = {
    1: ("size_all",),
    2: ("size_1", "size_2plus"),
    3: ("size_1", "size_2", "size_3plus"),
    4: ("size_1", "size_2", "size_3_4", "size_5plus"),
}


def t(lang: str, key: str, **fields) -> str:
    """The text ``key`` in ``lang`` (English if the language is unknown), fields filled in.

    >>> t("nl", "month_of", month=3, total=120)
    'Maand 3 van 120'
    """
    table = STRINGS.get(lang, STRINGS["en"])
    text = table[key]
    return text.format(**fields) if fields else text


def name_of(lang: str, kind: str, name: str) -> str:
    """A behaviour's, scenario's or strategy's display name (``kind`` is "behaviour",
    "scenario" or "strategy").

    >>> name_of("nl", "behaviour", "heat_pump"), name_of("en", "behaviour", "solar_panels")
    ('Warmtepomp', 'solar panels')
    """
    table = STRINGS.get(lang, STRINGS["en"])
    return table.get(f"{kind}.{name}", name.replace("_", " "))


#: Each language's decimal mark and thousands separator.
MARKS = {"en": (".", ","), "nl": (",", ".")}


def _localise(text: str, lang: str) -> str:
    """``text`` written the English way (``1,234.5``) in ``lang``'s marks."""
    decimal, thousands = MARKS.get(lang, MARKS["en"])
    return text.replace(",", "\0").replace(".", decimal).replace("\0", thousands)


def number(lang: str, value: float, digits: int = 1) -> str:
    """A number with ``digits`` decimals in the language's marks (thousands grouped); never
    a negative zero.

    >>> number("en", 12.345), number("nl", 12.345), number("nl", -0.04)
    ('12.3', '12,3', '0,0')
    >>> number("en", 9000, 0), number("nl", 9000, 0), number("nl", 1234.5)
    ('9,000', '9.000', '1.234,5')
    """
    text = f"{value:,.{digits}f}"
    if text.lstrip("-").strip("0.,") == "":
        text = text.lstrip("-")
    return _localise(text, lang)


def integer(lang: str, value: float) -> str:
    """A whole number with the language's thousands separator.

    >>> integer("en", 1590), integer("nl", 1590), integer("nl", 120)
    ('1,590', '1.590', '120')
    """
    return number(lang, round(float(value)), 0)


def short(lang: str, value: float) -> str:
    """A number as briefly as it goes (an axis tick, a month): up to six significant
    figures, no trailing zeros, in the language's marks.

    >>> short("en", 0.5), short("nl", 0.5), short("nl", 2.5), short("nl", 12000), short("en", 0)
    ('0.5', '0,5', '2,5', '12.000', '0')
    """
    if abs(value) < 1e-12:
        return "0"
    return _localise(f"{value:,.6g}", lang)
