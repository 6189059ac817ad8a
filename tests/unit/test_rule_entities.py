"""Unit tests for the rule- and gazetteer-based entity extraction stage."""
from __future__ import annotations

import random

import pytest

from docingest.models import Entity
from docingest.stages.rule_entities import extract_entities

# Invented news sentences written for these tests (people and events are fictional).
FIXTURES = {
    "en": (
        "Kenya’s President Amara Odhiambo met Prime Minister Lucas Ferreira in Nairobi on "
        "March 4, 2024. Odhiambo said the African Union and the IMF would send experts. "
        "The Ministry of Finance of Kenya confirmed the visit."
    ),
    "pt": (
        "O presidente Rafael Monteiro chegou a Lisboa em 12 de abril de 2023. A ONU e o Banco "
        "Mundial apoiam o projeto, disse a porta-voz Helena Brandão. Monteiro visitará "
        "Moçambique em maio de 2024."
    ),
    "id": (
        "Presiden Budi Santoso mengunjungi Jakarta pada 17 Agustus 2022. Menurut Kementerian "
        "Luar Negeri, Santoso juga bertemu Perdana Menteri Tiongkok. Namun, Dewan Keamanan PBB "
        "belum memberi tanggapan pada Mei 2021."
    ),
}

EXPECTED = {
    "en": [
        ("Kenya", "LOC"),
        ("Amara Odhiambo", "PER"),
        ("Lucas Ferreira", "PER"),
        ("Nairobi", "LOC"),
        ("March 4, 2024", "DATE"),
        ("Odhiambo", "PER"),
        ("African Union", "ORG"),
        ("IMF", "ORG"),
        ("Ministry of Finance of Kenya", "ORG"),
    ],
    "pt": [
        ("Rafael Monteiro", "PER"),
        ("Lisboa", "LOC"),
        ("12 de abril de 2023", "DATE"),
        ("ONU", "ORG"),
        ("Banco Mundial", "ORG"),
        ("Helena Brandão", "PER"),
        ("Monteiro", "PER"),
        ("Moçambique", "LOC"),
        ("maio de 2024", "DATE"),
    ],
    "id": [
        ("Budi Santoso", "PER"),
        ("Jakarta", "LOC"),
        ("17 Agustus 2022", "DATE"),
        ("Kementerian Luar Negeri", "ORG"),
        ("Santoso", "PER"),
        ("Tiongkok", "LOC"),
        ("Dewan Keamanan PBB", "ORG"),
        ("Mei 2021", "DATE"),
    ],
}

EXTRA_SENTENCES = [
    ("en", "Secretary General of the Collective Security Treaty Organisation Lena Markova spoke in Moscow."),
    ("en", "Mr. Tan thanked Dr Ana Kovac and President of Kazakhstan Arman Sadykov."),
    ("pt", "O Secretário-Geral da OTAN falou em Moscou sobre a Ucrânia e a Rússia."),
    ("id", "Juru bicara Kremlin Ivan Sokolov berbicara di Moskow tentang Ukraina dan Rusia's."),
    ("en", "“Quoted” words, ‘single quotes’, (brackets) and a trailing possessive: Brazil’s."),
]


def pairs(entities: list[Entity]) -> list[tuple[str, str]]:
    return [(e.text, e.type) for e in entities]


def find(entities: list[Entity], text: str) -> Entity:
    matches = [e for e in entities if e.text == text]
    assert matches, f"{text!r} not found in {pairs(entities)}"
    return matches[0]


def assert_well_formed(text: str, entities: list[Entity]) -> None:
    """Offsets match the text, mentions are sorted and do not overlap."""
    for entity in entities:
        assert text[entity.start:entity.end] == entity.text
        assert entity.text.strip() == entity.text and entity.text
    for left, right in zip(entities, entities[1:]):
        assert left.end <= right.start


# ---------------------------------------------------------------- whole fixtures


@pytest.mark.parametrize("language", sorted(FIXTURES))
def test_fixture_entities_exact(language: str) -> None:
    assert pairs(extract_entities(FIXTURES[language], language)) == EXPECTED[language]


@pytest.mark.parametrize("language", sorted(FIXTURES))
def test_fixture_without_language_uses_all_cue_lists(language: str) -> None:
    for code in (None, "und", "xx"):
        assert pairs(extract_entities(FIXTURES[language], code)) == EXPECTED[language]


@pytest.mark.parametrize(
    "language, text",
    [(lang, text) for lang, text in FIXTURES.items()] + EXTRA_SENTENCES,
)
def test_offsets_always_match_text(language: str, text: str) -> None:
    for code in (language, None):
        assert_well_formed(text, extract_entities(text, code))


def test_empty_and_blank_text() -> None:
    assert extract_entities("") == []
    assert extract_entities("   \n\t ") == []
    assert extract_entities("nothing capitalised here at all.") == []


# ---------------------------------------------------------------- persons


@pytest.mark.parametrize(
    "language, text, person",
    [
        ("en", "Russian President Vera Lindqvist arrived.", "Vera Lindqvist"),
        ("en", "Prime Minister Tomas Reyes spoke.", "Tomas Reyes"),
        ("en", "the president of Ghana Kofi Mensah Boateng said", "Kofi Mensah Boateng"),
        ("pt", "O primeiro-ministro Duarte Albuquerque falou.", "Duarte Albuquerque"),
        ("pt", "disse o Secretário-Geral Paulo Viana ontem", "Paulo Viana"),
        ("id", "Perdana Menteri Armenia Arsen Hakobyan tiba.", "Arsen Hakobyan"),
        ("id", "juru bicara Dewi Lestari mengatakan", "Dewi Lestari"),
    ],
)
def test_titles_are_not_part_of_person_spans(language: str, text: str, person: str) -> None:
    entities = extract_entities(text, language)
    assert find(entities, person).type == "PER"
    assert [e.text for e in entities if e.type == "PER"] == [person]


def test_single_word_after_title_is_person() -> None:
    entities = extract_entities("Presiden Hartono dan Pak Wiryo hadir.", "id")
    assert pairs(entities) == [("Hartono", "PER"), ("Wiryo", "PER")]


def test_surname_back_reference_is_person() -> None:
    text = "Halvorsen opened the talks. Later Minister Ingrid Halvorsen left, and Halvorsen smiled."
    entities = extract_entities(text, "en")
    assert pairs(entities) == [("Halvorsen", "PER"), ("Ingrid Halvorsen", "PER"), ("Halvorsen", "PER")]


def test_lone_unknown_capitalised_word_is_not_an_entity() -> None:
    assert extract_entities("Yesterday Halvorsen opened the talks.", "en") == []


def test_names_with_diacritics_hyphens_and_particles() -> None:
    text = "Kassym-Jomart Tokayev met António Guterres and Luiz Inácio Lula da Silva."
    assert pairs(extract_entities(text, "en")) == [
        ("Kassym-Jomart Tokayev", "PER"),
        ("António Guterres", "PER"),
        ("Luiz Inácio Lula da Silva", "PER"),
    ]


def test_org_name_followed_by_person_is_split() -> None:
    text = "Secretary General of the Collective Security Treaty Organisation Lena Markova spoke in Moscow."
    assert pairs(extract_entities(text, "en")) == [
        ("Collective Security Treaty Organisation", "ORG"),
        ("Lena Markova", "PER"),
        ("Moscow", "LOC"),
    ]


# ---------------------------------------------------------------- places and organisations


@pytest.mark.parametrize(
    "language, text, place",
    [
        ("en", "Talks were held in Russia.", "Russia"),
        ("pt", "As conversas foram na Rússia.", "Rússia"),
        ("id", "Pembicaraan diadakan di Rusia.", "Rusia"),
        ("en", "He flew to Moscow.", "Moscow"),
        ("pt", "Ele voou para Moscou.", "Moscou"),
        ("id", "Dia terbang ke Moskow.", "Moskow"),
        ("pt", "Chegou ao Cazaquistão.", "Cazaquistão"),
        ("pt", "Partiu para o Quirguistão.", "Quirguistão"),
        ("id", "Delegasi dari Kirgistan dan Tiongkok.", "Kirgistan"),
        ("pt", "Visitou a Bielorrússia.", "Bielorrússia"),
        ("pt", "Voltou do Afeganistão.", "Afeganistão"),
        ("en", "A meeting in St Petersburg.", "St Petersburg"),
        ("en", "Officials of the Russian Federation met.", "Russian Federation"),
    ],
)
def test_places_across_spellings(language: str, text: str, place: str) -> None:
    assert find(extract_entities(text, language), place).type == "LOC"


def test_possessive_is_stripped_from_entity() -> None:
    for apostrophe in ("’", "'"):
        text = f"Belarus{apostrophe}s capital and the CSTO{apostrophe}s summit."
        assert pairs(extract_entities(text, "en")) == [("Belarus", "LOC"), ("CSTO", "ORG")]


@pytest.mark.parametrize("acronym", ["CSTO", "TASS", "ONU", "SCO", "OSCE", "ABCD"])
def test_acronyms_are_organisations(acronym: str) -> None:
    text = f"Delegates of the {acronym} met today."
    assert pairs(extract_entities(text, "en")) == [(acronym, "ORG")]


def test_acronym_in_place_gazetteer_is_location() -> None:
    assert pairs(extract_entities("Exports to the UK and the USA grew.", "en")) == [
        ("UK", "LOC"),
        ("USA", "LOC"),
    ]


@pytest.mark.parametrize(
    "language, text, organisation",
    [
        ("en", "The Shanghai Cooperation Organisation (SCO) met.", "Shanghai Cooperation Organisation"),
        ("en", "He studied at Moscow State University last year.", "Moscow State University"),
        ("pt", "Falou no Conselho de Segurança da ONU ontem.", "Conselho de Segurança da ONU"),
        ("pt", "O Secretariado da CSTO organizou a reunião.", "Secretariado da CSTO"),
        ("id", "Kementerian Luar Negeri Rusia menolak.", "Kementerian Luar Negeri Rusia"),
        ("id", "Saham PT Maju Bersama naik.", "PT Maju Bersama"),
    ],
)
def test_organisation_keywords(language: str, text: str, organisation: str) -> None:
    assert find(extract_entities(text, language), organisation).type == "ORG"


def test_lone_org_keyword_is_not_an_organisation() -> None:
    assert extract_entities("The Council met. Organisasi kami kuat.", None) == []


def test_demonyms_are_misc() -> None:
    entities = extract_entities("Belarusian and Ukrainian officials met.", "en")
    assert pairs(entities) == [("Belarusian", "MISC"), ("Ukrainian", "MISC")]


@pytest.mark.parametrize(
    "language, text",
    [
        ("en", "The talks ended. In the evening, However, nobody left."),
        ("pt", "Isso foi dito. Durante a reunião, Para todos, nada mudou."),
        ("id", "Namun, Selain itu, Para pejabat hadir. Saat ini sepi."),
    ],
)
def test_sentence_initial_function_words_are_not_entities(language: str, text: str) -> None:
    assert extract_entities(text, language) == []


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(
    "language, text, date, value",
    [
        ("en", "It happened on 23 November 2023 in town.", "23 November 2023", "2023-11-23"),
        ("en", "It happened on November 23, 2023 in town.", "November 23, 2023", "2023-11-23"),
        ("en", "Posted 23 Nov, 2023 21:45", "23 Nov, 2023", "2023-11-23"),
        ("en", "Stamp: 2023-11-23 12:00", "2023-11-23", "2023-11-23"),
        ("en", "until December 31, 2023.", "December 31, 2023", "2023-12-31"),
        ("en", "It will end in September 2022 or later.", "September 2022", "2022-09"),
        ("en", "They met on 23 November.", "23 November", "--11-23"),
        ("pt", "Assinado em 23 de novembro de 2023.", "23 de novembro de 2023", "2023-11-23"),
        ("pt", "adotada em 2 de dezembro de 2021 do ano", "2 de dezembro de 2021", "2021-12-02"),
        ("pt", "16 de fevereiro, Lisboa.", "16 de fevereiro", "--02-16"),
        ("pt", "em março de 2020 houve", "março de 2020", "2020-03"),
        ("id", "bentrokan pada Mei 2021 lalu", "Mei 2021", "2021-05"),
        ("id", "KTT pada 23 November di Minsk", "23 November", "--11-23"),
        ("id", "pada tanggal 5 Desember 2019", "5 Desember 2019", "2019-12-05"),
    ],
)
def test_dates_with_iso_values(language: str, text: str, date: str, value: str) -> None:
    entity = find(extract_entities(text, language), date)
    assert (entity.type, entity.value) == ("DATE", value)
    assert_well_formed(text, extract_entities(text, language))


@pytest.mark.parametrize(
    "text",
    [
        "The budget for 2021 grew.",  # a plain year is not a date
        "In 2000-an and 1624 and 2354.",
        "Prices may 5 times rise.",  # lowercase English month
        "On 31 February 2023 nothing happened.",  # impossible date
    ],
)
def test_non_dates(text: str) -> None:
    assert [e for e in extract_entities(text) if e.type == "DATE"] == []


def test_month_names_alone_are_not_entities() -> None:
    assert extract_entities("The Council meets in December. Since November we wait.", "en") == []


# ---------------------------------------------------------------- robustness


def _hostile_inputs() -> dict[str, str]:
    rng = random.Random(7)
    noise = "!?.,;:()[]{}\"'’‘-–—😀🚀🇧🇷\n\t #@$%^&*<>/\\|~`+=_0123456789aZéÉ"
    return {
        "capitals line": "ABCDEF " * 30_000,
        "one long capital word": "A" * 200_000,
        "capitalised words": "Council Alpha Beta " * 12_000,
        "connectors": "Of the of the de da " * 10_000,
        "punctuation and emoji": "".join(rng.choice(noise) for _ in range(200_000)),
        "repeated news": (" ".join(FIXTURES.values()) + "\n") * 400,
    }


@pytest.mark.parametrize("name", sorted(_hostile_inputs()))
def test_hostile_input_gives_well_formed_entities(name: str) -> None:  # its speed: bench/faults.py
    text = _hostile_inputs()[name]
    assert len(text) >= 150_000
    entities = extract_entities(text)
    assert_well_formed(text, entities)


def test_shouting_headline_is_not_a_row_of_organisations() -> None:
    assert extract_entities("BREAKING NEWS TODAY FROM THE CAPITAL", "en") == []


def test_deterministic() -> None:
    text = " ".join(FIXTURES.values())
    assert extract_entities(text) == extract_entities(text)


# ---------------------------------------------------------------- places without a gazetteer entry
# Invented places and sentences.


@pytest.mark.parametrize(
    "language, text, expected",
    [
        # keyword last (English)
        ("en", "Protesters gathered at Marlow Square before marching down Fenwick Road.",
         [("Marlow Square", "LOC"), ("Fenwick Road", "LOC")]),
        # keyword first (English)
        ("en", "A new bridge will span the River Tallis near Port Elsden.",
         [("River Tallis", "LOC"), ("Port Elsden", "LOC")]),
        # keyword first (Portuguese), connectors inside the name
        ("pt", "A feira ocupou a Praça Dom Afonso durante o fim de semana, perto da Rua Nova do Carmo.",
         [("Praça Dom Afonso", "LOC"), ("Rua Nova do Carmo", "LOC")]),
        # "Porto" is a known city, but followed by a name it starts a longer place
        ("pt", "A soja de Campo Alto do Sul segue pelo Porto Velho de Itaguaçu.",
         [("Campo Alto do Sul", "LOC"), ("Porto Velho de Itaguaçu", "LOC")]),
        # keyword first (Indonesian); the sentence-initial word before it stays out
        ("id", "Warga Kampung Sukamaju mengungsi ke tepi Sungai Cibereum.",
         [("Kampung Sukamaju", "LOC"), ("Sungai Cibereum", "LOC")]),
        # cardinal suffixes after an unknown and after a known place
        ("id", "Banjir melanda Kalimantan Timur dan Jakarta Selatan.",
         [("Kalimantan Timur", "LOC"), ("Jakarta Selatan", "LOC")]),
    ],
)
def test_place_keywords(language: str, text: str, expected: list[tuple[str, str]]) -> None:
    assert pairs(extract_entities(text, language)) == expected
    assert pairs(extract_entities(text, None)) == expected


@pytest.mark.parametrize(
    "language, text, expected",
    [
        ("en", "The Port Authority and the Brenmouth Harbour Authority met.",
         [("Port Authority", "ORG"), ("Brenmouth Harbour Authority", "ORG")]),
        ("pt", "A Câmara Municipal de Vila Serena aprovou o plano.",
         [("Câmara Municipal de Vila Serena", "ORG")]),
        ("id", "Dewan Kota Sukamaju menolak rencana itu.", [("Dewan Kota Sukamaju", "ORG")]),
    ],
)
def test_org_keywords_win_over_place_keywords(language: str, text: str, expected: list[tuple[str, str]]) -> None:
    assert pairs(extract_entities(text, language)) == expected


def test_place_keyword_surname_after_title_stays_a_person() -> None:
    assert pairs(extract_entities("Mr Damon Hill arrived.", "en")) == [("Damon Hill", "PER")]


@pytest.mark.parametrize(
    "language, text, expected",
    [
        ("en", "The ferry from Tarrow docked near Kelby.", [("Tarrow", "LOC"), ("Kelby", "LOC")]),
        ("en", "In Kelby, the vote was close.", [("Kelby", "LOC")]),
        ("pt", "Os agricultores em Ibirama colheram cedo, e no Itajubá também.",
         [("Ibirama", "LOC"), ("Itajubá", "LOC")]),
        ("id", "Relawan dikirim ke Cikarang dari Depok.", [("Cikarang", "LOC"), ("Depok", "LOC")]),
        # other lone mentions of a place found after a preposition follow it
        ("en", "Tarrow is quiet. Fishermen from Tarrow left.", [("Tarrow", "LOC"), ("Tarrow", "LOC")]),
    ],
)
def test_lone_word_after_locative_preposition_is_a_place(
    language: str, text: str, expected: list[tuple[str, str]]
) -> None:
    assert pairs(extract_entities(text, language)) == expected


@pytest.mark.parametrize(
    "language, text, expected",
    [
        ("en", "The bill passed in Parliament. The reforms stalled in Government.", []),
        ("en", "Prices rose in Housing, and housing costs grew.", []),  # a common noun here
        ("en", "Minister Olga Tarrow spoke in Tarrow.", [("Olga Tarrow", "PER"), ("Tarrow", "PER")]),
        ("pt", "Os pescadores de Araquari pedem ajuda.", []),  # "de" is not a locative cue
        ("id", "Bantuan datang dari Pemerintah pusat.", []),
    ],
)
def test_locative_preposition_non_cases(language: str, text: str, expected: list[tuple[str, str]]) -> None:
    assert pairs(extract_entities(text, language)) == expected


def test_locative_cue_skips_a_word_followed_by_another_name_word() -> None:
    """"in Kelby Marsh" is left to the multi-word rules; the cue never types "Kelby" alone."""
    entities = extract_entities("She lives in Kelby Marsh.", "en")
    assert ("Kelby", "LOC") not in pairs(entities)
