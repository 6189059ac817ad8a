"""Recognisers behind the stage: BIO decoding, Amazon Comprehend (stubbed) and spaCy (a stand-in)."""
from types import SimpleNamespace

import boto3
import pytest
from botocore.stub import Stubber

from docingest.adapters.comprehend import ComprehendRecognizer, split_parts
from docingest.models import Entity
from docingest.stages.extract_entities import entities_from_bio, extract_entities, recognizer
from docingest.stages.ner_tokens import tokenize
from docingest.stages.spacy_entities import SpacyRecognizer


def fallback_marker(text, language):
    return [Entity(text=text[:4], type="MISC", start=0, end=4)]


def test_bio_tags_become_character_spans():
    text = "Ana  Costa visited Porto Alegre ."
    tokens = tokenize(text)
    tags = ["B-PER", "I-PER", "O", "B-LOC", "I-LOC", "O"]
    assert [(e.text, e.type) for e in entities_from_bio(text, tokens, tags)] == [("Ana  Costa", "PER"), ("Porto Alegre", "LOC")]


def test_bio_decoding_starts_a_mention_on_a_stray_inside_tag_and_splits_on_type_change():
    text = "Rio Tinto Oslo Bergen"
    tokens = tokenize(text)
    entities = entities_from_bio(text, tokens, ["I-ORG", "I-ORG", "B-LOC", "B-LOC"])
    assert [(e.text, e.type) for e in entities] == [("Rio Tinto", "ORG"), ("Oslo", "LOC"), ("Bergen", "LOC")]


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown entity backend 'nope'"):
        recognizer("nope")


def comprehend_client():
    return boto3.client("comprehend", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def test_comprehend_batches_parts_and_maps_offsets_back():
    first = "Anna Berg visited Oslo. " * 150  # 3,600 bytes
    second = "The Norwegian Fishing Council met. " * 150
    text = first + second
    parts = split_parts(text)
    assert len(parts) == 2 and parts[0][0] == 0 and text[parts[0][1] - 1] == "."  # cut after a sentence
    client = comprehend_client()
    stubber = Stubber(client)
    results = []
    for index, (start, end) in enumerate(parts):
        part = text[start:end]
        found = []
        for surface, kind in (("Anna Berg", "PERSON"), ("Oslo", "LOCATION"), ("Norwegian Fishing Council", "ORGANIZATION")):
            at = part.find(surface)
            if at >= 0:
                found.append({"Score": 0.99, "Type": kind, "Text": surface, "BeginOffset": at, "EndOffset": at + len(surface)})
        found.append({"Score": 0.99, "Type": "QUANTITY", "Text": part[:4], "BeginOffset": 0, "EndOffset": 4})
        results.append({"Index": index, "Entities": found})
    stubber.add_response("batch_detect_entities", {"ResultList": results, "ErrorList": []},
                         {"TextList": [text[a:b] for a, b in parts], "LanguageCode": "en"})
    with stubber:
        entities = ComprehendRecognizer(fallback_marker, client)(text, "en")
    stubber.assert_no_pending_responses()
    assert all(text[e.start:e.end] == e.text for e in entities)
    assert {(e.text, e.type) for e in entities} == {("Anna Berg", "PER"), ("Oslo", "LOC"), ("Norwegian Fishing Council", "ORG")}
    assert entities[-1].start >= parts[1][0]


def test_comprehend_parts_stay_under_the_byte_limit_with_multibyte_text():
    text = "Ção é " * 3000  # 2 bytes per accented letter
    parts = split_parts(text)
    assert all(len(text[a:b].encode()) <= 4_900 for a, b in parts)
    assert "".join(text[a:b] for a, b in parts) == text


def test_comprehend_sends_at_most_25_parts_per_call():
    text = ("x" * 4_000 + ". ") * 30
    client = comprehend_client()
    stubber = Stubber(client)
    parts = split_parts(text)
    for first in range(0, len(parts), 25):
        batch = parts[first:first + 25]
        stubber.add_response("batch_detect_entities",
                             {"ResultList": [{"Index": i, "Entities": []} for i in range(len(batch))], "ErrorList": []},
                             {"TextList": [text[a:b] for a, b in batch], "LanguageCode": "de"})
    with stubber:
        assert ComprehendRecognizer(fallback_marker, client)(text, "de") == []
    stubber.assert_no_pending_responses()


def test_comprehend_languages_it_lacks_go_to_the_fallback_without_a_call():
    client = comprehend_client()
    with Stubber(client):  # any call would fail: no response is queued
        assert ComprehendRecognizer(fallback_marker, client)("Anak-anak bermain.", "id")[0].type == "MISC"


def test_comprehend_errors_are_raised_for_a_retry():
    client = comprehend_client()
    stubber = Stubber(client)
    stubber.add_response("batch_detect_entities", {"ResultList": [], "ErrorList": [
        {"Index": 0, "ErrorCode": "INTERNAL_SERVER_ERROR", "ErrorMessage": "try later"}]})
    with stubber, pytest.raises(RuntimeError, match="INTERNAL_SERVER_ERROR"):
        ComprehendRecognizer(fallback_marker, client)("Anna Berg visited Oslo.", "en")


class FakePipeline:
    """What spacy.load returns, for what the recogniser uses: a callable giving doc.ents."""

    def __init__(self, found):
        self.found = found

    def __call__(self, text):
        ents = []
        for surface, label in self.found:
            start = text.find(surface)
            ents.append(SimpleNamespace(start_char=start, end_char=start + len(surface), label_=label))
        return SimpleNamespace(ents=ents)


def test_spacy_labels_are_mapped_and_languages_without_a_pipeline_fall_back():
    loaded = []

    def loader(name):
        loaded.append(name)
        return FakePipeline([("Anna Berg", "PERSON"), ("Oslo", "GPE"), ("Norwegians", "NORP"), ("Monday", "DATE")])

    spacy = SpacyRecognizer.from_setting("en=en_core_web_sm, de=de_core_news_sm", fallback_marker, loader)
    text = "Anna Berg told Norwegians in Oslo on Monday."
    found = spacy(text, "en")
    assert [(e.text, e.type) for e in found] == [("Anna Berg", "PER"), ("Oslo", "LOC"), ("Norwegians", "MISC")]
    spacy(text, "en")
    assert loaded == ["en_core_web_sm"]  # loaded once
    assert spacy(text, "pt")[0].type == "MISC" and loaded == ["en_core_web_sm"]


def test_spacy_backend_needs_a_model_setting():
    with pytest.raises(ValueError, match="SPACY_MODEL"):
        SpacyRecognizer.from_setting(" ", fallback_marker)


def test_the_rules_backend_runs_behind_the_stage_with_dates_and_keys():
    text = "President Anna Berg visited Jakarta on 5 May 2021. Berg met officials."
    entities = extract_entities(text, "en", backend="rules")
    assert ("5 May 2021", "DATE", "2021-05-05") in [(e.text, e.type, e.value) for e in entities]
    assert all(text[e.start:e.end] == e.text for e in entities)
    assert all(e.key for e in entities if e.type != "DATE")


def test_quotes_and_brackets_at_the_edges_of_a_mention_are_left_out():
    text = "‘Anna Berg’ ( Oslo ) U.S."
    tokens = tokenize(text)
    tags = ["B-PER", "I-PER", "I-PER", "I-PER", "B-LOC", "I-LOC", "I-LOC", "B-LOC"]
    found = [(e.text, e.type) for e in entities_from_bio(text, tokens, tags)]
    assert found == [("Anna Berg", "PER"), ("Oslo", "LOC"), ("U.S.", "LOC")]
    assert entities_from_bio("( )", tokenize("( )"), ["B-ORG", "I-ORG"]) == []
