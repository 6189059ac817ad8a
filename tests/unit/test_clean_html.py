"""HTML path of the clean stage: block classifier (html_extract) and page metadata (html_metadata).

Every page and sentence here is invented for these tests (people, places and products are fictional).
"""
from __future__ import annotations

import pytest

from docingest.stages import html_extract
from docingest.stages.clean import clean
from docingest.stages.html_metadata import extract_metadata, iso_date


def _page(body: str, head: str = "<title>Test page</title>") -> str:
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>"


CHROME = """
<div class="cookie-banner">We use cookies to give you the best experience. <a href="/p">Accept</a></div>
<header class="site-header"><nav class="main-nav"><ul><li><a href="/">Home</a></li><li><a href="/w">World</a></li>
<li><a href="/b">Business</a></li><li><a href="/s">Science</a></li></ul></nav></header>
"""
FOOTER = """
<aside class="sidebar"><h3>Most popular</h3><ul><li><a href="/1">Lighthouse keeper retires after forty years</a></li>
<li><a href="/2">Night market opens on the pier</a></li></ul></aside>
<footer class="site-footer"><p>© 2024 The Quayside Post. All rights reserved.</p>
<p><a href="/privacy">Privacy policy</a> <a href="/terms">Terms of use</a></p></footer>
"""


def _article(paragraphs: list[str], extra: str = "") -> str:
    ps = "".join(f"<p>{p}</p>" for p in paragraphs)
    return _page(CHROME + f"<main><article><h1>Heading of the story</h1>{ps}</article>{extra}</main>" + FOOTER)


NEWS = [
    "The harbour authority of Port Vellan confirmed on Monday that the old ferry terminal will be rebuilt by next spring.",
    "Engineers found that the wooden piles under the eastern quay had rotted after decades of exposure to salt water.",
    "Local fishermen welcomed the decision, saying the crumbling quay had forced them to unload their catch elsewhere.",
    "The new terminal will include a covered waiting hall, bicycle parking and a small exhibition about the island ferries.",
]


def test_news_article_keeps_paragraphs_and_drops_chrome() -> None:
    extra = """
    <div class="share-buttons"><a href="#">Share on Facebook</a> <a href="#">Share on Twitter</a></div>
    <section class="related-articles"><h2>Related stories</h2><ul><li><a href="/r1">Bridge tolls to rise in autumn</a></li>
    <li><a href="/r2">Storm closes coastal road for two days</a></li></ul></section>
    <section id="comments" class="comments"><h2>3 comments</h2><div class="comment"><p>Great news, about time!</p></div></section>
    """
    result = clean(_article(NEWS, extra), "text/html")
    for sentence in NEWS:
        assert sentence in result.text
    for chrome in ("cookies", "Home", "Most popular", "Lighthouse keeper", "All rights reserved",
                   "Share on Facebook", "Bridge tolls", "Great news, about time"):
        assert chrome not in result.text
    assert "\n\n" in result.text


def test_product_page_keeps_description_and_specs() -> None:
    body = CHROME + """
    <div class="product-page"><h1>Trailmaster 40 hiking backpack</h1>
    <div class="product-description"><p>The Trailmaster 40 is a lightweight backpack made for weekend hikes, with a
    ventilated back panel that keeps you cool on steep climbs and long days in the sun.</p>
    <p>Its roll-top main compartment stays dry in heavy rain, and the side pockets hold two large water bottles.</p></div>
    <ul class="specs"><li>Volume: 40 litres, expandable to 45 with the roll-top closure</li>
    <li>Weight: 1.1 kg including the removable hip belt and rain cover</li></ul>
    <div class="recommended-products"><h3>Customers also bought</h3><a href="/x">Trekking poles</a> <a href="/y">Water bottle</a></div>
    </div>""" + FOOTER
    text = clean(_page(body), "text/html").text
    assert "ventilated back panel" in text
    assert "roll-top main compartment stays dry" in text
    assert "Customers also bought" not in text and "Privacy policy" not in text


def test_forum_thread_keeps_posts() -> None:
    posts = [
        "I replaced the chain on my old city bike last week and now it skips whenever I pedal hard uphill. Any idea why?",
        "When a new chain skips on an old cassette, the cassette is usually worn too. Replace both and it should stop.",
        "Agreed with the reply above. Also check that the rear derailleur hanger is straight, a bent one causes skipping.",
    ]
    thread = "".join(
        f'<div class="post"><div class="post-author"><a href="/u/{i}">rider{i}</a></div>'
        f'<div class="message-body"><p>{p}</p></div></div>' for i, p in enumerate(posts))
    body = CHROME + f'<div class="thread"><h1>Chain skipping after replacement</h1>{thread}</div>' + FOOTER
    text = clean(_page(body), "text/html").text
    for p in posts:
        assert p in text
    assert "Privacy policy" not in text


def test_documentation_page_keeps_prose_headings_and_code() -> None:
    body = CHROME + """
    <div class="docs-layout"><nav class="docs-sidebar"><ul><li><a href="/a">Installation</a></li>
    <li><a href="/b">Configuration</a></li><li><a href="/c">API reference</a></li></ul></nav>
    <div class="documentation-content"><h1>Configuring the queue worker</h1>
    <p>The worker reads its settings from a TOML file in the current directory when it starts up.</p>
    <h2>Retry policy</h2>
    <p>Failed jobs are retried three times with an exponential delay before they are moved to the dead-letter queue.</p>
    <pre>worker --config worker.toml --retries 3</pre>
    <p>Set the retries option to zero to disable retries entirely for jobs that are not idempotent.</p></div></div>""" + FOOTER
    text = clean(_page(body), "text/html").text
    assert "reads its settings from a TOML file" in text
    assert "exponential delay" in text
    assert "Set the retries option to zero" in text
    assert "API reference" not in text


NON_LATIN = {
    "zh": [
        "河谷镇周四正式开放了一座完全依靠太阳能供电的新图书馆，吸引了大批居民前来参观。",
        "镇长在开幕仪式上表示，节省下来的电费将全部用于购买新书和延长开放时间。",
        "图书馆藏书约一万两千册，还设有阅读花园和一个周末自行车维修工作坊。",
    ],
    "ru": [
        "В четверг в небольшом городе на берегу реки открылась новая библиотека, работающая полностью на солнечной энергии.",
        "Мэр города сказал, что сэкономленные на электричестве деньги пойдут на покупку новых книг.",
        "В библиотеке около двенадцати тысяч книг, читальный сад и небольшая мастерская по ремонту велосипедов.",
    ],
    "el": [
        "Η μικρή πόλη στην κοιλάδα εγκαινίασε την Πέμπτη μια νέα βιβλιοθήκη που λειτουργεί αποκλειστικά με ηλιακή ενέργεια.",
        "Ο δήμαρχος δήλωσε ότι τα χρήματα που εξοικονομούνται από το ρεύμα θα διατεθούν για νέα βιβλία.",
        "Η βιβλιοθήκη διαθέτει περίπου δώδεκα χιλιάδες τόμους, έναν κήπο ανάγνωσης και ένα εργαστήριο ποδηλάτων.",
    ],
}
NAV = {
    "zh": ["首页", "新闻", "体育", "娱乐", "财经"],
    "ru": ["Главная", "Новости", "Спорт", "Культура", "Экономика"],
    "el": ["Αρχική", "Ειδήσεις", "Αθλητικά", "Πολιτισμός", "Οικονομία"],
}


@pytest.mark.parametrize("language", sorted(NON_LATIN))
def test_non_latin_article(language: str) -> None:
    nav = "".join(f'<li><a href="/{i}">{w}</a></li>' for i, w in enumerate(NAV[language]))
    body = (f'<header><nav class="menu"><ul>{nav}</ul></nav></header><main><article>'
            + "".join(f"<p>{p}</p>" for p in NON_LATIN[language])
            + f'</article></main><footer class="footer"><p>© 2024 {NAV[language][1]}</p></footer>')
    text = clean(_page(body), "text/html").text
    for p in NON_LATIN[language]:
        assert p in text
    for word in NAV[language]:
        assert word not in text.split()


def test_metadata_from_json_ld_og_and_canonical() -> None:
    head = """<title>Ferry terminal to be rebuilt | The Quayside Post</title>
    <meta property="og:title" content="Ferry terminal to be rebuilt">
    <meta property="og:site_name" content="The Quayside Post">
    <meta property="og:description" content="The old terminal in Port Vellan gets a new life.">
    <link rel="canonical" href="https://quayside.example/news/ferry-terminal">
    <script type="application/ld+json">{"@context": "https://schema.org", "@graph": [
      {"@type": "WebSite", "name": "The Quayside Post"},
      {"@type": "NewsArticle", "headline": "Ferry terminal to be rebuilt",
       "datePublished": "2024-05-02T07:15:00+02:00", "author": [{"@type": "Person", "name": "Ines Varga"}]}]}
    </script>"""
    result = clean(_page(_article(NEWS).split("<body>", 1)[1].rsplit("</body>", 1)[0], head), "text/html")
    assert result.title == "Ferry terminal to be rebuilt"
    assert result.author == "Ines Varga"
    assert result.published == "2024-05-02"
    assert result.site_name == "The Quayside Post"
    assert result.description == "The old terminal in Port Vellan gets a new life."
    assert result.canonical_url == "https://quayside.example/news/ferry-terminal"


def test_metadata_fallbacks_title_suffix_time_and_relative_canonical() -> None:
    tree = html_extract.parse(_page(
        '<article><h1>Night market opens on the pier</h1><time datetime="2023-11-23T18:00">23 Nov</time></article>',
        '<title>Night market opens on the pier - Harbour Weekly</title><meta name="author" content="Tomas Reed">'
        '<link rel="canonical" href="/pier/night-market">'))
    meta = extract_metadata(tree)
    assert meta.title == "Night market opens on the pier"
    assert meta.published == "2023-11-23"
    assert meta.author == "Tomas Reed"
    result = clean(_page('<article><p>' + NEWS[0] + '</p></article>', '<link rel="canonical" href="/pier/x">'),
                   "text/html", url="https://harbour.example/today")
    assert result.canonical_url == "https://harbour.example/pier/x"


@pytest.mark.parametrize("value,iso", [("2024-03-14T08:30:00Z", "2024-03-14"), ("2021/7/4", "2021-07-04"),
                                       ("yesterday", None), ("0000-00-00", None)])
def test_iso_date(value: str, iso: str | None) -> None:
    assert iso_date(value) == iso


def test_segment_marks_link_density_and_hidden_blocks_are_skipped() -> None:
    blocks = html_extract.segment(_page(
        '<p>Visible paragraph with enough words to count as prose here.</p>'
        '<div style="display: none">Hidden promotional text</div><p><a href="/x">Only a link</a></p>'))
    texts = [b.text for b in blocks]
    assert "Hidden promotional text" not in texts
    link_block = blocks[texts.index("Only a link")]
    assert link_block.link_chars == len("Only a link")


def test_reference_overlap_features_mark_what_resiliparse_keeps() -> None:
    html = _article(NEWS)
    blocks = html_extract.segment(html)
    start = html_extract.REFERENCE_FEATURES[0]
    by_text = {b.text: b.features for b in blocks}
    assert by_text[NEWS[0]][start] == 1.0  # resiliparse keeps the article paragraph
    # without resiliparse's text the features are neutral and extraction still works
    neutral = html_extract.segment(tree=html_extract.parse(html), reference=None)
    assert all(b.features[start:start + 4] == [0.0, 0.0, 0.0, 0.0] for b in neutral)
    assert html_extract.extract(tree=html_extract.parse(html))


def test_repeated_sibling_structure_features() -> None:
    posts = "".join(
        f'<div class="post"><div class="author">user{i}</div><div class="body"><p>Post number {i} says the '
        f'chain skips because the cassette is worn and should be replaced as well.</p></div></div>' for i in range(6))
    blocks = html_extract.segment(_page(f'<div class="thread">{posts}</div><p>Alone at the end.</p>'))
    start = html_extract.REPEAT_FEATURES[0]
    post = next(b for b in blocks if b.text.startswith("Post number 3"))
    alone = next(b for b in blocks if b.text == "Alone at the end.")
    assert post.features[start + 1] == 1.0 and post.features[start + 2] > 0.8  # six posts hold the page
    assert alone.features[start:start + 6] == [0.0] * 6
    assert post.group is not None and post.group == next(b for b in blocks if b.text.startswith("Post number 0")).group


def test_a_tag_list_closing_the_article_is_dropped():
    html = ("<html><head><title>Dam works begin</title></head><body><article><h1>Dam works begin</h1>"
            "<p>Work on the new flood barrier at Lowmoor began on Tuesday, two years after the river burst its banks "
            "and flooded more than three hundred homes in the lower town.</p>"
            "<p>The council said the barrier would be finished before the winter of next year, and that roads "
            "near the river would stay open while the builders worked.</p>"
            "<ul class='tags'><li>Lowmoor</li><li>Flooding</li><li>Local council</li><li>Rivers</li></ul>"
            "</article></body></html>")
    text = clean(html, "text/html").text
    assert "flood barrier at Lowmoor" in text and "roads near the river" in text.replace("\n", " ")
    assert not text.rstrip().endswith("Rivers") and "Local council" not in text


def test_shipped_model_matches_the_feature_layout() -> None:
    """A feature added to html_extract without retraining would be silently cut off by the dot product."""
    model = html_extract.load_model()
    blocks = html_extract.segment(_article(NEWS))
    assert len(model["w1"]) == len(blocks[0].features) == html_extract.N_BASE + 11
    assert len(model["w2"]) == len(html_extract.context_features(blocks, [0.5] * len(blocks))[0])
    assert len(model["page"]) == len(html_extract.page_features(blocks, html_extract.parse(_article(NEWS))))
    assert 0 < model["threshold_low"] <= model["threshold_high"] < 1 and 0 < model["article_cut"] < 1


def test_repeated_text_features_mark_menus_repeated_in_header_and_footer() -> None:
    menu = '<ul class="menu"><li><a href="/a">Weather</a></li><li><a href="/b">Sport</a></li></ul>'
    blocks = html_extract.segment(_page(menu + "".join(f"<p>{p}</p>" for p in NEWS) + menu))
    base = html_extract.N_BASE
    weather = [b for b in blocks if b.text == "Weather"]
    prose = next(b for b in blocks if b.text == NEWS[1])
    assert len(weather) == 2 and all(b.features[base - 3:base] == [pytest.approx(0.6931, abs=1e-3), 1.0, 1.0] for b in weather)
    assert prose.features[base - 3:base] == [0.0, 0.0, 0.0]


def test_page_features_see_a_declared_article() -> None:
    body = f"<p>{NEWS[0]} {NEWS[1]}</p><p>{NEWS[2]} {NEWS[3]}</p>"  # two paragraphs of >= 150 characters
    plain = html_extract.parse(_page(body))
    og = html_extract.parse(_page(body, head='<meta property="og:type" content="article">'))
    ld = html_extract.parse(_page(body, head='<script type="application/ld+json">{"@type": "NewsArticle"}</script>'))
    one = html_extract.parse(_page(f"<article>{body}</article>"))
    feats = {name: html_extract.page_features(html_extract.segment(tree=tree, reference=None), tree)
             for name, tree in (("plain", plain), ("og", og), ("ld", ld), ("one", one))}
    assert feats["plain"][7:12] == [0.0, 0.0, 1.0, 0.0, 0.0]
    assert feats["og"][7] == 1.0 and feats["ld"][8] == 1.0 and feats["one"][9:12] == [0.0, 1.0, 0.0]
    assert feats["plain"][3] == 1.0 and feats["plain"][4] == pytest.approx(1.0986, abs=1e-3)  # all prose, 2 blocks


def test_page_threshold_follows_the_page_model() -> None:
    tree = html_extract.parse(_article(NEWS))
    blocks = html_extract.segment(tree=tree, reference=None)
    width = len(html_extract.page_features(blocks, tree))
    base = {"threshold": 0.4, "threshold_low": 0.3, "threshold_high": 0.5, "article_cut": 0.5}
    article = dict(base, page=[20.0] + [0.0] * (width - 1))  # probability ~1
    items = dict(base, page=[-20.0] + [0.0] * (width - 1))  # probability ~0
    assert html_extract.page_threshold(blocks, tree, article) == 0.5
    assert html_extract.page_threshold(blocks, tree, items) == 0.3
    assert html_extract.page_threshold(blocks, tree, {"threshold": 0.4}) == 0.4  # a model without a page model
