"""Run the kernel's many small matrix products on a few threads, each with single-threaded BLAS.

The chunked kernel makes thousands of products of a few MB each. Left to itself, OpenBLAS splits every
one of them over all cores and synchronises its threads by spinning; on a busy machine (or inside
another thread pool) that is 10–50× slower than one thread per product. So the kernel splits its row
blocks over ``workers()`` Python threads (numpy releases the GIL inside products and ufuncs) and
asks OpenBLAS for one thread *in each of them* through ``openblas_set_num_threads_local`` (OpenBLAS
≥ 0.3.27, thread-local: the caller's own setting is untouched and restored afterwards).

Where that function cannot be found (another BLAS, an older OpenBLAS, a platform without
``/proc/self/maps``) everything runs in the calling thread and BLAS keeps its own threading.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def _mapped_libraries() -> list[str]:
    maps = Path("/proc/self/maps")
    if not maps.is_file():
        return []
    paths = []
    for line in maps.read_text().splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and "openblas" in Path(fields[5]).name.lower():
            paths.append(fields[5])
    return list(dict.fromkeys(paths))


@cache
def _set_threads_local() -> Callable[[int], int] | None:
    """OpenBLAS's thread-local setter (returns the previous value), or None when unavailable."""
    import numpy  # noqa: F401  (loads the BLAS numpy links against, so it shows in the maps)

    for path in _mapped_libraries():
        try:
            library = ctypes.CDLL(path)
            setter = library.openblas_set_num_threads_local
        except (OSError, AttributeError):
            continue
        setter.argtypes = [ctypes.c_int]
        setter.restype = ctypes.c_int
        return setter
    return None


def workers() -> int:
    """Threads the kernel uses: the CPUs this process may run on, or 1 without BLAS control."""
    if _set_threads_local() is None:
        return 1
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _single_threaded(fn: Callable[[T], R]) -> Callable[[T], R]:
    setter = _set_threads_local()

    def run(item: T) -> R:
        if setter is None:
            return fn(item)
        previous = setter(1)
        try:
            return fn(item)
        finally:
            setter(previous)

    return run


def map_parts(fn: Callable[[T], R], parts: Sequence[T]) -> list[R]:
    """``[fn(p) for p in parts]``, on ``workers()`` threads with single-threaded BLAS when possible."""
    n = min(workers(), len(parts))
    if n <= 1:
        return [fn(part) for part in parts]
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(_single_threaded(fn), parts))
