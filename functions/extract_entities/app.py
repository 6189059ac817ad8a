"""extract_entities: a document with its language in; entities, the enriched object, status DONE."""
from docingest import pipeline
from docingest.handler import document_stage_handler
from docingest.lifecycle import Stage

lambda_handler = document_stage_handler(Stage.EXTRACT_ENTITIES, pipeline.extract_document_entities)
