"""The course catalog: lessons, glossary and source page, loaded once and validated."""

from course.catalog.errors import ContentError
from course.catalog.loader import load_catalog
from course.catalog.types import Catalog, GlossaryTerm, Lesson, Module, Page, Section

__all__ = [
    "Catalog",
    "ContentError",
    "GlossaryTerm",
    "Lesson",
    "Module",
    "Page",
    "Section",
    "load_catalog",
]
