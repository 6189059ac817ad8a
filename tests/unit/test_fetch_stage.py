import codecs

import pytest

from docingest.errors import BadInput
from docingest.stages import fetch


def test_document_id_is_the_sha256_of_the_bytes():
    assert fetch.document_id(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert fetch.document_id(b"abc") != fetch.document_id(b"abd")


@pytest.mark.parametrize(
    ("data", "name", "declared", "expected"),
    [
        (b"plain words", "notes.txt", None, fetch.PLAIN_TEXT),
        (b"plain words", "page.HTML", None, fetch.HTML),
        (b"<!DOCTYPE html><html><body>x</body></html>", "page", None, fetch.HTML),
        (b"https://example.com/a\n", "list.urls", None, fetch.URL_LIST),
        (b"words", "x", "text/html; charset=utf-8", fetch.HTML),
        (b"words", "x", "text/uri-list", fetch.URL_LIST),
        (b"just text, no tags", "x", "application/octet-stream", fetch.PLAIN_TEXT),
    ],
)
def test_sniff_content_type(data, name, declared, expected):
    assert fetch.sniff_content_type(data, name, declared) == expected


LEGACY = [
    ("cp1251", "Президент открыл новый мост через реку."),
    ("gb18030", "市长今天宣布新的港口将于下月开放。"),
    ("shift_jis", "市長は新しい港が来月開くと発表した。"),
    ("latin-1", "A câmara municipal aprovou o orçamento para o próximo ano."),
]


@pytest.mark.parametrize(("encoding", "text"), LEGACY)
def test_declared_legacy_charset_in_meta_tag(encoding, text):
    page = f'<html><head><meta charset="{encoding}"></head><body><p>{text}</p></body></html>'
    data = page.encode(encoding)
    decoded = fetch.decode_bytes(data, fetch.declared_charset(data))
    assert text in decoded.text


def test_charset_from_http_header_wins_over_meta():
    data = "<meta charset='utf-8'><p>Заседание</p>".encode("cp1251")
    assert fetch.declared_charset(data, "text/html; charset=windows-1251") == "windows-1251"
    assert "Заседание" in fetch.decode_bytes(data, "windows-1251").text


def test_undeclared_legacy_bytes_are_detected():
    text = "Le conseil régional a décidé de prolonger les travaux près de la gare jusqu'à l'été prochain. " * 3
    decoded = fetch.decode_bytes(text.encode("cp1252"))
    assert decoded.text == text


@pytest.mark.parametrize("bom", [codecs.BOM_UTF8, codecs.BOM_UTF16_LE])
def test_byte_order_marks(bom):
    text = "Ini berita tentang pelabuhan baru."
    encoding = {codecs.BOM_UTF8: "utf-8", codecs.BOM_UTF16_LE: "utf-16-le"}[bom]
    assert fetch.decode_bytes(bom + text.encode(encoding)).text == text


def test_text_is_nfc_normalised():
    decomposed = "Sa\u0303o Paulo"
    assert fetch.decode_bytes(decomposed.encode("utf-8")).text == "São Paulo"


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"", "empty"), (b"   \n\t ", "empty"), (b"PK\x03\x04\x00\x00binary", "binary"), (bytes(range(1, 32)) * 50, "binary")],
)
def test_bad_bytes_raise_a_clear_reason(data, reason):
    with pytest.raises(BadInput, match=reason):
        fetch.decode_bytes(data)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/file", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("http://", "no host"),
        ("http://127.0.0.1/admin", "internal"),
        ("http://169.254.169.254/latest/meta-data/", "internal"),
        ("http://10.0.0.8/", "internal"),
        ("http://[::1]/", "internal"),
        ("https://example.com/" + "a" * 3000, "longer"),
    ],
)
def test_hostile_urls_are_refused(url, message):
    with pytest.raises(BadInput, match=message):
        fetch.check_url(url)


def test_private_addresses_allowed_when_configured_and_resolved_names_checked():
    assert fetch.check_url("http://127.0.0.1:8000/x", allow_private=True) == "http://127.0.0.1:8000/x"
    with pytest.raises(BadInput, match="internal"):
        fetch.check_url("http://intranet.example/", resolve=lambda host: ["192.168.1.4"])
    assert fetch.check_url("https://news.example/", resolve=lambda host: ["93.184.216.34"])


def test_url_list_skips_blanks_and_comments():
    assert fetch.parse_url_list("# feeds\nhttps://a.example/1\n\n  https://b.example/2  \n") == [
        "https://a.example/1",
        "https://b.example/2",
    ]


def test_mojibake_is_repaired():
    original = "O prefeito disse que o verão será quente — e a praça está pronta."
    double_encoded = original.encode("utf-8").decode("cp1252").encode("utf-8")
    assert fetch.decode_bytes(double_encoded).text == original


@pytest.mark.parametrize("text", ["Straße, naïve café — “quoted” ½", "Президент открыл мост.", "市长宣布港口开放。"])
def test_clean_text_is_not_altered_by_the_mojibake_repair(text):
    assert fetch.decode_bytes(text.encode("utf-8")).text == text


@pytest.mark.parametrize("label", ["rot13", "base64", "hex", "zlib", "undefined", "punycode", "idna", "bz2", "no-such-codec"])
def test_a_declared_charset_that_is_no_text_encoding_is_ignored(label):
    page = f'<html><head><meta charset="{label}"></head><body><p>Hi there.</p></body></html>'.encode()
    decoded = fetch.decode_bytes(page, fetch.declared_charset(page))
    assert decoded.charset == "utf-8" and "<p>Hi there.</p>" in decoded.text


@pytest.mark.parametrize("label", ["utf-16", "UTF-16LE", "utf-16be"])
def test_a_utf16_meta_tag_means_utf8(label):
    page = f'<html><head><meta charset="{label}"></head><body><p>Olá, até já!</p></body></html>'.encode()
    assert len(page) % 2 == 0 or label  # even lengths decoded as UTF-16 before
    decoded = fetch.decode_bytes(page, fetch.declared_charset(page))
    assert decoded.charset == "utf-8" and "Olá, até já!" in decoded.text


def test_an_http_utf16_charset_still_applies():
    text = "Pelabuhan dibuka kembali."
    assert fetch.decode_bytes(text.encode("utf-16-le"), fetch.declared_charset(b"", "text/plain; charset=utf-16le")).text == text


@pytest.mark.parametrize("position", ["start", "middle", "end"])
def test_nul_bytes_follow_one_rule_wherever_they_are(position):
    body = b"The ferry left at noon. " * 2000
    at = {"start": 0, "middle": len(body) // 2, "end": len(body)}[position]
    few = body[:at] + b"\x00" * 3 + body[at:]
    assert "\x00" not in fetch.decode_bytes(few).text
    many = body[:at] + b"\x00" * (len(body) // 50) + body[at:]
    with pytest.raises(BadInput, match="NUL bytes"):
        fetch.decode_bytes(many)


def test_control_characters_are_counted_in_the_whole_text():
    text = b"Plain words here. " * 2000 + bytes(range(1, 9)) * 2000
    with pytest.raises(BadInput, match="control (characters|bytes)"):
        fetch.decode_bytes(text)
