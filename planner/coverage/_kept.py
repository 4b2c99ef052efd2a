"""Circles kept from one batch of stations to the next, compactly, and freed memory returned.

The stations' own circles are drawn a batch of stations at a time
(:meth:`planner.coverage.circles.CircleBuilder.station_circles`). A batch's tables and
drawings are many times the size of the circles that stay, and they are made on
several threads; a GEOS polygon kept among them pins the pages of the allocator's
arenas they were made in, so a run of many batches grew far beyond what it kept
(20,000 stations on the demo street: 10.3 GB peak for about 1.2 GB of kept
coordinates, ``docs/benchmarks/coverage.md``). Two measures keep the step to the
kept circles plus one batch:

* :class:`KeptCircles` stores each batch's finished polygons as one WKB blob per
  threshold (16 bytes a vertex against GEOS's 24, one allocation per batch instead of
  several per ring) and turns them back into polygons once, at the end, in one thread,
  batch by batch (each blob dropped once decoded). WKB holds the doubles exactly, so
  the polygons are the same, vertex for vertex.
* :func:`release_freed_memory` hands the memory freed by a finished batch back to the
  operating system (glibc's ``malloc_trim``; nothing elsewhere), so the next batch
  does not stack its drawings on pages the last one left behind.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable, Sequence

import numpy as np
import shapely
from numpy.typing import NDArray

ObjArray = NDArray[np.object_]
IntArray = NDArray[np.int64]

__all__ = ["KeptCircles", "release_freed_memory"]


class KeptCircles:
    """The finished circles of a run's batches, per threshold, as WKB.

    Parameters
    ----------
    layers
        Number of thresholds (one list of circles each).
    """

    def __init__(self, layers: int) -> None:
        self._blobs: list[list[tuple[bytes, IntArray]]] = [[] for _ in range(layers)]

    def add(self, by_threshold: Sequence[ObjArray]) -> None:
        """Keep one batch's circles, one array per threshold (None is kept as an
        empty polygon)."""
        for layer, polygons in zip(self._blobs, by_threshold, strict=True):
            geoms = np.array(polygons, dtype=object)
            geoms[shapely.is_missing(geoms)] = shapely.Polygon()
            wkb = shapely.to_wkb(geoms)
            ends = np.cumsum([len(w) for w in wkb], dtype="int64")
            layer.append((b"".join(wkb), ends))

    def nbytes(self) -> int:
        """Bytes the kept circles take (blobs and their offsets)."""
        return sum(len(b) + e.nbytes for layer in self._blobs for b, e in layer)

    def polygons(self) -> list[ObjArray]:
        """Per threshold, the circles of all batches in the order added (the store is
        emptied: each batch's blob is dropped once decoded)."""
        out = []
        for layer in self._blobs:
            parts = []
            while layer:
                blob, ends = layer.pop(0)
                starts = np.r_[0, ends[:-1]]
                wkb = [blob[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
                del blob
                parts.append(np.asarray([*shapely.from_wkb(wkb), None], dtype=object)[:-1])
            out.append(np.concatenate(parts) if parts else np.zeros(0, dtype=object))
        return out


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, musl)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_freed_memory() -> bool:
    """Return the allocator's free pages (of every thread's arena) to the operating
    system; False where that cannot be done (not glibc)."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
