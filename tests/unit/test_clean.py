"""Unit tests for the clean stage (HTML via the block classifier, plain text via boilerplate rules).

All article text here is invented for these tests (towns, people and events are fictional).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from docingest.errors import BadInput
from docingest.models import CleanResult
from docingest.stages import clean as clean_module
from docingest.stages.boilerplate import classify_line, parse_date, remove_boilerplate
from docingest.stages.clean import clean

FIXTURES = Path(__file__).parent / "fixtures" / "clean"

# Invented article sentences (English, Indonesian, Portuguese).
EN_1 = "The city council approved a new budget for public parks on Tuesday evening."
EN_2 = "Officials said the first playgrounds would reopen before the summer holidays."
ID_1 = "Pemerintah kota meresmikan jembatan baru di atas Sungai Cerah pada Senin pagi."
ID_2 = "Warga menyambut pembukaan jembatan itu dengan pawai sepeda dan pasar makanan."
PT_1 = "A prefeitura inaugurou uma nova biblioteca pública no centro da cidade nesta terça-feira."
PT_2 = "Segundo os organizadores, mais de mil pessoas visitaram o espaço no primeiro dia."


def _between(first: str, chrome: str, second: str) -> str:
    return f"{first}\n{chrome}\n{second}\n"


def _assert_removed(text: str, chrome_lines: list[str], kept: list[str]) -> CleanResult:
    result = clean(text, "text/plain")
    paragraphs = result.text.split("\n\n")
    for line in chrome_lines:
        assert line not in paragraphs, f"chrome line kept: {line!r}"
    for sentence in kept:
        assert sentence in paragraphs, f"article sentence lost: {sentence!r}"
    return result


# --- one case per boilerplate family: chrome goes, neighbouring sentences stay ---

FAMILY_CASES = {
    "icon_dump": (EN_1, EN_2, ["searchicon shareicon chevron downicon closeicon mailicon tagicon"]),
    "menu_words": (ID_1, ID_2, ["Beranda Nasional Daerah Ekonomi Olahraga Hiburan Teknologi Otomotif"]),
    "menu_separators": (EN_1, EN_2, ["News | Sport | Weather | Opinion | Travel"]),
    "read_more_en": (EN_1, EN_2, ["READ MORE: Harbour festival breaks attendance record", "See also: Ferry timetable"]),
    "read_more_id": (ID_1, ID_2, ["Baca juga: Harga cabai turun menjelang musim panen", "Simak juga video pawai"]),
    "read_more_pt": (PT_1, PT_2, ["Leia também: Chuva forte atinge o litoral norte", "Veja também"]),
    "read_more_es_fr_de": (EN_1, EN_2, ["Lea también: Nueva ruta de autobús", "Lire aussi : Le marché", "Mehr zum Thema"]),
    "ad_shortcodes": (ID_1, ID_2, ["[iklan_2]", "[ads]", "[ad_1]", "[advertisement]"]),
    "ad_labels": (EN_1, EN_2, ["ADVERTISEMENT", "Advertisement", "Iklan", "Publicidade", "Scroll to continue"]),
    "comment_counters": (PT_1, PT_2, ["Komentar (0)", "Comments (12)", "12 comments", "Comentários (3)"]),
    "share_bars": (
        EN_1,
        EN_2,
        ["Share", "Tweet", "Facebook Twitter WhatsApp Telegram", "Bagikan", "Compartilhe", "Copy link"],
    ),
    "gallery_counters": (PT_1, PT_2, ["5 of 21", "3 dari 10", "2 de 15", "Photo 3/12"]),
    "photo_credits": (
        EN_1,
        EN_2,
        [
            "Photo: Ana Prado/Riverside Courier",
            "Foto: Dok. Pemkot Lestari",
            "Photo by Jamie Cole",
            "Image: Town archive",
            "Credit: Harbour Authority",
            "The new footbridge at dawn on Monday. © Liang Wei",
            "Warga memadati alun-alun kota, Senin (4/3/2024). (Foto: Budi Santoso)",
            "Firefighters at the scene on Sunday. Getty Images",
            "Volunteers clean the beach near the pier. REUTERS/Ana Lima",
        ],
    ),
    "tag_block": (EN_1, EN_2, ["Tags", "parks", "city budget", "Topics", "council"]),
    "tag_block_id": (ID_1, ID_2, ["Topik:", "Jembatan", "Transportasi"]),
    "tag_block_pt": (PT_1, PT_2, ["Tópicos", "Biblioteca", "Cultura"]),
    "tags_inline": (EN_1, EN_2, ["Tags: parks, budget, council"]),
    "source_links": (ID_1, ID_2, ["Tautan sumber", "Source link", "Link fonte", "Fonte: Agência Municipal"]),
    "publication_data": (
        EN_1,
        EN_2,
        ["Publication date: March 4, 2024, 15:40", "Published in sections: News, Local", "Text version"],
    ),
    "print_email": (EN_1, EN_2, ["Print", "Email", "Print Email Bookmark"]),
    "cookies_newsletter": (
        EN_1,
        EN_2,
        ["We use cookies to give you the best experience on our site. Accept", "Subscribe to our newsletter"],
    ),
    "copyright_follow": (
        PT_1,
        PT_2,
        [
            "© 2024 Jornal da Serra",
            "Todos os direitos reservados.",
            "Hak cipta dilindungi undang-undang.",
            "All rights reserved",
            "Follow us on Instagram",
        ],
    ),
    "date_and_time_lines": (
        EN_1, EN_2, ["March 4, 2024", "14:30", "Kamis, 23 November 2023 21:45 WIB", "· Updated 4:05pm"]
    ),
    "metadata_cluster": (EN_1, EN_2, ["November 23, 2023", "15:40", "Port Kessel", "5 of 21"]),
    "separators": (PT_1, PT_2, ["* * *", "---", "<…>"]),
}


@pytest.mark.parametrize("family", sorted(FAMILY_CASES))
def test_boilerplate_family_removed_and_article_kept(family: str) -> None:
    first, second, chrome = FAMILY_CASES[family]
    text = _between(first, "\n".join(chrome), second)
    result = _assert_removed(text, chrome, [first, second])
    assert result.removed_lines >= len(chrome)


def test_every_kept_line_is_a_paragraph_with_one_blank_line_between() -> None:
    result = clean(f"\n\n  {EN_1}  \n\n\n\n{EN_2}\n\n", "text/plain")
    assert result.text == f"{EN_1}\n\n{EN_2}"


def test_link_split_sentence_is_joined() -> None:
    text = (
        f"{EN_1}\n"
        "Among the guests were the mayor Ana Prado\n"
        ", the fire chief Luis Mendes\n"
        ", and the head teacher Rosa Lima\n"
        ".\n"
        f"{EN_2}\n"
    )
    result = clean(text, "text/plain")
    assert "Among the guests were the mayor Ana Prado, the fire chief Luis Mendes, and the head teacher Rosa Lima." in (
        result.text.split("\n\n")
    )


def test_speech_and_short_body_lines_are_kept() -> None:
    body = [
        EN_1,
        "Mayor Ana Prado: Colleagues, friends,",
        "Today we open the bridge that our grandparents asked for.",
        "Colleagues,",
        '"We will rebuild the pier before the autumn storms," she said.',
        "Next steps",
        "The council will vote on the pier repairs in April, and residents can send comments until then.",
        EN_2,
    ]
    result = clean("\n".join(body), "text/plain")
    assert result.text.split("\n\n") == body
    assert result.removed_lines == 0


def test_sentences_mentioning_photos_agencies_or_related_are_kept() -> None:
    body = [
        "Related to the flooding, the council said it would buy two more pumps for the harbour district.",
        "A Reuters photographer and two local reporters were the first to reach the village on Sunday.",
        "The museum will show photos: portraits, street scenes and old maps of the harbour.",
        "Readers can share their own memories of the old bridge by writing to the town archive.",
    ]
    text = "\n".join([EN_1, *body, EN_2])
    assert clean(text, "text/plain").text.split("\n\n") == [EN_1, *body, EN_2]


# --- header and footer chrome, title, published ---

EN_PAGE = """The Riverside Courier
News Local
Council approves new budget for parks
March 4, 2024
Port Kessel
The city council approved a new budget for public parks on Tuesday evening.
Officials said the first playgrounds would reopen before the summer holidays.
Council approves new budget for parks
About us
Contact
"""


def test_plain_text_header_footer_title_and_date() -> None:
    result = clean(EN_PAGE, "text/plain")
    assert result.title == "Council approves new budget for parks"
    assert result.published == "2024-03-04"
    assert result.text == f"{EN_1}\n\n{EN_2}"
    assert result.removed_lines == 8


def test_title_prefers_the_repeated_headline() -> None:
    text = (
        "Courier Online\n"
        "Harbour cranes return after two-year repair\n"
        "Regional trains cancelled after storm damage\n"
        f"{EN_1}\n{EN_2}\n"
        "Harbour cranes return after two-year repair\n"
    )
    result = clean(text, "text/plain")
    assert result.title == "Harbour cranes return after two-year repair"
    assert "Regional trains" not in result.text


def test_standfirst_long_enough_for_prose_stays() -> None:
    standfirst = (
        "The island ferry will sail twice a day from Monday after a winter break that "
        "left residents without a link to the mainland"
    )
    text = f"Harbour Post\nFerry service returns after winter break\n{standfirst}\n{EN_1}\n{EN_2}\n"
    result = clean(text, "text/plain")
    assert result.title == "Ferry service returns after winter break"
    assert result.text.split("\n\n") == [standfirst, EN_1, EN_2]


def test_short_standfirst_below_headline_is_not_taken_as_title() -> None:
    standfirst = "The island ferry will sail twice a day from Monday, the operator confirmed"
    text = f"Harbour Post\nFerry service returns after the long winter break\n{standfirst}\n{EN_1}\n"
    result = clean(text, "text/plain")
    assert result.title == "Ferry service returns after the long winter break"
    assert standfirst in result.text


def test_indonesian_page_dump() -> None:
    result = clean((FIXTURES / "page_id.txt").read_text(encoding="utf-8"), "text/plain")
    assert result.title == "Jembatan Sungai Cerah resmi dibuka untuk umum"
    assert result.published == "2024-03-04"
    assert result.text.split("\n\n") == [
        "Pemerintah Kota Lestari meresmikan jembatan baru di atas Sungai Cerah pada Senin pagi.",
        "Jembatan sepanjang 120 meter itu menghubungkan pasar lama dengan kawasan permukiman di seberang sungai.",
        '"Sekarang anak-anak tidak perlu lagi memutar sejauh lima kilometer untuk ke sekolah," '
        "kata Wali Kota Rina Hartati.",
        "Warga menyambut pembukaan jembatan itu dengan pawai sepeda dan pasar makanan.",
    ]


def test_portuguese_page_dump() -> None:
    result = clean((FIXTURES / "page_pt.txt").read_text(encoding="utf-8"), "text/plain")
    assert result.title == "Nova biblioteca abre as portas no centro de Vale Claro"
    assert result.published == "2024-02-16"
    assert result.text.split("\n\n") == [
        "A prefeitura inaugurou uma nova biblioteca pública no centro de Vale Claro nesta sexta-feira.",
        "O prédio tem três andares, uma sala de leitura infantil e um pequeno auditório para oficinas.",
        "Segundo os organizadores, mais de mil pessoas visitaram o espaço no primeiro dia.",
    ]


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("23 Nov, 2023 21:45", "2023-11-23"),
        ("November 23, 2023", "2023-11-23"),
        ("2023-11-23", "2023-11-23"),
        ("16 de fevereiro de 2023", "2023-02-16"),
        ("23 November 2023", "2023-11-23"),
        ("Kamis, 23 November 2023 21:45 WIB", "2023-11-23"),
        ("Senin, 4 Maret 2024", "2024-03-04"),
        ("Publicado em 05/03/2024 às 10h30", "2024-03-05"),
        ("Veröffentlicht am 23. März 2024", "2024-03-23"),
        ("16 de fevereiro", None),
        ("31 February 2023", None),
    ],
)
def test_parse_date(text: str, iso: str | None) -> None:
    assert parse_date(text) == iso


def test_text_without_any_prose_line_is_kept_as_is() -> None:
    result = clean("Shopping list\nBread and milk\nCall the plumber", "text/plain")
    assert result.text == "Shopping list\n\nBread and milk\n\nCall the plumber"


def test_unicode_and_whitespace_are_normalised() -> None:
    decomposed = "A prefeitura inaugurou a ponte nova em Sa\u0303o Jose\u0301 nesta  terc\u0327a-feira."
    result = clean(f"{decomposed}\u00a0\u00a0\n", "text/plain; charset=utf-8")
    assert result.text == "A prefeitura inaugurou a ponte nova em São José nesta terça-feira."


def test_classify_line_names_the_family() -> None:
    assert classify_line("[iklan_2]") == "advert"
    assert classify_line("Komentar (0)") == "counter_share"
    assert classify_line("READ MORE: Harbour festival breaks record") == "read_more"
    assert classify_line(EN_1) is None


def test_remove_boilerplate_reports_removed_lines() -> None:
    result = remove_boilerplate(f"{ID_1}\n[iklan_2]\nTautan sumber\n\n\nKomentar (0)")
    assert result.text == ID_1
    assert result.removed_lines == 3


# --- HTML ---


def _article_html() -> str:
    return (FIXTURES / "article_en.html").read_text(encoding="utf-8")


def test_html_article_main_text_and_metadata() -> None:
    result = clean(_article_html(), "text/html; charset=utf-8", url="https://courier.example/library")
    assert result.title == "Valley town opens solar-powered library"
    assert result.published == "2024-03-14"
    assert result.author == "Mara Linden"
    assert result.site_name == "The Riverside Courier"
    assert result.description == "A small valley town has opened a library that runs entirely on solar power."
    assert result.text.startswith("The town of Elmbrook opened its new public library on Thursday")
    assert "nine hundred households." in result.text
    assert "\n\nMayor Jonah Reyes cut the ribbon" in result.text  # paragraphs separated by a blank line
    for chrome in ("cookies", "Sport", "Weather", "Most read", "Bridge repairs", "newsletter",
                   "All rights reserved", "Privacy", "WhatsApp"):
        assert chrome not in result.text


def test_html_date_from_time_element_without_meta() -> None:
    html = _article_html().replace(
        '<meta property="article:published_time" content="2024-03-14T08:30:00+00:00">', ""
    )
    assert clean(html, "text/html").published == "2024-03-14"


def test_xhtml_is_treated_as_html() -> None:
    result = clean(_article_html(), "application/xhtml+xml")
    assert result.title == "Valley town opens solar-powered library"
    assert "<p>" not in result.text


def test_html_without_main_text_is_bad_input() -> None:
    html = (
        "<html><head><title>Portal Berita</title></head><body>"
        '<nav><a href="/">Beranda</a> <a href="/n">Nasional</a></nav>'
        "<div>We use cookies to improve your experience.</div>"
        "<div>Berita | Olahraga | Ekonomi | Hiburan</div>"
        "<footer>© 2024 Portal Berita</footer></body></html>"
    )
    with pytest.raises(BadInput, match="no main text found"):
        clean(html, "text/html")


def test_html_fallback_when_the_block_model_keeps_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clean_module.html_extract, "extract_with_links", lambda *args, **kwargs: ([], False))
    result = clean(_article_html(), "text/html")
    assert "The town of Elmbrook opened its new public library on Thursday" in result.text
    assert "Construction took eighteen months" in result.text
    for chrome in ("cookies", "Sport", "Subscribe", "All rights reserved", "Share Facebook"):
        assert chrome not in result.text
    assert result.title == "Valley town opens solar-powered library"


# --- bad input ---


@pytest.mark.parametrize("content", ["", "   \n\t \n  ", "\u00a0\n"])
@pytest.mark.parametrize("content_type", ["text/plain", "text/html"])
def test_empty_or_whitespace_is_bad_input(content: str, content_type: str) -> None:
    with pytest.raises(BadInput, match="no main text found"):
        clean(content, content_type)


@pytest.mark.parametrize("content_type", ["application/pdf", "image/png", "", "text/csv"])
def test_unknown_content_type_is_bad_input(content_type: str) -> None:
    with pytest.raises(BadInput, match="unsupported content type"):
        clean(EN_1, content_type)


def test_plain_text_that_is_only_boilerplate_is_bad_input() -> None:
    with pytest.raises(BadInput, match="no main text found"):
        clean("[iklan_2]\nTautan sumber\nKomentar (0)\nADVERTISEMENT\n", "text/plain")


# --- chrome phrase families (data/boilerplate_lines.json) and the main-text span ---

RU_1 = "Городской совет утвердил новый бюджет для парков во вторник вечером."
RU_2 = "Чиновники сказали, что первые детские площадки откроются до летних каникул."

CHROME_PHRASE_CASES = {
    "nav_legal_en": (EN_1, EN_2, ["Skip to main content", "Privacy Policy", "Terms of Use", "Contact us"]),
    "nav_legal_id": (ID_1, ID_2, ["Beranda", "Kebijakan Privasi", "Pedoman Media Siber", "Hubungi Kami"]),
    "nav_legal_pt": (PT_1, PT_2, ["Página inicial", "Política de Privacidade", "Fale Conosco"]),
    "nav_legal_ru": (RU_1, RU_2, ["Главная", "Политика конфиденциальности", "Контакты"]),
    "pagination": (EN_1, EN_2, ["Page 2 of 9", "Older posts", "Load more"]),
    "pagination_id_pt_ru": (ID_1, ID_2, ["Halaman 3 dari 10", "Selanjutnya", "Próxima página", "Показать ещё"]),
    "comment_section_en": (
        EN_1,
        EN_2,
        ["Leave a Reply", "Your email address will not be published. Required fields are marked *", "Cancel reply"],
    ),
    "comment_section_id_pt": (
        ID_1,
        ID_2,
        ["Tinggalkan Balasan", "Alamat email Anda tidak akan dipublikasikan.", "Deixe uma resposta"],
    ),
    "newsletter_social": (
        PT_1,
        PT_2,
        ["Enter your email address", "Share on Facebook", "Inscreva-se", "Bagikan ke WhatsApp", "Поделиться"],
    ),
    "related_blocks": (EN_1, EN_2, ["Related posts", "Most read", "Berita Terbaru", "Mais lidas", "Читайте также"]),
}


@pytest.mark.parametrize("family", sorted(CHROME_PHRASE_CASES))
def test_chrome_phrase_families_removed_and_article_kept(family: str) -> None:
    first, second, chrome = CHROME_PHRASE_CASES[family]
    result = _assert_removed(_between(first, "\n".join(chrome), second), chrome, [first, second])
    assert result.removed_lines >= len(chrome)


def test_sentences_starting_like_chrome_phrases_are_kept() -> None:
    body = [
        "Home owners along the river will get a grant to raise their doorsteps this year.",
        "Reply cards were sent to every household in the valley last month.",
        "Share prices of the ferry company rose after the council vote.",
        "Next, the council will discuss the pier repairs in April.",
    ]
    text = "\n".join([EN_1, *body, EN_2])
    assert clean(text, "text/plain").text.split("\n\n") == [EN_1, *body, EN_2]


NAV_LINK_LIST = "\n".join(
    ["Harbour Post", "News", "Sport", "Weather", "Opinion", "Travel", "Culture", "Podcasts", "Puzzles"]
)
FOOTER_LINK_LIST = "\n".join(
    ["Sections", "Local news", "Politics", "Business", "Schools", "Obituaries", "Events", "Classifieds",
     "Corrections", "Ethics policy", "Newsroom staff", "Work with us", "Customer service", "Print edition"]
)
SIDEBAR_TEASER = (
    "Readers share their favourite walks along the old canal path, from the lock gates "
    "to the boathouse at the edge of town"
)


def test_prose_far_from_the_article_behind_link_lists_is_dropped() -> None:
    text = "\n".join(
        [NAV_LINK_LIST, "Council approves new budget for parks", EN_1, EN_2, FOOTER_LINK_LIST, NAV_LINK_LIST,
         FOOTER_LINK_LIST, SIDEBAR_TEASER, FOOTER_LINK_LIST]
    )
    result = clean(text, "text/plain")
    assert result.text.split("\n\n") == [EN_1, EN_2]
    assert result.title == "Council approves new budget for parks"


def test_article_paragraphs_around_known_chrome_stay_together() -> None:
    chrome = ["ADVERTISEMENT", "READ MORE: Harbour festival breaks attendance record", "Photo: Ana Prado/Riverside Courier",
              "Baca juga: Harga cabai turun menjelang musim panen", "Share", "Komentar (0)"]
    text = "\n".join([NAV_LINK_LIST, EN_1, *chrome, ID_1, *chrome, PT_1, FOOTER_LINK_LIST])
    assert clean(text, "text/plain").text.split("\n\n") == [EN_1, ID_1, PT_1]


def test_european_portuguese_share_bar_and_comment_prompt_are_removed() -> None:
    text = (
        "A câmara de Tavira aprovou ontem a construção de um novo mercado municipal junto ao rio.\n"
        "Partilhe este artigo Facebook X LinkedIn E-mail\n"
        "Inicie sessão para comentar. Os comentários são da responsabilidade dos seus autores.\n"
    )
    result = clean(text, "text/plain")
    assert "novo mercado municipal" in result.text
    assert "Partilhe" not in result.text and "Inicie sessão" not in result.text


def test_work_limits_end_in_a_clear_reason():
    from docingest.errors import BadInput
    from docingest.stages.clean import clean

    with pytest.raises(BadInput, match=r"too many HTML elements: 52, the limit is 50"):
        clean("<html><body>" + "<p>word</p>" * 50 + "</body></html>", "text/html", max_elements=50)
    with pytest.raises(BadInput, match=r"too deep: 400 levels of nested elements, the limit is 255"):
        clean("<html><body>" + "<div>" * 397 + "<p>Deep text here.</p>" + "</div>" * 397 + "</body></html>", "text/html")
    with pytest.raises(BadInput, match=r"too many lines: 11, the limit is 10"):
        clean("a line\n" * 10, "text/plain", max_lines=10)
    assert clean("<html><body>" + "<div>" * 200 + "<p>The harbour reopened on Monday after two years of repairs, "
                 "the port authority said.</p>" + "</div>" * 200 + "</body></html>", "text/html").text
