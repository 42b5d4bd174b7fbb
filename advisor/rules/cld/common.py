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
