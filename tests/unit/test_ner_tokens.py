"""The stage's tokeniser: CoNLL-like tokens with offsets into the raw text, and sentence ranges."""
from docingest.stages.ner_tokens import sentence_spans, tokenize


def texts(text):
    return [t.text for t in tokenize(text)]


def test_tokens_point_into_the_raw_text():
    text = "Mr. O'Brien’s  team met\tthe U.S. envoy on 2024-03-01 for $1,200.50 — “fine”, said Jean-Luc."
    tokens = tokenize(text)
    assert all(text[t.start:t.end] == t.text for t in tokens)
    assert texts(text) == ["Mr.", "O'Brien", "’s", "team", "met", "the", "U.S.", "envoy", "on", "2024-03-01", "for", "$",
                           "1,200.50", "—", "“", "fine", "”", ",", "said", "Jean-Luc", "."]


def test_possessive_is_split_but_inner_apostrophes_stay():
    assert texts("Putin's aide and l'Europe and d'Ávila") == ["Putin", "'s", "aide", "and", "l'Europe", "and", "d'Ávila"]


def test_sentences_end_at_stops_and_line_breaks():
    text = "Anna came. Did Bo? Yes!\nA title line\nLast one"
    tokens = tokenize(text)
    assert [" ".join(t.text for t in tokens[a:b]) for a, b in sentence_spans(tokens, text)] == [
        "Anna came .", "Did Bo ?", "Yes !", "A title line", "Last one"]


def test_a_long_sentence_is_never_cut_inside_a_name():
    words = ["word"] * 110 + ["Maria", "Conceição", "Alves", "Ferreira"] + ["word"] * 200
    text = " ".join(words)
    tokens = tokenize(text)
    spans = sentence_spans(tokens, text, max_tokens=112)
    assert all(b - a <= 112 for a, b in spans) and spans[0][0] == 0 and spans[-1][1] == len(tokens)
    assert all(tokens[b].text[0].islower() for a, b in spans[:-1])
    assert all(spans[i][1] == spans[i + 1][0] for i in range(len(spans) - 1))


def test_empty_and_symbol_only_text():
    assert tokenize("") == [] and sentence_spans([], "") == []
    assert texts("@#!") == ["@", "#", "!"]


def test_an_initial_keeps_its_dot_and_does_not_end_the_sentence():
    text = "Elliott M. Braxton won. Then J. K. Rowling spoke."
    tokens = tokenize(text)
    assert [t.text for t in tokens][:4] == ["Elliott", "M.", "Braxton", "won"]
    assert len(sentence_spans(tokens, text)) == 2


def test_a_dot_before_a_lowercase_word_or_a_number_does_not_end_the_sentence():
    text = "Nos termos do art. 240 do CPC, conforme a r. sentença. Fim."
    tokens = tokenize(text)
    assert [" ".join(t.text for t in tokens[a:b]) for a, b in sentence_spans(tokens, text)] == [
        "Nos termos do art . 240 do CPC , conforme a r . sentença .", "Fim ."]
    assert [t.text for t in tokenize("a 8ª Turma")] == ["a", "8ª", "Turma"]
