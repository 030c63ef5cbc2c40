"""The one exception an ingest raises for input that the uploader can fix."""

from __future__ import annotations


class IngestRejected(ValueError):
    """The upload cannot become a dataset version; the message says why in one sentence.

    Examples: 'member "../evil.png" escapes the archive', 'archive inflates past the 1 GiB limit',
    '3 files could not be decoded: cats/a.png (truncated PNG), ...'.

    `problems` lists the files named in the message (at most `max_listed_problems` of them) so a
    form can show them as a list; `problem_count` counts all of them, listed or not.
    """

    def __init__(
        self, message: str, *, problems: list[str] | None = None, problem_count: int = 0
    ) -> None:
        super().__init__(message)
        self.message = message
        self.problems: list[str] = list(problems or [])
        self.problem_count = max(problem_count, len(self.problems))


def undecodable_files_rejection(problems: list[str], *, max_listed: int) -> IngestRejected:
    """One rejection naming the first `max_listed` undecodable files and counting the rest.

    One message for all of them, rather than one per upload attempt, spares the uploader a round
    trip per broken file.
    """
    listed = problems[:max_listed]
    noun = "file" if len(problems) == 1 else "files"
    message = f"{len(problems)} {noun} could not be decoded: " + ", ".join(listed)
    if len(problems) > len(listed):
        message += f", and {len(problems) - len(listed)} more"
    return IngestRejected(message, problems=listed, problem_count=len(problems))


class UndecodableMember(Exception):
    """One archive member that cannot be read as the dataset's kind of file.

    Internal: the archive walk collects these into one IngestRejected instead of stopping at the
    first, so `reason` is short ("truncated PNG") and the walk adds the member's path.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
