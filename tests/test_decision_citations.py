"""Comments and docs cite only what a reader of this repository can open.

The reasons behind the least obvious behaviour live in `docs/decisions/` (ADR-NNNN). A citation
of a record that does not exist, or of a document kept outside the repository (a specification
file, a numbered decision or section of it), leaves a maintainer with nothing to follow, so
either fails here. Every text file of the repository is read: tracked files and new ones not yet
committed, from `git ls-files`, or from a walk when there is no git checkout.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DECISIONS = ROOT / "docs" / "decisions"

# Folders a walk never enters: dependencies, build output, caches, local data.
_SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".venv",
        "node_modules",
        "cdk.out",
        ".data",
        ".lambda-bundle",
        "build",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".hypothesis",
        "__pycache__",
    }
)
# Recorded outputs, not prose anyone writes: response snapshots and the npm lock file.
_GENERATED = re.compile(r"(^|/)__snapshots__/|(^|/)package-lock\.json$")
# This file, whose examples of bad citations are bad citations.
_SELF = Path(__file__).resolve().relative_to(ROOT).as_posix()

# Documents of the specification the service was built from; none of them is in the repository.
_OUTSIDE_DOCUMENTS = re.compile(
    r"(?<![\w./-])(?:endpoints|scoring|schema|human-points|public-api|lambda-runtime)\.md\b"
)
# Numbered items of an outside document: "decision 9", "decisions P1-P6", "§3.4",
# "open question 6", "spec README".
_OUTSIDE_ITEMS = re.compile(
    r"\b[Dd]ecisions? +P?\d|\u00a7 *\d|\b[Oo]pen questions? +\d|\bspec(?:'s)? README\b"
)
_ADR = re.compile(r"\bADR-(\d+)\b")
# A file name ending in .md, possibly with folders: it must name a file of the repository.
_MARKDOWN_NAME = re.compile(r"[\w./-]*\w\.md\b")
# A path from the repository's root, as comments and docs name the code they describe
# (`service/use_cases/score_passport.py`): after a file moves, every mention must follow it.
_REPOSITORY_PATH = re.compile(
    r"(?<![\w./-])((?:service|tests|tools|infra|docs)/[\w./-]*\w\.(?:py|sql|json|md))\b"
)


def repository_files() -> list[str]:
    """Repository-relative paths of every file a citation could hide in."""
    git = shutil.which("git")
    if git is None:
        return sorted(_walk())
    try:
        listed = subprocess.run(
            [git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        return sorted(_walk())
    return sorted(path for path in listed.split("\0") if path and (ROOT / path).is_file())


def _walk() -> Iterator[str]:
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [name for name in dirs if name not in _SKIPPED_DIRS]
        for name in files:
            yield (Path(folder) / name).relative_to(ROOT).as_posix()


def text_files() -> dict[str, str]:
    texts: dict[str, str] = {}
    for path in repository_files():
        if _GENERATED.search(path) or path == _SELF:
            continue
        try:
            texts[path] = (ROOT / path).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary files hold no prose
    return texts


def existing_records() -> set[str]:
    return {path.name[:4] for path in DECISIONS.glob("[0-9][0-9][0-9][0-9]-*.md")}


def citation_problems(
    text: str, *, records: set[str], markdown_files: set[str], where: str
) -> list[str]:
    """One message per bad citation in `text`, each naming `where` and the line."""
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        place = f"{where}:{number}"
        for match in _OUTSIDE_DOCUMENTS.finditer(line):
            problems.append(f"{place}: cites {match.group(0)}, which is not in the repository")
        for match in _OUTSIDE_ITEMS.finditer(line):
            problems.append(
                f"{place}: cites {match.group(0)!r} of a document outside the repository"
            )
        for match in _ADR.finditer(line):
            digits = match.group(1)
            if len(digits) != 4:
                problems.append(f"{place}: {match.group(0)} is not ADR-NNNN")
            elif digits not in records:
                problems.append(f"{place}: {match.group(0)} has no docs/decisions/{digits}-*.md")
        for match in _MARKDOWN_NAME.finditer(line):
            name = match.group(0)
            if _OUTSIDE_DOCUMENTS.fullmatch(name.rsplit("/", 1)[-1]):
                continue  # reported above
            if "://" in line[line.rfind(" ", 0, match.start()) + 1 : match.end()]:
                continue  # part of a public address, which anyone can open
            if "NNNN" in name:
                continue  # the pattern of a record's name, not a file
            if name not in markdown_files and name.rsplit("/", 1)[-1] not in markdown_files:
                problems.append(f"{place}: names {name}, which is not in the repository")
    return problems


def missing_paths(text: str, *, files: set[str], where: str) -> list[str]:
    """One message per root-relative path in `text` that names no file of the repository."""
    return [
        f"{where}:{number}: names {match.group(1)}, which is not in the repository"
        for number, line in enumerate(text.splitlines(), start=1)
        for match in _REPOSITORY_PATH.finditer(line)
        if match.group(1) not in files and "NNNN" not in match.group(1)
    ]


def markdown_names(paths: list[str]) -> set[str]:
    """Every tail of each Markdown file's path (`docs/decisions/README.md`,
    `decisions/README.md`, `README.md`), so that a name relative to any folder is found."""
    names: set[str] = set()
    for path in paths:
        if path.endswith(".md"):
            parts = path.split("/")
            names.update("/".join(parts[i:]) for i in range(len(parts)))
    return names


def test_no_comment_cites_a_missing_record_or_an_outside_document() -> None:
    texts = text_files()
    records = existing_records()
    markdown_files = markdown_names(list(texts))

    problems = [
        problem
        for path, text in texts.items()
        for problem in citation_problems(
            text, records=records, markdown_files=markdown_files, where=path
        )
    ]

    assert problems == []


def test_every_path_named_is_a_file_of_the_repository() -> None:
    files = set(repository_files())

    problems = [
        problem
        for path, text in text_files().items()
        for problem in missing_paths(text, files=files, where=path)
    ]

    assert problems == []


def test_a_path_that_moved_away_is_reported() -> None:
    files = {"service/use_cases/score_passport.py", "docs/decisions/0005-lifo-dedup.md"}
    text = (
        "# see service/use_cases/score_passport.py and docs/decisions/0005-lifo-dedup.md\n"
        "# the retry lives in service/pipeline.py:_plan_and_save\n"
        "a new record: docs/decisions/NNNN-title.md"
    )

    assert missing_paths(text, files=files, where="tools/example.py") == [
        "tools/example.py:2: names service/pipeline.py, which is not in the repository"
    ]


def test_the_files_read_include_the_code_tests_tools_infra_and_docs() -> None:
    texts = text_files()

    for expected in (
        "service/use_cases/score_passport.py",
        "tests/service/conftest.py",
        "tools/pgcluster.py",
        "infra/scorer_stack.py",
        "README.md",
        "Makefile",
        "docs/decisions/README.md",
    ):
        assert expected in texts


def test_a_walk_without_git_skips_dependencies_and_build_output() -> None:
    walked = set(_walk())

    assert "service/use_cases/score_passport.py" in walked
    assert not any(_SKIPPED_DIRS.intersection(path.split("/")[:-1]) for path in walked)


def test_every_record_is_listed_in_the_index() -> None:
    index = (DECISIONS / "README.md").read_text(encoding="utf-8")

    for record in sorted(DECISIONS.glob("[0-9][0-9][0-9][0-9]-*.md")):
        assert f"({record.name})" in index, record.name


@pytest.mark.parametrize(
    "line",
    [
        "# Why a 404 here (endpoints.md §3.4).",
        '"""LIFO planning (scoring.md steps 9-11)."""',
        "See schema.md for the columns.",
        "(README decision 12)",
        "# Decision 7: points only on request",
        "as public-api.md decisions P1-P6 say",
        "reported by the reference (spec open question 6)",
        "# the spec README settles it",
        "(\u00a75.6)",
        "# ADR-9999 says why",
        "# ADR-7 says why",
        "# see docs/nowhere.md",
    ],
)
def test_an_outside_or_missing_citation_is_reported(line: str) -> None:
    problems = citation_problems(
        line, records={"0001"}, markdown_files={"README.md"}, where="service/example.py"
    )

    assert problems
    assert all(problem.startswith("service/example.py:1: ") for problem in problems)


@pytest.mark.parametrize(
    "line",
    [
        "# A 404 where the reference answers 500 (ADR-0001).",
        "Read README.md first.",
        "the records in docs/decisions/README.md",
        "the reference's api/ceramic_cache/api/v1.py",
        "decisions are recorded in docs/decisions",
        "the record docs/decisions/0006-human-points.md",
        "<https://github.com/passportxyz/passport-scorer/blob/main/api/CHANGELOG.md>",
    ],
)
def test_a_citation_of_the_repository_is_accepted(line: str) -> None:
    problems = citation_problems(
        line,
        records={"0001"},
        markdown_files=markdown_names(
            ["README.md", "docs/decisions/README.md", "docs/decisions/0006-human-points.md"]
        ),
        where="service/example.py",
    )

    assert problems == []
