from __future__ import annotations

from pathlib import Path


class ContentError(Exception):
    """A content or quiz file is broken. The message names the file and the problem."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
