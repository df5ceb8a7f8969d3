"""Writing an output file (`-o PATH`, the digest folder): a regular file atomically, and
nothing else replaced by a file behind the user's back."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path


class Unwritable(Exception):
    """`force` was given but what is at the path is not replaced: a symbolic link (to a
    file, a folder, or nothing), a folder, a block device or a socket."""


def write_file(
    path: Path, text: str | Iterable[str], *, force: bool = False, parents: bool = False
) -> None:
    """Write `text` (or its pieces, in order) to `path`.

    Nothing at `path`: a temporary file beside it, fsynced, then linked into place. Without
    `force` anything already there is kept and FileExistsError raised, even when another
    process creates the file at the same moment. With `force` a regular file is replaced
    atomically (os.replace); a character device or a FIFO, also behind a symbolic link
    (/dev/stdout, /dev/null, a named pipe), is opened and written to; anything else raises
    `Unwritable`, a symbolic link included: os.replace would swap the link, not write
    where it points. `parents`: make the missing folders (the digest folder); otherwise
    a missing folder is an error, as a mistyped one would be."""
    kind = _kind(path)
    if kind != "none" and not force:
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path))
    if kind == "stream":
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.writelines([text] if isinstance(text, str) else text)
        return
    if kind == "link":
        raise Unwritable(f"{path} is a symbolic link: not replaced; give the path of its target")
    if kind == "folder":
        raise Unwritable(f"{path} is a folder")
    if kind == "other":
        raise Unwritable(f"{path} is not a regular file: not replaced")
    if parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.writelines([text] if isinstance(text, str) else text)
            f.flush()
            os.fsync(f.fileno())
        if force:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if the file exists: never overwrites
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _kind(path: Path) -> str:
    """What is at `path`: none, file (regular), stream (a character device or a FIFO, or a
    link to one), link (to anything else), folder or other. A parent that is not a folder
    raises NotADirectoryError, as writing there would."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return "none"
    if stat.S_ISLNK(mode):
        try:
            mode = os.stat(path).st_mode
        except OSError:  # dangling, or a loop
            return "link"
        return "stream" if _streams(mode) else "link"
    if stat.S_ISREG(mode):
        return "file"
    if _streams(mode):
        return "stream"
    return "folder" if stat.S_ISDIR(mode) else "other"


def _streams(mode: int) -> bool:
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)
