from flask import current_app

from course.catalog.types import Catalog


def get_catalog() -> Catalog:
    """The catalog loaded at start-up."""
    return current_app.extensions["catalog"]
