"""What an import tells its caller: problems found on the way, and the final report."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

MAX_KEPT_PROBLEMS = 1000
"""Problems kept one by one in a report; beyond that only counted, so memory stays flat."""


@dataclass(frozen=True, slots=True)
class ParseProblem:
    """A line (or row) that could not be imported as it is, and why.

    >>> print(ParseProblem("chat.txt", 12, "31/02/23, 10:00 - Ana: hola", "impossible date"))
    chat.txt:12: impossible date: '31/02/23, 10:00 - Ana: hola'
    """

    file: str
    line_no: int
    text: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line_no}: {self.reason}: {self.text!r}"


@dataclass(frozen=True, slots=True)
class ImportProgress:
    """Where an import is, passed to the ``progress`` callback after every stored batch."""

    file: str
    lines_read: int
    lines_total: int
    imported: int
    duplicates: int


@dataclass(slots=True)
class ImportReport:
    """The outcome of an import: counts, every problem with its file and line, authors seen.

    ``imported`` counts messages stored by this run, ``duplicates`` messages already stored
    (same external id), ``system_lines`` system lines met (stored when kept), ``skipped`` lines
    deliberately not stored (e.g. system lines with ``keep_system=False``).

    >>> report = ImportReport()
    >>> report.add_problem(ParseProblem("a.txt", 3, "???", "no header"))
    >>> report.problem_count, str(report.problems[0])
    (1, "a.txt:3: no header: '???'")
    """

    files: list[str] = field(default_factory=list)
    imported: int = 0
    duplicates: int = 0
    system_lines: int = 0
    skipped: int = 0
    problems: list[ParseProblem] = field(default_factory=list)
    problem_count: int = 0
    authors: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)

    def add_problem(self, problem: ParseProblem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_KEPT_PROBLEMS:
            self.problems.append(problem)

    @property
    def ok(self) -> bool:
        """True when every line was imported or deliberately skipped."""
        return self.problem_count == 0

    def summary(self) -> str:
        """One line for people: ``"imported 10, duplicates 2, system lines 1, problems 0"``."""
        return (
            f"imported {self.imported}, duplicates {self.duplicates}, "
            f"system lines {self.system_lines}, skipped {self.skipped}, "
            f"problems {self.problem_count}"
        )
