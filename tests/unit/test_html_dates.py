"""Publication dates of pages that declare none in their metadata, from the visible text."""
import pytest

from docingest.stages.clean import clean

BODY = "<p>" + "The volunteers cleaned the river banks and planted trees along the path. " * 6 + "</p>"


@pytest.mark.parametrize(
    "page, published",
    [
        (f"<html><body><h1>River day in Eastvale</h1><div>By Ana Lima</div><div>March 4, 2024</div>{BODY}</body></html>",
         "2024-03-04"),
        (f"<html><body><span>12.05.2021</span><h1>Flussputztag in Osthafen</h1>{BODY}</body></html>", "2021-05-12"),
        (f"<html><body><div class='post-meta'><b>Publicado</b> 7 de setembro de 2022</div><main><h2>Dia do rio</h2>"
         f"{BODY}</main></body></html>", "2022-09-07"),
        (f"<html><head><link rel='canonical' href='https://news.example/2023/11/23/river-day/'></head><body>{BODY}"
         "</body></html>", "2023-11-23"),
        (f"<html><head><meta name='cludo:date' content='2020-01-02T10:00Z'></head><body>{BODY}</body></html>",
         "2020-01-02"),
    ],
)
def test_dates_from_the_visible_text_and_urls(page, published):
    assert clean(page, "text/html").published == published


def test_the_declared_publication_date_wins_and_the_update_date_is_kept_apart():
    page = ("<html><head><meta property='article:published_time' content='2021-06-01T08:00:00Z'>"
            "<meta property='article:modified_time' content='2024-02-03T08:00:00Z'></head>"
            f"<body><h1>River day</h1><div>Updated February 3, 2024</div>{BODY}</body></html>")
    result = clean(page, "text/html")
    assert (result.published, result.modified) == ("2021-06-01", "2024-02-03")


def test_a_page_without_any_date_has_none():
    assert clean(f"<html><body><h1>River day</h1>{BODY}</body></html>", "text/html").published is None
