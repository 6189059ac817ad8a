"""``ingest stage NAME``: one stage offline over JSONL, stdin to stdout, one output line per input line."""
from __future__ import annotations

import json
from typing import Any, Callable, TextIO

from pydantic import BaseModel, ConfigDict, ValidationError

from docingest.errors import BadInput


class CleanInput(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: Any
    content: str
    content_type: str = "text/plain"
    url: str | None = None


class TextInput(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: Any
    text: str
    language: str | None = None


def _clean(item: CleanInput) -> dict[str, Any]:
    from docingest.stages.clean import clean

    result = clean(item.content, item.content_type, item.url)
    return {"text": result.text, **result.model_dump(exclude={"text", "removed_lines"}, exclude_none=True)}


def _detect_language(item: TextInput) -> dict[str, Any]:
    from docingest.stages.detect_language import detect_language

    return detect_language(item.text).model_dump(exclude_none=True)


def _extract_entities(item: TextInput) -> dict[str, Any]:
    from docingest.stages.extract_entities import extract_entities

    entities = extract_entities(item.text, item.language)
    return {"entities": [entity.model_dump(exclude_none=True) for entity in entities]}


STAGES: dict[str, tuple[type[BaseModel], Callable[[Any], dict[str, Any]]]] = {
    "clean": (CleanInput, _clean),
    "detect-language": (TextInput, _detect_language),
    "extract-entities": (TextInput, _extract_entities),
}


def process_line(stage: str, line: str) -> dict[str, Any]:
    model, step = STAGES[stage]
    try:
        payload = json.loads(line)
    except json.JSONDecodeError as error:
        return {"id": None, "error": f"invalid JSON: {error.msg}"}
    line_id = payload.get("id") if isinstance(payload, dict) else None
    try:
        item = model.model_validate(payload)
        return {"id": item.id, **step(item)}
    except ValidationError as error:
        first = error.errors()[0]
        return {"id": line_id, "error": f"invalid input: {'.'.join(map(str, first['loc']))}: {first['msg']}"}
    except BadInput as error:
        return {"id": line_id, "error": str(error)}
    except Exception as error:  # one bad line never stops the run
        return {"id": line_id, "error": f"{error.__class__.__name__}: {error}"}


def run(stage: str, lines: TextIO, out: TextIO) -> int:
    for line in lines:
        if not line.strip():
            continue
        out.write(json.dumps(process_line(stage, line), ensure_ascii=False) + "\n")
        out.flush()
    return 0
