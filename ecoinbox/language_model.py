"""py3langid's model, loaded from an unpacked copy in the cache directory.

The package ships its model LZMA-compressed (4.6 MB): unpacking it is 1.3-1.7 s of CPU at every
start, under the interpreter lock, before the first polled message can be stored (the demo's
first rows waited for it). The first load unpacks it as py3langid does and keeps its arrays
beside the other caches, one `.npy` file each; every later start maps them (tens of ms), the
pages read as detection needs them. The copy is named after the model file's size and time, so
an upgraded py3langid is unpacked again; a copy that cannot be read or written is only slower.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Final

__all__ = ["cache_folder", "load_identifier"]

log = logging.getLogger(__name__)

FORMAT: Final = 1
"""The layout of the unpacked copy; a new one is made when it changes."""

NAMES: Final = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat")


def load_identifier(cache: Path | None = None) -> Any:
    """A `LanguageIdentifier` of the whole model (probabilities normalised), from the unpacked
    copy under `cache` (default: the user's cache directory), made first if there is none."""
    import numpy as np
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    source = MODEL_DIR / MODEL_FILE
    folder = cache_folder(source, cache)
    arrays = mapped(folder)
    if arrays is None:
        from py3langid.modelio import load_model

        ptc, pc, classes, nextmove, rows, output = load_model(source)  # the slow unpacking
        keep(folder, ptc, pc, classes, nextmove, rows, output)
        return LanguageIdentifier(np.asarray(ptc), np.asarray(pc), classes, nextmove, output,
                                  norm_probs=True, tk_row=rows)  # fmt: skip
    ptc, pc, classes, nextmove, rows, output = (arrays[name] for name in NAMES)
    # memoryviews index like py3langid's arrays (a Python int per item) without a copy of 40 MB.
    return LanguageIdentifier(ptc, np.asarray(pc), classes.tolist(), memoryview(nextmove),
                              memoryview(output), norm_probs=True, tk_row=memoryview(rows))  # fmt: skip


def cache_folder(source: Path, cache: Path | None = None) -> Path:
    if cache is None:
        import platformdirs

        cache = platformdirs.user_cache_path("ecoinbox", appauthor=False)
    stat = source.stat()
    return cache / f"language-model-v{FORMAT}-{stat.st_size}-{stat.st_mtime_ns}"


def mapped(folder: Path) -> dict[str, Any] | None:
    """The unpacked copy's arrays, mapped read-only; None when there is none or it is unreadable."""
    import numpy as np

    try:
        return {name: np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in NAMES}
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:  # cut short by a full disk, or damaged: unpacked again
        log.warning("the unpacked language model in %s cannot be read (%s); unpacking it again", folder, exc)
        shutil.rmtree(folder, ignore_errors=True)  # so that a whole copy takes its place
        return None


def keep(folder: Path, *arrays: Any) -> None:
    """Write the unpacked copy: into a new folder, renamed once whole (a second process racing to
    write it keeps either copy, both whole)."""
    import numpy as np

    try:
        folder.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = Path(tempfile.mkdtemp(prefix=".language-model-", dir=folder.parent))
    except OSError as exc:
        log.info("the language model is not kept unpacked (%s): the next start unpacks it again", exc)
        return
    try:
        for name, array in zip(NAMES, arrays, strict=True):
            if isinstance(array, list):
                array = np.array(array, dtype=np.int32 if name == "out_feat" else None)
            np.save(partial / f"{name}.npy", np.asarray(array), allow_pickle=False)
        os.replace(partial, folder)
    except OSError as exc:  # a full disk, or another process kept its copy first
        if not folder.is_dir():
            log.info("the language model is not kept unpacked (%s): the next start unpacks it again", exc)
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(partial)
