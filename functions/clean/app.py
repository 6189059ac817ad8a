"""clean: a fetched document in; its main text out (clean object), title and date on the record."""
from docingest import pipeline
from docingest.handler import document_stage_handler
from docingest.lifecycle import Stage

lambda_handler = document_stage_handler(Stage.CLEAN, pipeline.clean_document)
