"""rules/tables/numpy_removed.py against the installed NumPy (the one TensorFlow 2.21 runs on):
every old name is gone (so KM355's "removed" is true) and every replacement exists."""
from __future__ import annotations

import builtins

import numpy as np
import pytest

from kmigrate.rules.tables.numpy_removed import REMOVED


@pytest.mark.parametrize("old", sorted(REMOVED))
def test_old_name_is_gone_and_its_replacement_exists(old):
    assert not hasattr(np, old), old
    new = REMOVED[old]
    if new.startswith("np."):
        assert hasattr(np, new[3:]), new
    else:
        assert getattr(builtins, new) in (float, int, object, str, complex), new
