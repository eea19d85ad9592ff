"""Static output shapes of Keras layers (no TensorFlow): the shape functions of the KM52x rules.

A shape is a tuple with the batch axis first (`(None, 28, 28, 1)`); a dimension that is not
known is `None`, and a shape that is not known at all is `None` too. A layer's configuration is
a dict of its shape-relevant arguments as Python values; an argument given but not readable
from the code is `UNK`. `infer(kind, config, inputs)` returns `(shape, problem)`: the output
shape (None when anything it depends on is unknown) and, when the input cannot be taken by the
layer (a rank it does not accept, a reshape of the wrong size), a sentence saying why.
Nothing here raises on odd input: whatever it does not understand is unknown.

tests/rules/lint/test_shape_functions_tf.py checks `infer` against TensorFlow's own
`compute_output_shape` for generated configurations of every layer listed in `SIGNATURES`.
"""
from __future__ import annotations

from math import prod
from typing import Any, Optional

Shape = Optional[tuple]


class _Unknown:
    def __repr__(self) -> str:
        return "UNK"


UNK: Any = _Unknown()

# Layer kind -> the names of its positional arguments that matter for shapes (in order).
SIGNATURES: dict[str, tuple[str, ...]] = {
    "Dense": ("units",),
    "Conv1D": ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate"),
    "Conv2D": ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate"),
    "Conv3D": ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate"),
    "SeparableConv1D": ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate"),
    "SeparableConv2D": ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate"),
    "Conv1DTranspose": ("filters", "kernel_size", "strides", "padding"),
    "Conv2DTranspose": ("filters", "kernel_size", "strides", "padding"),
    "Conv3DTranspose": ("filters", "kernel_size", "strides", "padding"),
    "MaxPooling1D": ("pool_size", "strides", "padding", "data_format"),
    "MaxPooling2D": ("pool_size", "strides", "padding", "data_format"),
    "MaxPooling3D": ("pool_size", "strides", "padding", "data_format"),
    "AveragePooling1D": ("pool_size", "strides", "padding", "data_format"),
    "AveragePooling2D": ("pool_size", "strides", "padding", "data_format"),
    "AveragePooling3D": ("pool_size", "strides", "padding", "data_format"),
    "GlobalMaxPooling1D": ("data_format", "keepdims"),
    "GlobalMaxPooling2D": ("data_format", "keepdims"),
    "GlobalMaxPooling3D": ("data_format", "keepdims"),
    "GlobalAveragePooling1D": ("data_format", "keepdims"),
    "GlobalAveragePooling2D": ("data_format", "keepdims"),
    "GlobalAveragePooling3D": ("data_format", "keepdims"),
    "Flatten": ("data_format",),
    "Reshape": ("target_shape",),
    "Embedding": ("input_dim", "output_dim"),
    "LSTM": ("units",),
    "GRU": ("units",),
    "SimpleRNN": ("units",),
    "Dropout": ("rate",),
    "SpatialDropout1D": ("rate",),
    "SpatialDropout2D": ("rate",),
    "GaussianNoise": ("stddev",),
    "BatchNormalization": ("axis",),
    "LayerNormalization": ("axis",),
    "Activation": ("activation",),
    "ReLU": (),
    "LeakyReLU": (),
    "Softmax": (),
    "Rescaling": ("scale", "offset"),
    "RepeatVector": ("n",),
    "UpSampling1D": ("size",),
    "UpSampling2D": ("size",),
    "ZeroPadding1D": ("padding",),
    "ZeroPadding2D": ("padding",),
    "Concatenate": ("axis",),
    "Add": (),
    "Subtract": (),
    "Multiply": (),
    "Average": (),
    "Maximum": (),
    "Minimum": (),
    "TimeDistributed": ("layer",),
    "Bidirectional": ("layer", "merge_mode"),
    "InputLayer": ("shape",),
}
ALIASES = {
    "Convolution1D": "Conv1D", "Convolution2D": "Conv2D", "Convolution3D": "Conv3D",
    "SeparableConvolution1D": "SeparableConv1D", "SeparableConvolution2D": "SeparableConv2D",
    "Convolution2DTranspose": "Conv2DTranspose", "Convolution3DTranspose": "Conv3DTranspose",
    "MaxPool1D": "MaxPooling1D", "MaxPool2D": "MaxPooling2D", "MaxPool3D": "MaxPooling3D",
    "AvgPool1D": "AveragePooling1D", "AvgPool2D": "AveragePooling2D", "AvgPool3D": "AveragePooling3D",
    "GlobalMaxPool1D": "GlobalMaxPooling1D", "GlobalMaxPool2D": "GlobalMaxPooling2D",
    "GlobalMaxPool3D": "GlobalMaxPooling3D", "GlobalAvgPool1D": "GlobalAveragePooling1D",
    "GlobalAvgPool2D": "GlobalAveragePooling2D", "GlobalAvgPool3D": "GlobalAveragePooling3D",
}
# Keywords that do not change a layer's output shape (any other keyword makes the layer unknown:
# Keras 1 spellings such as `border_mode`, `nb_filter`, `output_dim` are not guessed at).
NEUTRAL_KEYWORDS = frozenset({
    "name", "activation", "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer",
    "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint", "trainable",
    "dtype", "input_shape", "input_dim", "batch_input_shape", "batch_size", "input_length",
    "recurrent_activation", "recurrent_initializer", "recurrent_regularizer", "recurrent_constraint",
    "dropout", "recurrent_dropout", "unit_forget_bias", "unroll", "go_backwards", "seed",
    "momentum", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer",
    "moving_mean_initializer", "moving_variance_initializer", "beta_regularizer", "gamma_regularizer",
    "beta_constraint", "gamma_constraint", "mask_zero", "embeddings_initializer",
    "embeddings_regularizer", "embeddings_constraint", "noise_shape", "negative_slope", "alpha",
    "max_value", "threshold", "groups", "depthwise_initializer", "pointwise_initializer",
    "depthwise_regularizer", "pointwise_regularizer", "depth_multiplier", "interpolation",
    "implementation", "reset_after", "use_cudnn", "synchronized", "rms_scaling", "weights",
})
RECURRENT = {"LSTM", "GRU", "SimpleRNN"}
SAME_SHAPE = {"Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "BatchNormalization",
              "LayerNormalization", "Activation", "ReLU", "LeakyReLU", "Softmax", "Rescaling"}
MERGE = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"}
# Input rank (batch included) each layer accepts: exact, or ("min", n).
_CONV_RANK = {"1D": 3, "2D": 4, "3D": 5}


def canonical(kind: str) -> str:
    return ALIASES.get(kind, kind)


def known(*values) -> bool:
    return all(v is not None and v is not UNK for v in values)


def _tuple(value, n: int):
    """`3` -> (3, 3) for n=2; a tuple of length n as it is; anything else UNK."""
    if isinstance(value, bool):
        return UNK
    if isinstance(value, int):
        return (value,) * n
    if isinstance(value, (tuple, list)) and len(value) == n and all(isinstance(v, int) for v in value):
        return tuple(value)
    return UNK


def _padding(value) -> Any:
    if isinstance(value, str) and value.lower() in ("valid", "same", "causal"):
        return value.lower()
    return UNK


def _conv_length(length, kernel, stride, padding, dilation=1):
    if not known(length, kernel, stride, padding, dilation):
        return None
    if padding in ("same", "causal"):
        return -(-length // stride)
    effective = dilation * (kernel - 1) + 1
    return (length - effective) // stride + 1


def rank_of(shape: Shape) -> Optional[int]:
    return len(shape) if shape is not None else None


def fmt(shape: Shape) -> str:
    if shape is None:
        return "(?)"
    inner = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def expected_rank(kind: str) -> Optional[tuple[str, int]]:
    """("eq", n) or ("min", n): the input rank (batch included) a layer accepts; None: any."""
    kind = canonical(kind)
    for suffix, rank in _CONV_RANK.items():
        if kind.endswith(suffix) and kind.startswith(("Conv", "SeparableConv", "MaxPooling", "AveragePooling",
                                                      "GlobalMaxPooling", "GlobalAveragePooling",
                                                      "UpSampling", "ZeroPadding", "SpatialDropout")):
            return ("eq", rank)
    if kind.endswith("Transpose") and kind.startswith("Conv") and kind[-11:-9] in _CONV_RANK:
        return ("eq", _CONV_RANK[kind[-11:-9]])
    if kind in RECURRENT or kind == "Bidirectional":
        return ("eq", 3)
    if kind == "Dense":
        return ("min", 2)
    if kind == "TimeDistributed":
        return ("min", 3)
    if kind == "RepeatVector":
        return ("eq", 2)
    return None


def rank_problem(kind: str, shape: Shape) -> Optional[str]:
    want = expected_rank(kind)
    r = rank_of(shape)
    if want is None or r is None:
        return None
    how, n = want
    if (how == "eq" and r != n) or (how == "min" and r < n):
        need = f"ndim={n}" if how == "eq" else f"min_ndim={n}"
        return f"`{canonical(kind)}` expects input with {need}, found ndim={r} (shape {fmt(shape)})"
    return None


def infer(kind: str, cfg: dict, inputs: list) -> tuple[Shape, Optional[str]]:
    """The output shape of layer `kind` with configuration `cfg` on input shapes `inputs`."""
    try:
        return _infer(canonical(kind), cfg, inputs)
    except Exception:  # never let an odd configuration crash a lint run
        return None, None


def _infer(kind: str, cfg: dict, inputs: list) -> tuple[Shape, Optional[str]]:
    if kind in MERGE or kind == "Concatenate":
        return _merge(kind, cfg, inputs)
    if len(inputs) != 1:
        return None, None
    x = inputs[0]
    problem = rank_problem(kind, x)
    if problem is not None:
        return None, problem
    if kind == "InputLayer":
        return None, None
    if x is None:
        if kind == "Dense" and known(cfg.get("units")):
            return None, None
        return None, None
    x = tuple(x)
    if kind in SAME_SHAPE:
        return x, None
    if kind == "Dense":
        units = cfg.get("units", UNK)
        return x[:-1] + ((units if known(units) else None),), None
    if kind.endswith("Transpose") and kind.startswith("Conv") and kind[-11:-9] in _CONV_RANK:
        return _transpose(kind, cfg, x), None
    if kind.startswith(("Conv", "SeparableConv")) and kind[-2:] in _CONV_RANK:
        return _too_small(kind, x, _conv(kind, cfg, x))
    if kind.startswith(("MaxPooling", "AveragePooling")):
        return _too_small(kind, x, _pool(kind, cfg, x))
    if kind.startswith(("GlobalMaxPooling", "GlobalAveragePooling")):
        fmt_ = cfg.get("data_format", "channels_last")
        keep = cfg.get("keepdims", False)
        if fmt_ not in (None, "channels_last", "channels_first") or not isinstance(keep, bool):
            return None, None
        if fmt_ == "channels_first":
            return ((x[0], x[1]) + ((1,) * (len(x) - 2) if keep else ())), None
        return ((x[0],) + ((1,) * (len(x) - 2) if keep else ()) + (x[-1],)), None
    if kind == "Flatten":
        rest = x[1:]
        if cfg.get("data_format", "channels_last") not in (None, "channels_last", "channels_first"):
            return None, None
        return (x[0], prod(rest) if all(d is not None for d in rest) else None), None
    if kind == "Reshape":
        return _reshape(cfg.get("target_shape", UNK), x)
    if kind == "Embedding":
        out = cfg.get("output_dim", UNK)
        return x + ((out if known(out) else None),), None
    if kind in RECURRENT:
        units = cfg.get("units", UNK)
        u = units if known(units) else None
        rs = cfg.get("return_sequences", False)
        if cfg.get("return_state", False) is not False or not isinstance(rs, bool):
            return None, None
        return ((x[0], x[1], u) if rs else (x[0], u)), None
    if kind == "RepeatVector":
        n = cfg.get("n", UNK)
        return (x[0], n if known(n) else None, x[1]), None
    if kind.startswith("UpSampling"):
        n = 1 if kind.endswith("1D") else 2
        size = _tuple(cfg.get("size", 2), n)
        if size is UNK or cfg.get("data_format", "channels_last") not in (None, "channels_last"):
            return None, None
        spatial = tuple(d * s if d is not None else None for d, s in zip(x[1:-1], size))
        return (x[0],) + spatial + (x[-1],), None
    if kind.startswith("ZeroPadding"):
        n = 1 if kind.endswith("1D") else 2
        pad = cfg.get("padding", 1)
        if isinstance(pad, int) and not isinstance(pad, bool):
            pads = [(pad, pad)] * n
        elif isinstance(pad, (tuple, list)) and len(pad) == n and all(isinstance(p, int) for p in pad):
            pads = [(p, p) for p in pad]
        elif (isinstance(pad, (tuple, list)) and len(pad) == n
              and all(isinstance(p, (tuple, list)) and len(p) == 2 and all(isinstance(q, int) for q in p) for p in pad)):
            pads = [tuple(p) for p in pad]
        elif n == 1 and isinstance(pad, (tuple, list)) and len(pad) == 2 and all(isinstance(p, int) for p in pad):
            pads = [tuple(pad)]
        else:
            return None, None
        if cfg.get("data_format", "channels_last") not in (None, "channels_last"):
            return None, None
        spatial = tuple(d + a + b if d is not None else None for d, (a, b) in zip(x[1:-1], pads))
        return (x[0],) + spatial + (x[-1],), None
    if kind == "TimeDistributed":
        inner = cfg.get("layer", UNK)
        if not isinstance(inner, tuple) or len(inner) != 2:
            return None, None
        ikind, icfg = inner
        out, problem = _infer(canonical(ikind), icfg, [(x[0],) + x[2:]])
        if problem is not None:
            return None, f"inside `TimeDistributed`: {problem}"
        if out is None:
            return None, None
        return (x[0], x[1]) + tuple(out[1:]), None
    if kind == "Bidirectional":
        inner = cfg.get("layer", UNK)
        if not isinstance(inner, tuple) or len(inner) != 2 or canonical(inner[0]) not in RECURRENT:
            return None, None
        out, problem = _infer(canonical(inner[0]), inner[1], [x])
        if out is None:
            return None, problem
        mode = cfg.get("merge_mode", "concat")
        if mode == "concat":
            return out[:-1] + ((out[-1] * 2 if out[-1] is not None else None),), None
        if mode in ("sum", "mul", "ave"):
            return out, None
        return None, None
    return None, None


def _too_small(kind: str, x: tuple, out: Shape) -> tuple[Shape, Optional[str]]:
    if out is not None and any(d is not None and d <= 0 for d in out):
        return None, (f"`{kind}` on {fmt(x)}: the output size would be zero or negative "
                      f"({fmt(out)}); the input is smaller than the window")
    return out, None


def _conv(kind: str, cfg: dict, x: tuple) -> Shape:
    n = _CONV_RANK[kind[-2:]] - 2
    fmt_ = cfg.get("data_format", "channels_last")
    if fmt_ not in (None, "channels_last", "channels_first"):
        return None
    filters = cfg.get("filters", UNK)
    f = filters if known(filters) else None
    kernel = _tuple(cfg.get("kernel_size", UNK), n)
    strides = _tuple(cfg.get("strides", 1), n)
    dil = _tuple(cfg.get("dilation_rate", 1), n)
    padding = _padding(cfg.get("padding", "valid"))
    if padding == "causal" and kind != "Conv1D":
        return None
    spatial = x[2:] if fmt_ == "channels_first" else x[1:-1]
    if kernel is UNK or strides is UNK or dil is UNK or padding is UNK:
        out = (None,) * n
    else:
        out = tuple(_conv_length(d, k, s, padding, r) for d, k, s, r in zip(spatial, kernel, strides, dil))
    if fmt_ == "channels_first":
        return (x[0], f) + out
    return (x[0],) + out + (f,)


def _transpose(kind: str, cfg: dict, x: tuple) -> Shape:
    """Conv*DTranspose, channels last, no output_padding or dilation (other keywords: unknown)."""
    n = _CONV_RANK[kind[-11:-9]] - 2
    filters = cfg.get("filters", UNK)
    f = filters if known(filters) else None
    kernel = _tuple(cfg.get("kernel_size", UNK), n)
    strides = _tuple(cfg.get("strides", 1), n)
    padding = _padding(cfg.get("padding", "valid"))
    if kernel is UNK or strides is UNK or padding not in ("valid", "same"):
        return (x[0],) + (None,) * n + (f,)
    out = []
    for d, k, s in zip(x[1:-1], kernel, strides):
        if d is None:
            out.append(None)
        elif padding == "same":
            out.append(d * s)
        else:
            out.append(d * s + max(k - s, 0))
    return (x[0],) + tuple(out) + (f,)


def _pool(kind: str, cfg: dict, x: tuple) -> Shape:
    n = _CONV_RANK[kind[-2:]] - 2
    fmt_ = cfg.get("data_format", "channels_last")
    if fmt_ not in (None, "channels_last", "channels_first"):
        return None
    # Keras 3's AveragePooling has no default pool_size (KM333)
    pool = _tuple(cfg.get("pool_size", 2 if kind.startswith("Max") else UNK), n)
    stride_value = cfg.get("strides", None)
    strides = pool if stride_value is None else _tuple(stride_value, n)
    padding = _padding(cfg.get("padding", "valid"))
    if padding == "causal":
        return None
    spatial = x[2:] if fmt_ == "channels_first" else x[1:-1]
    if pool is UNK or strides is UNK or padding is UNK:
        out = (None,) * n
    else:
        out = tuple(_conv_length(d, p, s, padding) for d, p, s in zip(spatial, pool, strides))
    if fmt_ == "channels_first":
        return (x[0], x[1]) + out
    return (x[0],) + out + (x[-1],)


def _reshape(target, x: tuple) -> tuple[Shape, Optional[str]]:
    if not isinstance(target, (tuple, list)) or not all(isinstance(d, int) and not isinstance(d, bool)
                                                         for d in target):
        return None, None
    target = tuple(target)
    if target.count(-1) > 1:
        return None, None
    rest = x[1:]
    total = prod(rest) if all(d is not None for d in rest) else None
    if -1 in target:
        known_part = prod(d for d in target if d != -1)
        if total is None:
            return (x[0],) + tuple(None if d == -1 else d for d in target), None
        if known_part == 0 or total % known_part:
            return None, (f"`Reshape` cannot reshape {fmt(x)} ({total} values per sample) into "
                          f"{fmt(target)}")
        return (x[0],) + tuple(total // known_part if d == -1 else d for d in target), None
    if total is not None and prod(target) != total:
        return None, (f"`Reshape` cannot reshape {fmt(x)} ({total} values per sample) into {fmt(target)} "
                      f"({prod(target)} values)")
    return (x[0],) + target, None


def _merge(kind: str, cfg: dict, inputs: list) -> tuple[Shape, Optional[str]]:
    if len(inputs) < 2 or any(s is None for s in inputs):
        return None, None
    ranks = {len(s) for s in inputs}
    if kind != "Concatenate":
        return _broadcast(kind, inputs)
    if len(ranks) != 1:
        return None, (f"`{kind}` gets inputs of different ranks: "
                      + ", ".join(fmt(s) for s in inputs))
    r = ranks.pop()
    axis = cfg.get("axis", -1)
    if not isinstance(axis, int) or isinstance(axis, bool) or not -r <= axis < r:
        return None, None
    axis %= r
    if axis == 0:
        return None, None
    out = []
    for i in range(r):
        dims = [s[i] for s in inputs]
        if i == axis:
            out.append(sum(dims) if all(d is not None for d in dims) else None)
        else:
            seen = {d for d in dims if d is not None}
            if len(seen) > 1 and i > 0:
                return None, (f"`Concatenate(axis={cfg.get('axis', -1)})` gets shapes that differ off the "
                              f"axis: " + ", ".join(fmt(s) for s in inputs))
            out.append(seen.pop() if len(seen) == 1 else None)
    return tuple(out), None


def _broadcast(kind: str, inputs: list) -> tuple[Shape, Optional[str]]:
    """`Add`/`Multiply`/...: Keras 3 gives a lower-rank input axes of 1 after the batch axis and
    broadcasts the rest as NumPy does (`(None, 100)` times `(None, 1, 100)` is `(None, 1, 100)`).
    A known size against an unknown one gives the known size, the only one with which Keras runs
    (unless the known one is 1); sizes that are neither equal nor 1 are refused."""
    batch = {s[0] for s in inputs if s[0] is not None}
    r = max(len(s) for s in inputs) - 1
    rests = [tuple(s[1:]) for s in inputs]
    out = []
    for i in range(r):  # aligned from the right, as NumPy does
        dims = [rest[len(rest) - r + i] for rest in rests if len(rest) - r + i >= 0]
        sizes = {d for d in dims if d is not None and d != 1}
        if len(sizes) > 1:
            return None, f"`{kind}` gets inputs of different shapes: " + ", ".join(fmt(s) for s in inputs)
        if sizes:
            out.append(sizes.pop())
        else:
            out.append(None if None in dims else 1)
    return ((batch.pop() if len(batch) == 1 else None),) + tuple(out), None
