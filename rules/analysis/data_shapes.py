"""Shapes of the data a Keras program builds or loads (numpy and keras.datasets), statically.

An `Array` is what the file shows about a numpy array: its shape (the sample axis first; None
for a dimension or a whole shape not known), where it was made, and what it holds when that is
visible: integer class labels with their number of classes, one-hot labels, or raw 0..255
pixels from `load_data()` not yet scaled. Everything not shown is unknown.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from math import prod
from typing import Any, Optional

import libcst as cst

# keras.datasets.<name>.load_data() -> ((x_train, y_train), (x_test, y_test)) shapes, classes,
# and whether x is images of raw uint8 pixels. imdb/reuters give lists of word ids (object arrays).
DATASETS: dict[str, tuple] = {
    "mnist": ((60000, 28, 28), (60000,), (10000, 28, 28), (10000,), 10, True),
    "fashion_mnist": ((60000, 28, 28), (60000,), (10000, 28, 28), (10000,), 10, True),
    "cifar10": ((50000, 32, 32, 3), (50000, 1), (10000, 32, 32, 3), (10000, 1), 10, True),
    "cifar100": ((50000, 32, 32, 3), (50000, 1), (10000, 32, 32, 3), (10000, 1), 100, True),
    "imdb": (None, (25000,), None, (25000,), 2, False),
    "reuters": (None, None, None, None, 46, False),
    "boston_housing": ((404, 13), (404,), (102, 13), (102,), None, False),
}


@dataclass(frozen=True)
class Array:
    shape: Optional[tuple]
    node: cst.CSTNode  # where it was made (for the line in messages)
    what: str = ""  # how the file made it, for messages: "mnist.load_data()"
    labels: Optional[str] = None  # "int" (class ids) | "onehot" | None (unknown / not labels)
    classes: Optional[int] = None  # number of classes of "int" labels (values 0..classes-1)
    labels_node: Optional[cst.CSTNode] = None  # where the label encoding was decided
    raw_pixels: bool = False  # 0..255 images straight from load_data(), not scaled since
    eye: Optional[int] = None  # np.eye(n): indexing it with class ids one-hot encodes them

    def with_shape(self, shape, node=None, **changes) -> "Array":
        return replace(self, shape=shape, node=node if node is not None else self.node, eye=None, **changes)

    @property
    def rank(self) -> Optional[int]:
        return len(self.shape) if self.shape is not None else None

    @property
    def width(self) -> Optional[int]:
        """Classes of one-hot labels (the last axis)."""
        if self.labels == "onehot" and self.shape:
            return self.shape[-1]
        return None


def dims(value: Any) -> Optional[tuple]:
    """A shape argument: `(3, 4)`, `[3, 4]` or `5` -> a tuple; anything else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return (value,)
    if isinstance(value, (tuple, list)) and all(isinstance(d, int) and not isinstance(d, bool) for d in value):
        return tuple(value)
    return None


def reshape(shape: Optional[tuple], target: Optional[tuple]) -> Optional[tuple]:
    """numpy's reshape with at most one -1 (None when not computable or not possible)."""
    if target is None or target.count(-1) > 1 or any(d < -1 for d in target):
        return None
    if -1 not in target:
        if shape is not None and None not in shape and prod(shape) != prod(target):
            return None
        return target
    if shape is None or None in shape:
        return tuple(None if d == -1 else d for d in target)
    rest = prod(d for d in target if d != -1)
    total = prod(shape)
    if rest == 0 or total % rest:
        return None
    return tuple(total // rest if d == -1 else d for d in target)


def expand(shape: Optional[tuple], axis: Any) -> Optional[tuple]:
    if shape is None or not isinstance(axis, int) or isinstance(axis, bool):
        return None
    n = len(shape) + 1
    if not -n <= axis < n:
        return None
    axis %= n
    return shape[:axis] + (1,) + shape[axis:]


def one_hot(labels: Array, n: Optional[int], node: cst.CSTNode, what: str) -> Array:
    """`to_categorical(y, n)`: a trailing axis of 1 is dropped, one of n added."""
    shape = labels.shape
    if shape is not None and len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    if n is None and labels.labels == "int":
        n = labels.classes
    new = shape + (n,) if shape is not None else None
    return Array(new, node, what, "onehot", None, node)


def eye_index(eye: int, labels: Array, node: cst.CSTNode) -> Array:
    """`np.eye(n)[y]`: numpy indexing keeps y's shape and adds an axis of n."""
    shape = labels.shape + (eye,) if labels.shape is not None else None
    return Array(shape, node, f"np.eye({eye})[...]", "onehot", None, node)


def slice_length(length: Optional[int], lower: Any, upper: Any, step: Any) -> Optional[int]:
    if length is None:
        return None
    if any(v is not None and (not isinstance(v, int) or isinstance(v, bool)) for v in (lower, upper, step)):
        return None
    return len(range(*slice(lower, upper, step).indices(length)))
