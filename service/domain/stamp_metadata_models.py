"""The stamp metadata document's shape, as the reference's `StampDisplayResponse` models declare
it. Imported by `stamp_metadata.read_document` on first use, so the models are built only in a
process that reads a metadata document."""

from __future__ import annotations

from pydantic import BaseModel


class Stamp(BaseModel):
    name: str
    description: str
    hash: str


class Group(BaseModel):
    name: str
    stamps: list[Stamp]


class Platform(BaseModel):
    # Extra keys of the source (`website`, `isEVM`, ...) are dropped, as the reference does.
    id: str
    icon: str
    name: str
    description: str
    connectMessage: str
    groups: list[Group]
