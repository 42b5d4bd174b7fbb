"""Helpers of the CLD rules: the middleboxes of the loaded cloud and Terraform documents."""

from __future__ import annotations

from typing import Iterator

from advisor.model import ConfigDoc, Span
from advisor.model.middlebox import Middlebox

MIDDLEBOX_KINDS = ("cloud", "terraform")


def middleboxes(ctx, kind: str) -> Iterator[tuple[ConfigDoc, Middlebox]]:
    for doc in ctx.docs:
        model = doc.model
        if doc.kind in MIDDLEBOX_KINDS and model is not None and hasattr(model, "middleboxes"):
            for box in model.middleboxes:
                if box.kind == kind:
                    yield doc, box


def fact_span(box: Middlebox, name: str) -> Span:
    """Where a fact was written, or the middlebox itself when the fact is a default."""
    value = box.facts.get(name)
    if value is not None and value.span is not None and value.origin == "set":
        return value.span
    return box.span


def field_name(doc: ConfigDoc, value, api_name: str, terraform_name: str) -> str:
    """The name of a field as the file writes it: the last part of the key it was read from
    (`RequireTLS` in a JSON document, `require_tls` in a .tf file), else the name the document's
    format uses for it (`terraform_name` in Terraform, the API's otherwise)."""
    key = getattr(value, "key", None) if value is not None and getattr(value, "origin", None) == "set" else None
    if isinstance(key, str) and key:
        last = key.replace("]", "").replace("[", ".").rstrip(".").rsplit(".", 1)[-1]
        if last and not last.isdigit() and last != "$":
            return last
    return terraform_name if doc.kind == "terraform" else api_name
