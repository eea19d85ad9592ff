"""KM201..KM204 data: TensorFlow 1 `tf.layers` functions and classes, and their Keras layers.

The TF1 signatures are those of TensorFlow 1.13-1.15 (`tensorflow/python/layers/{core,
convolutional,pooling,normalization}.py`), written out here as data. tests/rules/tf1/test_tf_layers_table_matches_keras.py
checks them against the installed TensorFlow: every keyword that goes to a Keras constructor is a
parameter of that class (or of `keras.layers.Layer`), `KERAS_POSITIONAL` is the real positional
prefix of the class, and the defaults marked as equal are equal in the installed Keras.
"""

# Keras-layer constructors take these base `Layer` keywords through **kwargs.
LAYER_KWARGS = ("name", "trainable", "dtype")

_CONV_TAIL = (
    "activation", "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer",
    "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint",
    "trainable", "name", "reuse",
)
_CONV = ("inputs", "filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", *_CONV_TAIL)
_CONV_T = ("inputs", "filters", "kernel_size", "strides", "padding", "data_format", *_CONV_TAIL)
_SEPARABLE = (
    "inputs", "filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
    "depth_multiplier", "activation", "use_bias", "depthwise_initializer", "pointwise_initializer",
    "bias_initializer", "depthwise_regularizer", "pointwise_regularizer", "bias_regularizer",
    "activity_regularizer", "depthwise_constraint", "pointwise_constraint", "bias_constraint",
    "trainable", "name", "reuse",
)
_POOL = ("inputs", "pool_size", "strides", "padding", "data_format", "name")

# tf.layers function -> (Keras class, TF1 parameters in positional order).
FUNCTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "dense": ("Dense", (
        "inputs", "units", "activation", "use_bias", "kernel_initializer", "bias_initializer",
        "kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
        "bias_constraint", "trainable", "name", "reuse")),
    "conv1d": ("Conv1D", _CONV),
    "conv2d": ("Conv2D", _CONV),
    "conv3d": ("Conv3D", _CONV),
    "conv2d_transpose": ("Conv2DTranspose", _CONV_T),
    "conv3d_transpose": ("Conv3DTranspose", _CONV_T),
    "separable_conv1d": ("SeparableConv1D", _SEPARABLE),
    "separable_conv2d": ("SeparableConv2D", _SEPARABLE),
    "max_pooling1d": ("MaxPooling1D", _POOL),
    "max_pooling2d": ("MaxPooling2D", _POOL),
    "max_pooling3d": ("MaxPooling3D", _POOL),
    "average_pooling1d": ("AveragePooling1D", _POOL),
    "average_pooling2d": ("AveragePooling2D", _POOL),
    "average_pooling3d": ("AveragePooling3D", _POOL),
    "batch_normalization": ("BatchNormalization", (
        "inputs", "axis", "momentum", "epsilon", "center", "scale", "beta_initializer",
        "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer",
        "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint", "training",
        "trainable", "name", "reuse", "renorm", "renorm_clipping", "renorm_momentum", "fused",
        "virtual_batch_size", "adjustment")),
    "dropout": ("Dropout", ("inputs", "rate", "noise_shape", "seed", "training", "name")),
    "flatten": ("Flatten", ("inputs", "name", "data_format")),
}

# Functions whose layer has no weights: variable names and weight sharing do not matter.
WEIGHTLESS = frozenset(f for f in FUNCTIONS if f.startswith(("max_", "average_")) or f in ("dropout", "flatten"))

# The Keras constructor's leading positional parameters that a TF1 positional argument may stay
# in (after `inputs` is taken out); any other positional argument becomes a keyword.
KERAS_POSITIONAL: dict[str, tuple[str, ...]] = {
    "Dense": ("units",),
    **{c: ("filters", "kernel_size") for c in (
        "Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "Conv3DTranspose", "SeparableConv1D",
        "SeparableConv2D")},
    # TF1 pooling functions have no default for strides, so both are always given.
    **{c: ("pool_size", "strides") for c in (
        "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
        "AveragePooling3D")},
    "BatchNormalization": ("axis", "momentum", "epsilon"),
    "Dropout": ("rate",),
    "Flatten": (),
}

# Where the TF1 default differs from the Keras default, the TF1 value is written out (source text).
# `data_format`: TF1 hard-coded 'channels_last'; Keras takes None = `image_data_format()` from
# ~/.keras/keras.json, which may say 'channels_first'. `rate`: TF1 0.5, Keras has no default.
_CHANNELS_LAST = {"data_format": "'channels_last'"}
CTOR_DEFAULTS: dict[str, dict[str, str]] = {
    **{f: _CHANNELS_LAST for f in FUNCTIONS if f.startswith(("conv", "separable", "max_", "average_"))},
    "flatten": _CHANNELS_LAST,
    "dropout": {"rate": "0.5"},
}
# TF1 call-time defaults that differ: `training` was False (inference) unless given.
CALL_DEFAULTS: dict[str, dict[str, str]] = {
    "dropout": {"training": "False"},
    "batch_normalization": {"training": "False"},
}
# TF1 parameters that are the call's, not the constructor's.
CALL_PARAMS = ("inputs", "training")

# TF1 defaults that equal the Keras defaults (checked by a test against the installed Keras);
# these are not written out.
SAME_DEFAULTS: dict[str, dict[str, object]] = {
    "Dense": {"activation": None, "use_bias": True, "kernel_initializer": "glorot_uniform",
              "bias_initializer": "zeros"},
    "Conv2D": {"strides": (1, 1), "padding": "valid", "dilation_rate": (1, 1), "activation": None,
               "use_bias": True, "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros"},
    "Conv2DTranspose": {"strides": (1, 1), "padding": "valid", "activation": None, "use_bias": True},
    "SeparableConv2D": {"strides": (1, 1), "padding": "valid", "depth_multiplier": 1,
                        "depthwise_initializer": "glorot_uniform", "pointwise_initializer": "glorot_uniform"},
    "MaxPooling2D": {"padding": "valid"},
    "BatchNormalization": {"axis": -1, "momentum": 0.99, "epsilon": 1e-3, "center": True, "scale": True,
                           "beta_initializer": "zeros", "gamma_initializer": "ones",
                           "moving_mean_initializer": "zeros", "moving_variance_initializer": "ones",
                           "renorm": False, "renorm_momentum": 0.99},
    "Dropout": {"noise_shape": None, "seed": None},
}

# TF1 keywords that Keras does not take. Value: literal values that may be dropped (they only
# chose an implementation, or are the default), and what to say otherwise.
DROPPABLE: dict[str, tuple[tuple[str, ...], str]] = {
    "fused": (("None", "True", "False"), "fused= only chose the kernel"),
    "virtual_batch_size": (("None",), "Keras BatchNormalization has no virtual_batch_size "
                                      "(ghost batch norm): write a custom layer or drop it knowingly"),
    "adjustment": (("None",), "Keras BatchNormalization has no adjustment=: write a custom layer"),
    "reuse": (("None", "False"), "reuse= shares the weights of an earlier call with the same name; a "
                                 "Keras layer shares weights by being called again: create the layer "
                                 "once and call it on each input"),
}

# tf.layers classes -> Keras class. Conv/pool/flatten classes had data_format='channels_last'.
CLASSES: dict[str, str] = {
    "Dense": "Dense", "Dropout": "Dropout", "Flatten": "Flatten",
    "Conv1D": "Conv1D", "Conv2D": "Conv2D", "Conv3D": "Conv3D",
    "Conv2DTranspose": "Conv2DTranspose", "Conv3DTranspose": "Conv3DTranspose",
    "SeparableConv1D": "SeparableConv1D", "SeparableConv2D": "SeparableConv2D",
    "MaxPooling1D": "MaxPooling1D", "MaxPooling2D": "MaxPooling2D", "MaxPooling3D": "MaxPooling3D",
    "AveragePooling1D": "AveragePooling1D", "AveragePooling2D": "AveragePooling2D",
    "AveragePooling3D": "AveragePooling3D",
    "BatchNormalization": "BatchNormalization",
    "Layer": "Layer", "InputSpec": "InputSpec",
}
# Constructor parameters of the TF1 classes in positional order, and how many of them lead the
# Keras class's parameters in the same order (positional arguments past that become keywords).
_CONV_CLS = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
             "activation", "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer",
             "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint",
             "trainable", "name")
_CONV_T_CLS = tuple(p for p in _CONV_CLS if p != "dilation_rate")
_SEP_CLS = _SEPARABLE[1:-1]  # filters .. name (no inputs, no reuse)
_POOL_CLS = ("pool_size", "strides", "padding", "data_format", "name")
CLASS_POSITIONAL: dict[str, tuple[tuple[str, ...], int]] = {
    "Dense": (FUNCTIONS["dense"][1][1:-1], 10),
    "Dropout": (("rate", "noise_shape", "seed", "name"), 3),
    "Flatten": (("data_format",), 1),
    **{c: (_CONV_CLS, 6) for c in ("Conv1D", "Conv2D", "Conv3D")},
    "Conv2DTranspose": (_CONV_T_CLS, 4),  # Keras: output_padding comes 5th
    "Conv3DTranspose": (_CONV_T_CLS, 5),  # Keras: output_padding comes 6th
    **{c: (_SEP_CLS, 19) for c in ("SeparableConv1D", "SeparableConv2D")},
    **{c: (_POOL_CLS, 5) for c in (
        "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
        "AveragePooling3D")},
    "BatchNormalization": (("axis", "momentum", "epsilon", "center", "scale", "beta_initializer",
                            "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer",
                            "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint",
                            "renorm", "renorm_clipping", "renorm_momentum", "fused", "trainable",
                            "virtual_batch_size", "adjustment", "name"), 16),
    "Layer": (("trainable", "name", "dtype"), 0),
    "InputSpec": (("dtype", "shape", "ndim", "max_ndim", "min_ndim", "axes"), 6),
}
# TF1 class defaults that differ from Keras, written out where the class is constructed. The
# TF1 conv and pooling classes set data_format='channels_last'; tf.layers.Flatten kept Keras'
# None (only the flatten() function passed 'channels_last'); tf.layers.Dropout had rate=0.5.
CLASS_DEFAULTS: dict[str, dict[str, str]] = {
    **{c: _CHANNELS_LAST for c, (params, _) in CLASS_POSITIONAL.items()
       if "data_format" in params and c != "Flatten"},
    "Dropout": {"rate": "0.5"},
}
# Classes whose layers own weights (sharing and variable names matter).
WEIGHTED_CLASSES = frozenset(c for c in CLASSES if c.startswith(("Dense", "Conv", "Separable", "BatchNorm")))

# Why a class rename can change behaviour (the fix is then unsafe).
CLASS_NOTES: dict[str, str] = {
    "Layer": "a Keras 3 Layer is not the TF1 one: `add_weight(name, shape, ...)` takes `shape` first "
             "(pass name= by keyword), variables ignore variable_scope, and `call` is not autographed",
    "Dropout": "the TF1 layer ran in inference mode unless called with training=True; the Keras layer "
               "follows the training flag of fit() or its caller: pass training= where it is called",
    "BatchNormalization": "the TF1 layer ran in inference mode unless called with training=True and "
                          "updated its moving statistics only through tf.GraphKeys.UPDATE_OPS; the "
                          "Keras layer follows fit()'s training flag and updates them on each call",
}

# tf.contrib.layers / slim: the two functions converted (unsafe) and a hint for the others.
CONTRIB_CONVERT = {"fully_connected": "Dense", "conv2d": "Conv2D", "convolution2d": "Conv2D"}
CONTRIB_PARAMS = {
    "fully_connected": (
        "inputs", "num_outputs", "activation_fn", "normalizer_fn", "normalizer_params",
        "weights_initializer", "weights_regularizer", "biases_initializer", "biases_regularizer",
        "reuse", "variables_collections", "outputs_collections", "trainable", "scope"),
    "conv2d": (
        "inputs", "num_outputs", "kernel_size", "stride", "padding", "data_format", "rate",
        "activation_fn", "normalizer_fn", "normalizer_params", "weights_initializer",
        "weights_regularizer", "biases_initializer", "biases_regularizer", "reuse",
        "variables_collections", "outputs_collections", "trainable", "scope"),
}
CONTRIB_PARAMS["convolution2d"] = CONTRIB_PARAMS["conv2d"]
# contrib keyword -> Keras keyword ("num_outputs" -> the class's first parameter).
CONTRIB_RENAMES = {
    "activation_fn": "activation", "weights_initializer": "kernel_initializer",
    "weights_regularizer": "kernel_regularizer", "biases_initializer": "bias_initializer",
    "biases_regularizer": "bias_regularizer", "stride": "strides", "rate": "dilation_rate",
    "kernel_size": "kernel_size", "padding": "padding", "trainable": "trainable", "scope": "name",
    "data_format": "data_format",
}
CONTRIB_FIRST = {"Dense": "units", "Conv2D": "filters"}
# contrib keywords with no Keras form: converted only when absent or a literal None (reuse: False too).
CONTRIB_MUST_BE_NONE = ("normalizer_fn", "normalizer_params", "variables_collections",
                        "outputs_collections", "reuse")
# contrib defaults that differ from Keras, written out: activation_fn=tf.nn.relu (Keras' 'relu' is
# the same function); conv2d padding='SAME' and NHWC. weights_initializer=xavier_initializer()
# (uniform) is Keras' 'glorot_uniform' and biases_initializer=zeros_initializer() is 'zeros'.
CONTRIB_DEFAULTS = {
    "fully_connected": {"activation": "'relu'"},
    "conv2d": {"activation": "'relu'", "padding": "'same'", "data_format": "'channels_last'"},
}
CONTRIB_DEFAULTS["convolution2d"] = CONTRIB_DEFAULTS["conv2d"]
CONTRIB_DATA_FORMATS = {"None": "'channels_last'", "'NHWC'": "'channels_last'", "'NCHW'": "'channels_first'",
                        '"NHWC"': "'channels_last'", '"NCHW"': "'channels_first'"}
CONTRIB_HINTS = {
    "layer_norm": "tf.keras.layers.LayerNormalization (contrib normalised over all axes from "
                  "begin_norm_axis=1 with epsilon 1e-12; Keras defaults to axis=-1, epsilon=1e-3)",
    "batch_norm": "tf.keras.layers.BatchNormalization (contrib: decay=0.999, scale=False; Keras: "
                  "momentum=0.99, scale=True)",
    "dropout": "tf.keras.layers.Dropout(rate=1 - keep_prob) (contrib took keep_prob)",
    "flatten": "tf.keras.layers.Flatten()",
    "max_pool2d": "tf.keras.layers.MaxPooling2D (contrib: stride=2, padding='VALID')",
    "avg_pool2d": "tf.keras.layers.AveragePooling2D (contrib: stride=2, padding='VALID')",
    "l2_regularizer": "tf.keras.regularizers.L2(scale / 2) (contrib computed scale * sum(w**2) / 2)",
    "l1_regularizer": "tf.keras.regularizers.L1(scale)",
    "xavier_initializer": "tf.keras.initializers.GlorotUniform() (uniform=False: GlorotNormal)",
    "separable_conv2d": "tf.keras.layers.SeparableConv2D (num_outputs=None meant depthwise only: "
                        "DepthwiseConv2D)",
    "conv2d_transpose": "tf.keras.layers.Conv2DTranspose (contrib: padding='SAME', activation relu)",
    "embed_sequence": "tf.keras.layers.Embedding",
}
