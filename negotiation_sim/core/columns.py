"""Arrays over worlds whose value is the same in every world, held once.

Most numbers of a scenario are fixed (positions, saliences, red lines, caps): drawn into full
``(..., N)`` arrays they would be sampled, copied at every compaction and re-solved in every
world although every column is the same. Here such an array is a *constant*: a read-only
``numpy.broadcast_to`` view of one column, whose last (worlds) axis has stride 0. It has the
full shape, so every consumer reads it as it reads any array over worlds (and computes the same
numbers), but it holds one column: ``take`` and ``concat`` of constants cost nothing, and code
whose result depends only on constants may compute it on one column and broadcast the result
(``on_column``). An array that is changed in some worlds (an event) is first made an ordinary
array (``writable``). Nothing here changes a number.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def constant(column: np.ndarray, n: int) -> np.ndarray:
    """``column`` (shape ``(..., 1)`` or ``(...,)``) as a constant array of ``n`` worlds."""
    column = np.asarray(column, dtype=float) if not isinstance(column, np.ndarray) else column
    if column.ndim == 0 or column.shape[-1] != 1:
        column = column[..., None]
    return np.broadcast_to(column, column.shape[:-1] + (n,))


def is_constant(a) -> bool:
    """Whether ``a`` is an array over worlds held once (a stride-0 view of one column)."""
    return (isinstance(a, np.ndarray) and a.ndim > 0 and a.shape[-1] > 1
            and a.strides[-1] == 0)


def all_constant(*arrays) -> bool:
    """Whether every one of ``arrays`` is a constant (None counts as constant)."""
    return all(a is None or is_constant(a) for a in arrays)


def column(a: np.ndarray) -> np.ndarray:
    """The one column of a constant (any array: its first column), shape ``(..., 1)``."""
    return a[..., :1]


def take(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``a.take(idx, axis=-1)``; a constant stays a constant (no copy)."""
    if is_constant(a) and len(idx) > 1:
        if len(idx) <= a.shape[-1]:
            return a[..., :len(idx)]  # a slice of a constant is one (and cheaper to make)
        return np.broadcast_to(a[..., :1], a.shape[:-1] + (len(idx),))
    return a.take(idx, axis=-1)  # (one world: an ordinary array, as a traced world's are)


def concat(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a`` and ``b`` joined on the worlds axis. A constant joined to worlds whose every
    column has its bits (another constant, or a few worlds taken out of one: one world is an
    ordinary array) stays a constant, so that one world rejoining the talks does not turn
    every constant of the ensemble into a copy for the rest of the run."""
    if is_constant(a) and _same_column(b, a):
        return np.broadcast_to(a[..., :1], a.shape[:-1] + (a.shape[-1] + b.shape[-1],))
    if is_constant(b) and not is_constant(a) and _same_column(a, b):
        return np.broadcast_to(b[..., :1], b.shape[:-1] + (a.shape[-1] + b.shape[-1],))
    return np.concatenate([a, b], axis=-1)


def same_constant(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether ``a`` and ``b`` are both constants whose columns have the same bits."""
    return is_constant(a) and is_constant(b) and _same_column(a, b)


_FEW = 64  # worlds an ordinary array may have for ``concat`` to compare it with a constant


def _same_column(a: np.ndarray, const: np.ndarray) -> bool:
    """Whether every column of ``a`` has the bits of the constant's column (a constant: its
    one column; an ordinary array: only when it has few worlds, where comparing is cheap)."""
    if a.shape[:-1] != const.shape[:-1] or a.dtype != const.dtype:
        return False
    if a.size == 0 or const.size == 0:
        return True  # no number to differ (no worlds, or no rows over them)
    one = np.ascontiguousarray(const[..., :1])
    if is_constant(a):
        return np.ascontiguousarray(a[..., :1]).tobytes() == one.tobytes()
    if a.shape[-1] > _FEW:
        return False
    # bitwise: -0.0 is not 0.0 and NaN is itself, so the constant holds exactly these numbers
    bits = np.ascontiguousarray(a).view(np.uint8).reshape(a.shape[:-1] + (a.shape[-1], -1))
    return bool((bits == one.view(np.uint8).reshape(one.shape[:-1] + (1, -1))).all())


def writable(a: np.ndarray) -> np.ndarray:
    """``a`` as an ordinary array that may be written (a constant is copied out)."""
    return np.array(a) if not a.flags.writeable else a


def on_column(fn: Callable[..., object], n: int, *arrays: np.ndarray):
    """``fn(*arrays)``, computed on one column and broadcast to ``n`` worlds when every array is
    a constant (``fn`` must treat worlds independently; its result is an array or a tuple or
    dataclass of arrays over worlds). Otherwise ``fn(*arrays)`` as it is."""
    if n < 3 or not all_constant(*arrays):
        return fn(*arrays)
    # Two columns, C-ordered, like the full arrays: numpy adds a short axis in another order
    # when it is the only one left (a reduction over issues of one column is a pairwise sum).
    out = fn(*(None if a is None else np.ascontiguousarray(a[..., :2]) for a in arrays))
    return widen(out, n)


def widen(out, n: int):
    """Every array of ``out`` (an array, tuple or dataclass) computed on the first columns of
    constants, as a constant of ``n`` worlds."""
    if isinstance(out, np.ndarray):
        return constant(out[..., :1], n)
    if isinstance(out, tuple):
        return tuple(widen(v, n) for v in out)
    if hasattr(out, "__dataclass_fields__"):
        for f in out.__dataclass_fields__:
            setattr(out, f, widen(getattr(out, f), n))
        return out
    return out


def stack(parts: list[np.ndarray], n: int) -> np.ndarray:
    """``np.stack(parts)`` (each an array over ``n`` worlds); constants stay a constant."""
    if n > 1 and parts and all(is_constant(p) for p in parts):
        return constant(np.stack([p[..., :1] for p in parts]), n)
    return np.stack(parts) if parts else np.zeros((0, n))
