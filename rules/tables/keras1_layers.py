"""KM301..KM310 data: Keras 1 layer names and constructor keywords, and what they are today.

Written from the Keras 2.0 compatibility layer's conversion lists (what Keras 2 itself did with a
Keras 1 call) and checked against the installed TensorFlow by tests/rules/keras3/test_keras1_table_matches_keras.py: every
target class exists in `tf.keras.layers` (or is `tf.keras.Model` / `tf.keras.Input`), and every
target keyword is accepted by it. Class keys are the last component of the canonical Keras name
(`layers.Convolution2D` -> "Convolution2D"); Keras 2 names are listed as well because Keras 2
accepted the Keras 1 keywords on them (`Conv2D(32, 3, 3, border_mode='same')` is common code).
"""

# Keras 1 layer class (or alias) -> the Keras 2/3 class.
LAYER_RENAMES = {
    "Convolution1D": "Conv1D",
    "Convolution2D": "Conv2D",
    "Convolution3D": "Conv3D",
    "SeparableConvolution2D": "SeparableConv2D",
    "Deconvolution2D": "Conv2DTranspose",
    "AtrousConvolution1D": "Conv1D",
    "AtrousConvolution2D": "Conv2D",
}

# Keras 1 layers that have no class today: report only, with what to do.
REMOVED_LAYERS = {
    "MaxoutDense": "removed in Keras 2; write it as `Dense(units * nb_feature)` followed by a "
                   "`Reshape((nb_feature, units))` and a max over axis 1 (a `Lambda`), or a small custom layer",
    "Highway": "removed in Keras 2; write a custom layer (y = T * H(x) + (1 - T) * x with a sigmoid "
               "gate T and a Dense transform H)",
    "TimeDistributedDense": "removed in Keras 2; use `TimeDistributed(Dense(...))` (or `Dense`, which "
                            "applies to the last axis of a 3D input)",
}

# Keras 1 `merge(mode=...)` -> the Keras 2/3 function and class.
MERGE_MODES = {
    "sum": ("add", "Add"),
    "mul": ("multiply", "Multiply"),
    "ave": ("average", "Average"),
    "max": ("maximum", "Maximum"),
    "concat": ("concatenate", "Concatenate"),
    "dot": ("dot", "Dot"),
    "cos": ("dot", "Dot"),  # with normalize=True
}
MERGE_DEFAULT_MODE = "sum"
# Keras 1 merge keyword -> today's keyword, per mode ("axes"/"axis"); others must be absent.
MERGE_KEYWORDS = {
    "concat_axis": ("concat", "axis"),
    "dot_axes": ("dot", "axes"),
}
MERGE_DEFAULTS = {"concat": ("axis", "-1"), "dot": ("axes", "-1")}  # Keras 1 defaults

# ----------------------------------------------------------------------------- keywords

_DENSE = {
    "init": "kernel_initializer",
    "W_regularizer": "kernel_regularizer",
    "b_regularizer": "bias_regularizer",
    "W_constraint": "kernel_constraint",
    "b_constraint": "bias_constraint",
    "bias": "use_bias",
}
_RNN = {
    "output_dim": "units",
    "init": "kernel_initializer",
    "inner_init": "recurrent_initializer",
    "inner_activation": "recurrent_activation",
    "W_regularizer": "kernel_regularizer",
    "b_regularizer": "bias_regularizer",
    "U_regularizer": "recurrent_regularizer",
    "dropout_W": "dropout",
    "dropout_U": "recurrent_dropout",
}
_CONV1D = {
    **_DENSE,
    "nb_filter": "filters",
    "filter_length": "kernel_size",
    "subsample_length": "strides",
    "border_mode": "padding",
}
_CONV2D = {
    **_DENSE,
    "nb_filter": "filters",
    "subsample": "strides",
    "border_mode": "padding",
    "dim_ordering": "data_format",  # value mapped by KM306
    "nb_row": "kernel_size",  # with nb_col: KM305
    "nb_col": "kernel_size",
}
_CONV3D = {
    **{k: v for k, v in _CONV2D.items() if k not in ("nb_row", "nb_col")},
    "kernel_dim1": "kernel_size",  # KM305
    "kernel_dim2": "kernel_size",
    "kernel_dim3": "kernel_size",
}
_SEPARABLE = {
    **{k: v for k, v in _CONV2D.items() if k not in ("W_regularizer", "W_constraint")},
    "init": ("depthwise_initializer", "pointwise_initializer"),
}
_DECONV = {**_CONV2D, "output_shape": None}  # dropped: KM310
_CONVLSTM = {
    **{k: v for k, v in _RNN.items() if k != "output_dim"},
    "nb_filter": "filters",
    "subsample": "strides",
    "border_mode": "padding",
    "dim_ordering": "data_format",
    "nb_row": "kernel_size",
    "nb_col": "kernel_size",
    "forget_bias_init": "unit_forget_bias",  # KM308
}
_POOL1D = {"pool_length": "pool_size", "stride": "strides", "border_mode": "padding"}
_POOL2D = {"border_mode": "padding", "dim_ordering": "data_format"}
_DATA_FORMAT = {"dim_ordering": "data_format"}
_DROPOUT = {"p": "rate"}

KEYWORDS = {
    "Dense": {"output_dim": "units", **_DENSE},
    "Dropout": _DROPOUT,
    "SpatialDropout1D": _DROPOUT,
    "SpatialDropout2D": {**_DROPOUT, **_DATA_FORMAT},
    "SpatialDropout3D": {**_DROPOUT, **_DATA_FORMAT},
    "GaussianDropout": _DROPOUT,
    "GaussianNoise": {"sigma": "stddev"},
    "Embedding": {
        "init": "embeddings_initializer",
        "W_regularizer": "embeddings_regularizer",
        "W_constraint": "embeddings_constraint",
    },
    "PReLU": {"init": "alpha_initializer"},
    # consume_less: value mapped by KM307; SimpleRNN takes no `implementation` today (dropped).
    # SimpleRNN has no gate, so no inner_activation (then or now).
    "SimpleRNN": {**{k: v for k, v in _RNN.items() if k != "inner_activation"}, "consume_less": None},
    "GRU": {**_RNN, "consume_less": "implementation"},
    "LSTM": {**_RNN, "consume_less": "implementation", "forget_bias_init": "unit_forget_bias"},
    "ConvLSTM2D": _CONVLSTM,
    "Conv1D": _CONV1D,
    "Convolution1D": _CONV1D,
    "AtrousConvolution1D": {**_CONV1D, "atrous_rate": "dilation_rate"},
    "Conv2D": _CONV2D,
    "Convolution2D": _CONV2D,
    "AtrousConvolution2D": {**_CONV2D, "atrous_rate": "dilation_rate"},
    "Conv3D": _CONV3D,
    "Convolution3D": _CONV3D,
    "SeparableConv2D": _SEPARABLE,
    "SeparableConvolution2D": _SEPARABLE,
    "Conv2DTranspose": _DECONV,
    "Deconvolution2D": _DECONV,
    "MaxPooling1D": _POOL1D,
    "AveragePooling1D": _POOL1D,
    "MaxPooling2D": _POOL2D,
    "AveragePooling2D": _POOL2D,
    "MaxPooling3D": _POOL2D,
    "AveragePooling3D": _POOL2D,
    "GlobalMaxPooling2D": _DATA_FORMAT,
    "GlobalAveragePooling2D": _DATA_FORMAT,
    "GlobalMaxPooling3D": _DATA_FORMAT,
    "GlobalAveragePooling3D": _DATA_FORMAT,
    "UpSampling1D": {"length": "size"},
    "UpSampling2D": _DATA_FORMAT,
    "UpSampling3D": _DATA_FORMAT,
    "ZeroPadding2D": _DATA_FORMAT,
    "ZeroPadding3D": _DATA_FORMAT,
    "Cropping2D": _DATA_FORMAT,
    "Cropping3D": _DATA_FORMAT,
    "BatchNormalization": {"beta_init": "beta_initializer", "gamma_init": "gamma_initializer"},
    "Input": {"input_dtype": "dtype"},
}

# Keras 1 backend functions whose keywords were renamed (KM304; canonical name -> renames); the
# targets are the signatures of tf.keras.backend in TensorFlow 2.21 (tests check each is accepted).
_BACKEND_CONV = {"border_mode": "padding", "dim_ordering": "data_format"}
BACKEND_KEYWORDS = {
    "backend.random_normal": {"std": "stddev"},
    "backend.truncated_normal": {"std": "stddev"},
    "backend.random_uniform": {"low": "minval", "high": "maxval"},
    "backend.conv1d": _BACKEND_CONV,
    "backend.conv2d": _BACKEND_CONV,
    "backend.pool2d": _BACKEND_CONV,
    "backend.resize_images": _DATA_FORMAT,
    "backend.spatial_2d_padding": _DATA_FORMAT,
}

# Model(input=, output=) (KM309); the canonical names that mean a functional Model.
MODEL_KEYWORDS = {"input": "inputs", "output": "outputs"}
MODEL_NAMES = ("Model", "models.Model")

# Keywords that need more than a rename, and the rule that handles each (KM304 skips them).
SPECIAL_KEYWORDS = {
    "nb_row": "KM305", "nb_col": "KM305",
    "kernel_dim1": "KM305", "kernel_dim2": "KM305", "kernel_dim3": "KM305",
    "dim_ordering": "KM306",
    "consume_less": "KM307",
    "forget_bias_init": "KM308",
    "output_shape": "KM310",
}

# Values of keywords whose meaning changed with the name (KM306, KM307, KM308).
# None: the keyword is dropped (the Keras 2/3 default is what the Keras 1 value meant).
DIM_ORDERING_VALUES = {"tf": "channels_last", "th": "channels_first", "default": None}
# Keras 1 functions (not layers) whose `dim_ordering=` became `data_format=` (canonical names).
DIM_ORDERING_FUNCTIONS = frozenset({
    "preprocessing.image.ImageDataGenerator", "preprocessing.image.img_to_array",
    "preprocessing.image.array_to_img",
    *(name for name, renames in BACKEND_KEYWORDS.items() if "dim_ordering" in renames),
})
CONSUME_LESS_VALUES = {"cpu": 0, "mem": 1, "gpu": 2}
FORGET_BIAS_VALUES = {"one": True, "ones": True, "zero": False, "zeros": False}

# Keras 1 border_mode values with no padding equivalent today.
BORDER_MODE_GONE = {"full": "`padding='full'` is gone: pad with `ZeroPadding*D(kernel_size - 1)` "
                            "and use `padding='valid'`"}

# Conv classes whose Keras 1 positional kernel arguments are nb_row, nb_col (2D) or
# kernel_dim1..3 (3D): Keras 1 name or Keras 2 name -> number of kernel dimensions.
POSITIONAL_KERNEL = {
    "Convolution2D": 2, "Conv2D": 2, "AtrousConvolution2D": 2, "Deconvolution2D": 2,
    "Conv2DTranspose": 2, "SeparableConvolution2D": 2, "SeparableConv2D": 2, "ConvLSTM2D": 2,
    "Convolution3D": 3, "Conv3D": 3,
}
KERNEL_KEYWORDS = {2: ("nb_row", "nb_col"), 3: ("kernel_dim1", "kernel_dim2", "kernel_dim3")}

# Keras 1 positional parameters, in order, of the conv layers whose extra positional arguments
# (after the kernel size) KM305 turns into keywords. Others with extra positionals are reported.
_CONV2D_POS = ("init", "activation", "weights", "border_mode", "subsample", "dim_ordering")
KERAS1_POSITIONAL = {
    "Convolution2D": _CONV2D_POS,
    "Convolution3D": _CONV2D_POS,
    "Deconvolution2D": ("output_shape", *_CONV2D_POS),
    "AtrousConvolution2D": (*_CONV2D_POS[:5], "atrous_rate", "dim_ordering"),
    "SeparableConvolution2D": (*_CONV2D_POS[:5], "depth_multiplier", "dim_ordering"),
}

# Keras 1 names that TensorFlow 2.21's tf.keras still keeps as aliases (renaming them is style and
# the way to the Keras 2 keywords); the other LAYER_RENAMES keys are gone (ImportError/AttributeError).
LAYER_ALIASES_KEPT = ("Convolution1D", "Convolution2D", "Convolution3D", "SeparableConvolution2D")

# KM311: Keras 1 initializer functions (`keras.initializations.<name>(shape, scale=..., name=...)`)
# -> the Keras 3 initializer class, how the Keras 1 keywords map, the Keras 1 default of a keyword
# where Keras 3's differs, and whether the distribution is the same (Keras 1's *_normal drew from
# a plain normal; Keras 3's from a truncated one: those rewrites are unsafe).
KERAS1_INITIALIZERS = {
    "normal": ("RandomNormal", {"scale": "stddev"}, {}, True),
    "uniform": ("RandomUniform", {"scale": "+-"}, {}, True),
    "zero": ("Zeros", {}, {}, True),
    "one": ("Ones", {}, {}, True),
    "orthogonal": ("Orthogonal", {"scale": "gain"}, {"gain": "1.1"}, True),
    "identity": ("Identity", {"scale": "gain"}, {}, True),
    "glorot_uniform": ("GlorotUniform", {}, {}, True),
    "he_uniform": ("HeUniform", {}, {}, True),
    "lecun_uniform": ("LecunUniform", {}, {}, True),
    "glorot_normal": ("GlorotNormal", {}, {}, False),
    "he_normal": ("HeNormal", {}, {}, False),
}
