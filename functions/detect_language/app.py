"""detect_language: a cleaned document in; its language and confidence on the record."""
from docingest import pipeline
from docingest.handler import document_stage_handler
from docingest.lifecycle import Stage

lambda_handler = document_stage_handler(Stage.DETECT_LANGUAGE, pipeline.detect_document_language)
