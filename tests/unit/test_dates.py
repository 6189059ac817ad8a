"""DATE mentions by rules in every NER language, with ISO values."""
import pytest

from docingest.stages.dates import find_dates


@pytest.mark.parametrize(
    "language, text, mention, value",
    [
        ("en", "The talks ended on March 4, 2024 in the capital.", "March 4, 2024", "2024-03-04"),
        ("en", "Filed on 11/23/2023 by the clerk.", "11/23/2023", "2023-11-23"),
        ("pt", "A reunião foi em 7 de setembro de 2022.", "7 de setembro de 2022", "2022-09-07"),
        ("pt", "Publicado 03/02/2021 às 10h.", "03/02/2021", "2021-02-03"),
        ("id", "Rapat digelar pada 17 Agustus 2023 di balai desa.", "17 Agustus 2023", "2023-08-17"),
        ("ms", "Mesyuarat pada 2 Mei 2020.", "2 Mei 2020", "2020-05-02"),
        ("es", "El acuerdo se firmó el 12 de octubre de 2019.", "12 de octubre de 2019", "2019-10-12"),
        ("de", "Die Sitzung fand am 3. Oktober 2020 statt.", "3. Oktober 2020", "2020-10-03"),
        ("de", "Stand: 24.12.2021, Berlin", "24.12.2021", "2021-12-24"),
        ("fr", "La loi date du 1er mars 2024.", "1er mars 2024", "2024-03-01"),
        ("nl", "De wet gaat in op 1 januari 2025.", "1 januari 2025", "2025-01-01"),
        ("fr", "Il est arrivé en juin 2018.", "juin 2018", "2018-06"),
        ("es", "Llegó el 5 de mayo.", "5 de mayo", "--05-05"),
    ],
)
def test_dates_with_iso_values(language, text, mention, value):
    (date,) = find_dates(text, language)
    assert (date.text, date.value, text[date.start:date.end]) == (mention, value, mention)


@pytest.mark.parametrize(
    "language, text",
    [
        ("en", "We may 5 times try again."),  # an English month is capitalised
        ("de", "Er kam im mai 2020."),  # so is a German one
        ("en", "In 2021 the budget grew by 1.200.000."),
        ("es", "El 31 de febrero de 2023 no existe."),
        ("en", "Version 10.20.2024 of the tool."),
    ],
)
def test_non_dates(language, text):
    assert find_dates(text, language) == []


def test_unknown_language_uses_every_month_table():
    values = [d.value for d in find_dates("Le 3 juillet 2021 et am 4. Mai 2022 und 5 Desember 2023.")]
    assert values == ["2021-07-03", "2022-05-04", "2023-12-05"]
