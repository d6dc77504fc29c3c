"""Errors that reach the user.

An :class:`ActionLensError` carries a one-line message that names the file, word or setting at
fault and says what to do. The CLI prints it and exits non-zero; the GUI shows it in a dialog.
"""

from __future__ import annotations

import errno

#: ``OSError`` numbers that mean "this place cannot be written" (read-only file system, no
#: permission, disk or quota full): the user can act on them, so they become one line.
UNWRITABLE_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT})


class ActionLensError(Exception):
    """A failure the user can act on; ``str(err)`` is the one-line reason."""


class WorkspaceError(ActionLensError):
    """A workspace is missing, damaged, or of an unknown schema version."""


class UnknownWordError(ActionLensError, KeyError):
    """A word is not in the word-vector vocabulary.

    Parameters
    ----------
    word
        The word as the user typed it.
    suggestions
        Nearby spellings that the vocabulary does hold, best first.
    """

    def __init__(self, word: str, suggestions: list[str] | tuple[str, ...] = ()) -> None:
        self.word = word
        self.suggestions = list(suggestions)
        hint = f"; did you mean {', '.join(repr(s) for s in self.suggestions)}?" if self.suggestions else ""
        shown = repr(word) if len(word) <= 60 else f"{word[:60]!r}… ({len(word)} characters)"
        super().__init__(f"word {shown} is not in the word vectors{hint}")

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return str(self.args[0])


class TaskCancelled(ActionLensError):
    """A long task stopped because its progress handle asked it to."""


def unwritable_error(exc: OSError, path: object = None) -> ActionLensError | None:
    """The one-line error for an ``OSError`` that says a file cannot be written, else ``None``.

    ``path`` names the file meant (the exception may name a temporary file beside it).
    """
    if exc.errno not in UNWRITABLE_ERRNOS:
        return None
    where = path if path is not None else (exc.filename or "a workspace file")
    return ActionLensError(
        f"cannot write {where} ({exc.strerror or exc}); the workspace must be writable to change it "
        "(check its permissions, whether its disk is mounted read-only, or free space)"
    )
