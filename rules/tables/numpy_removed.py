"""NumPy names old Keras scripts use that today's NumPy (2.x, which TensorFlow 2.21 requires) no
longer has: name -> its replacement. A bare name is a Python builtin (NumPy's alias was exactly
it, removed in 1.24); `np.X` keeps the file's own NumPy alias (removed in 2.0). Checked against
the installed NumPy by tests/rules/keras3/test_numpy_removed_table.py."""

REMOVED = {
    "float": "float",
    "int": "int",
    "object": "object",
    "str": "str",
    "unicode": "str",
    "complex": "complex",
    "float_": "np.float64",
    "complex_": "np.complex128",
    "string_": "np.bytes_",
    "unicode_": "np.str_",
    "int0": "np.intp",
    "uint0": "np.uintp",
    "bool8": "np.bool_",
    "object0": "np.object_",
    "str0": "np.str_",
    "NaN": "np.nan",
    "NAN": "np.nan",
    "Inf": "np.inf",
    "Infinity": "np.inf",
    "infty": "np.inf",
    "PINF": "np.inf",
    "alltrue": "np.all",
    "sometrue": "np.any",
    "product": "np.prod",
    "cumproduct": "np.cumprod",
}
