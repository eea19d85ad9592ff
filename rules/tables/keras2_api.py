"""KM320..KM349 data: Keras 1/2 training, optimizer, layer, utility and backend APIs that are gone.

Every target name and keyword here is checked against the installed TensorFlow (2.21, whose
`tf.keras` is Keras 3) and standalone Keras 3 by tests/rules/keras3/test_keras2_table_matches_keras.py; every "gone"
claim is checked to be really gone there. Names are canonical Keras paths (see kmigrate.names).
"""

# ----------------------------------------------------------------------------- training API

# Model methods that are gone -> today's method.
GENERATOR_METHODS = {
    "fit_generator": "fit",
    "evaluate_generator": "evaluate",
    "predict_generator": "predict",
}

# Keyword renames on fit/evaluate/predict and their *_generator forms (Keras 1 -> Keras 2/3).
# Values None: the keyword counts samples and becomes a step count (needs the batch size).
TRAINING_KEYWORDS = {
    "nb_epoch": "epochs",
}
SAMPLE_KEYWORDS = {  # Keras 1 *_generator keywords counting samples -> Keras 2+ keywords counting steps
    "samples_per_epoch": "steps_per_epoch",
    "nb_val_samples": "validation_steps",
    "val_samples": "steps",
}
# Keras 2 positional parameters of the generator methods (after the generator itself).
KERAS2_GENERATOR_POSITIONAL = {
    "fit_generator": ("steps_per_epoch", "epochs", "verbose", "callbacks", "validation_data",
                      "validation_steps"),
    "evaluate_generator": ("steps",),
    "predict_generator": ("steps",),
}
# Keras 1 positional parameters of the generator methods (after the generator itself).
KERAS1_GENERATOR_POSITIONAL = {
    "fit_generator": ("samples_per_epoch", "nb_epoch", "verbose", "callbacks", "validation_data",
                      "nb_val_samples"),
    "evaluate_generator": ("val_samples",),
    "predict_generator": ("val_samples",),
}
# Keywords that only Keras 1 spelled this way (they tell a Keras 1 call from a Keras 2 one).
KERAS1_ONLY_KEYWORDS = frozenset(
    {"nb_epoch", "samples_per_epoch", "nb_val_samples", "val_samples", "nb_worker", "pickle_safe", "max_q_size"}
)
KERAS2_ONLY_KEYWORDS = frozenset(
    {"epochs", "steps_per_epoch", "validation_steps", "steps", "workers", "use_multiprocessing", "max_queue_size"}
)
# Data-loading keywords that fit/evaluate/predict no longer accept (they moved to PyDataset).
# Keras 1 spelling -> Keras 2 spelling; both are gone.
WORKER_KEYWORDS = {
    "nb_worker": "workers",
    "pickle_safe": "use_multiprocessing",
    "max_q_size": "max_queue_size",
    "workers": "workers",
    "use_multiprocessing": "use_multiprocessing",
    "max_queue_size": "max_queue_size",
}
# Methods whose keywords these rules look at (today's names and the gone ones).
TRAINING_METHODS = ("fit", "evaluate", "predict", "fit_generator", "evaluate_generator", "predict_generator")
# Methods of a model that are gone; `predict_classes` needs the output width (argmax or > 0.5).
PREDICT_CLASSES = "predict_classes"
PREDICT_PROBA = "predict_proba"
# Constructors/loaders whose result is a Keras model (receiver of model methods).
MODEL_FACTORIES = frozenset({"models.Sequential", "models.Model", "Sequential", "Model", "models.load_model"})
# Layers whose first argument is the output width (`units`), to read a model's output size.
UNITS_LAYERS = frozenset({"layers.Dense"})
# Layers that keep the width of their input (they may follow the last Dense).
SAME_WIDTH_LAYERS = frozenset({
    "layers.Activation", "layers.Dropout", "layers.GaussianNoise", "layers.GaussianDropout",
    "layers.AlphaDropout", "layers.ActivityRegularization", "layers.BatchNormalization",
    "layers.LayerNormalization", "layers.Softmax", "layers.ReLU", "layers.LeakyReLU", "layers.ELU",
    "layers.PReLU",
})

# ----------------------------------------------------------------------------- optimizers

OPTIMIZERS = frozenset({
    "optimizers.SGD", "optimizers.Adam", "optimizers.RMSprop", "optimizers.Adagrad",
    "optimizers.Adadelta", "optimizers.Adamax", "optimizers.Nadam", "optimizers.Ftrl",
    "optimizers.AdamW", "optimizers.Lion",
})
# Keras 2 lower-case aliases (gone): optimizers.sgd -> optimizers.SGD, ...
OPTIMIZER_ALIASES = {
    "optimizers.sgd": "optimizers.SGD",
    "optimizers.adam": "optimizers.Adam",
    "optimizers.rmsprop": "optimizers.RMSprop",
    "optimizers.adagrad": "optimizers.Adagrad",
    "optimizers.adadelta": "optimizers.Adadelta",
    "optimizers.adamax": "optimizers.Adamax",
    "optimizers.nadam": "optimizers.Nadam",
}
# `optimizers.legacy.X` / `optimizers.experimental.X` -> `optimizers.X`
OPTIMIZER_SUBMODULES_GONE = ("optimizers.legacy", "optimizers.experimental")
LEGACY_OPTIMIZER_NAMES = frozenset({"SGD", "Adam", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam",
                                    "Ftrl", "AdamW", "Optimizer"})
LR_KEYWORD = ("lr", "learning_rate")
DECAY_SCHEDULE = "optimizers.schedules.InverseTimeDecay"  # lr / (1 + decay_rate * step / decay_steps)

# ----------------------------------------------------------------------------- layers

# Layers that take a per-sample shape from Keras 1/2 keywords (input_dim is NOT a shape for these).
INPUT_DIM_IS_NOT_SHAPE = frozenset({"layers.Embedding"})
# Layers that read Keras 1/2's `input_dim=d` as the features of one step of a sequence: input shape
# (input_length, d), the length None when not given (Keras 2's RNN.__init__ and
# legacy_conv1d_support; Keras 1's Recurrent and Convolution1D).
SEQUENCE_INPUT_DIM = frozenset({
    "layers.SimpleRNN", "layers.LSTM", "layers.GRU", "layers.CuDNNLSTM", "layers.CuDNNGRU",
    "layers.Conv1D", "layers.Convolution1D", "layers.AtrousConvolution1D",
})
SHAPE_KEYWORDS = ("input_shape", "batch_input_shape", "input_dim", "input_length", "batch_size")
INPUT = "layers.Input"
# Pooling layers whose `pool_size` has no default any more (checked by the table test).
POOLING_WITHOUT_DEFAULT = {
    "layers.AveragePooling1D": "2",
    "layers.AveragePooling2D": "(2, 2)",
    "layers.AveragePooling3D": "(2, 2, 2)",
    "layers.AvgPool1D": "2",
    "layers.AvgPool2D": "(2, 2)",
    "layers.AvgPool3D": "(2, 2, 2)",
}
# Layers that still accept `weights=` in Keras 3 (others raise "Unrecognized keyword arguments").
WEIGHTS_ACCEPTED = frozenset({"layers.Embedding"})
# KM335: a layer's weights in `get_weights()` order -> the initializer keyword of each, and the
# boolean keyword (Keras 2 and Keras 1 spelling) that drops it when False. Checked in TensorFlow:
# the layer built with these Constant initializers has the weights `set_weights` would give.
_KERNEL_BIAS = (("kernel_initializer", None), ("bias_initializer", ("use_bias", "bias")))
WEIGHT_INITIALIZERS = {
    **{f"layers.{name}": _KERNEL_BIAS for name in (
        "Dense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
        "Convolution1D", "Convolution2D", "Convolution3D")},
    "layers.Embedding": (("embeddings_initializer", None),),
    "layers.BatchNormalization": (("gamma_initializer", ("scale",)), ("beta_initializer", ("center",)),
                                  ("moving_mean_initializer", None), ("moving_variance_initializer", None)),
}
CONSTANT_INITIALIZER = "initializers.Constant"
# KM335: layers outside WEIGHT_INITIALIZERS whose `weights=` becomes `layer.set_weights(W)` once the
# layer is built, safely: their weights have the same order and shapes in Keras 2.3.1 and Keras 3
# (recurrent: kernel, recurrent_kernel, bias; separable: depthwise, pointwise, bias; PReLU: alpha;
# LayerNormalization: gamma, beta; checked in TensorFlow 2.21 and Keras 2.3.1's source). Other
# Keras layers take the same route as an unsafe fix (their order was not compared).
SET_WEIGHTS_LAYERS = frozenset({
    "layers.LSTM", "layers.SimpleRNN", "layers.GRU", "layers.ConvLSTM1D", "layers.ConvLSTM2D", "layers.ConvLSTM3D",
    "layers.SeparableConv1D", "layers.SeparableConv2D", "layers.SeparableConvolution1D",
    "layers.SeparableConvolution2D", "layers.DepthwiseConv2D", "layers.PReLU", "layers.LayerNormalization"})
# KM335: the recurrent layers' three arrays in Keras 2 and 3 (kernel, recurrent_kernel, bias), and
# how many separate arrays Keras 1 gave the same layer (one W, U, b per gate): such a list is reported.
RECURRENT_WEIGHTS = {"layers.LSTM": 12, "layers.GRU": 9, "layers.SimpleRNN": 3}
# KM335: standalone Keras 2 built GRU with reset_after=False (one bias of 3 * units); Keras 3 and
# tf.keras 2 default to reset_after=True (bias (2, 3 * units)): arrays saved from a Keras 2 GRU fit
# only a GRU given reset_after=False again.
GRU_LAYER = "layers.GRU"

# ----------------------------------------------------------------------------- utilities, backend

TO_CATEGORICAL = "utils.to_categorical"
# Keras 1 keywords of functions (KM340; canonical name -> renames). imdb.load_data takes **kwargs
# and silently ignores `nb_words` (the whole vocabulary comes back); reuters.load_data rejects it.
FUNCTION_KEYWORDS = {
    TO_CATEGORICAL: {"nb_classes": "num_classes"},
    "datasets.imdb.load_data": {"nb_words": "num_words"},
    "datasets.reuters.load_data": {"nb_words": "num_words"},
}

# keras.backend functions gone everywhere (tf.keras.backend and Keras 3): what to do instead.
BACKEND_GONE = {
    "get_session": "TensorFlow 2 has no global session; `tf.compat.v1.keras.backend.get_session()` "
                   "exists only with graph mode, otherwise drop the session code",
    "set_session": "TensorFlow 2 has no global session; configure devices with `tf.config` "
                   "(e.g. `tf.config.experimental.set_memory_growth`) instead",
    "placeholder": "use `keras.Input(shape=...)` for a model input",
    "function": "call the model or layer directly (eager), or wrap the code in `tf.function`",
    "learning_phase": "pass `training=True/False` to the layer or model call",
    "set_learning_phase": "pass `training=True/False` to the layer or model call",
    "in_train_phase": "branch on the `training` argument of `call()`",
    "manual_variable_initialization": "variables are initialized on creation in TensorFlow 2; drop it",
    "normalize_batch_in_training": "use a `BatchNormalization` layer or `tf.nn.moments` + `tf.nn.batch_normalization`",
    "reset_uids": "drop it (layer names are uniquified with `keras.backend.clear_session()`)",
    "logsumexp": "use `keras.ops.logsumexp` (or `tf.reduce_logsumexp`)",
    "is_tensor": "use `keras.ops.is_tensor` (or `tf.is_tensor`)",
}
# Gone backend functions whose statement only set global state: KM342 removes it (unsafe), saying what is lost.
BACKEND_DROPPABLE = {
    "set_learning_phase": "a phase forced on purpose, like dropout at test time, is lost",
    "set_session": "the session's configuration is lost; set it with `tf.config`",
    "manual_variable_initialization": "variables are initialized on creation in TensorFlow 2",
}
# keras.backend functions that survive only in TF 2.21's tf.keras.backend: with --target keras
# they move to keras.ops (same semantics for the listed signatures).
BACKEND_TO_OPS = {
    name: name for name in (
        "abs", "all", "any", "cast", "cos", "exp", "log", "max", "mean", "min", "prod", "round",
        "sigmoid", "sign", "sin", "softmax", "softplus", "softsign", "sqrt", "square", "stack", "std",
        "sum", "tanh", "transpose", "var",
    )
}
# Same parameters by position (and defaults) but other names: rewritten only in calls that pass
# them by position.
BACKEND_TO_OPS_POSITIONAL = {
    name: name for name in (
        "clip", "dot", "equal", "greater", "greater_equal", "less", "less_equal", "maximum", "minimum",
        "not_equal", "reshape", "tile", "stop_gradient",
    )
}
# Surviving only in tf.keras.backend (2.21) and with no one-to-one keras.ops twin: --target keras reports.
BACKEND_TF_ONLY_HINTS = {
    "int_shape": "use `tuple(x.shape)`",
    "get_value": "use `keras.ops.convert_to_numpy(x)` (or `x.numpy()`)",
    "set_value": "use `x.assign(value)`",
    "eval": "use `keras.ops.convert_to_numpy(x)`",
    "variable": "use `keras.Variable(value)`",
    "constant": "use `keras.ops.convert_to_tensor(value)`",
    "ndim": "use `keras.ops.ndim(x)`",
    "pow": "use `keras.ops.power(x, a)`",
    "permute_dimensions": "use `keras.ops.transpose(x, axes)`",
    "l2_normalize": "use `keras.utils.normalize` or `keras.ops.normalize`",
    "batch_dot": "use `keras.ops.einsum` or `keras.ops.matmul`",
    "repeat_elements": "use `keras.ops.repeat(x, rep, axis)`",
    "flatten": "use `keras.ops.reshape(x, (-1,))`",
    "batch_flatten": "use `keras.ops.reshape(x, (keras.ops.shape(x)[0], -1))`",
    "gradients": "use `tf.GradientTape`",
    "switch": "use `keras.ops.where` or `keras.ops.cond`",
    "random_normal": "use `keras.random.normal`",
    "random_uniform": "use `keras.random.uniform`",
    "count_params": "use `layer.count_params()` or `keras.ops.size`",
    "gather": "use `keras.ops.take`",
    "one_hot": "use `keras.ops.one_hot`",
    "dropout": "use `keras.random.dropout` or a `Dropout` layer",
    "conv2d": "use `keras.ops.conv`",
    "pool2d": "use `keras.ops.max_pool` / `keras.ops.average_pool`",
    "bias_add": "use `x + bias`",
    "rnn": "use a `keras.layers.RNN` layer",
    "ctc_batch_cost": "use `keras.losses.CTC` / `keras.ops.ctc_loss`",
    "map_fn": "use `keras.ops.vectorized_map` or `tf.map_fn`",
    "update": "use `x.assign(new)`",
    "update_add": "use `x.assign_add(inc)`",
    "binary_crossentropy": "use `keras.losses.binary_crossentropy`",
    "categorical_crossentropy": "use `keras.losses.categorical_crossentropy`",
    "sparse_categorical_crossentropy": "use `keras.losses.sparse_categorical_crossentropy`",
    "ones": "use `keras.ops.ones`",
    "zeros": "use `keras.ops.zeros`",
    "eye": "use `keras.ops.eye`",
    "elu": "use `keras.ops.elu`",
    "hard_sigmoid": "use `keras.ops.hard_sigmoid`",
    "reverse": "use `keras.ops.flip`",
    "resize_images": "use `keras.ops.image.resize`",
    "name_scope": "use `keras.name_scope`",
    "dtype": "use `x.dtype`",
    "cast_to_floatx": "use `keras.ops.cast(x, keras.config.floatx())`",
    "moving_average_update": "use `x.assign(x * momentum + value * (1 - momentum))`",
    "shape": "use `keras.ops.shape(x)` (it returns a tuple, `K.shape` returned a tensor)",
    "arange": "use `keras.ops.arange` (its `dtype` default differs: pass `dtype=\"int32\"`)",
    "argmax": "use `keras.ops.argmax(x, axis=-1)` (its default axis is None)",
    "argmin": "use `keras.ops.argmin(x, axis=-1)` (its default axis is None)",
    "concatenate": "use `keras.ops.concatenate(xs, axis=-1)` (its default axis is 0)",
    "cumsum": "use `keras.ops.cumsum(x, axis=0)` (its default axis is None)",
    "expand_dims": "use `keras.ops.expand_dims(x, axis=-1)` (axis is required)",
    "squeeze": "use `keras.ops.squeeze(x, axis)`",
    "relu": "use `keras.ops.relu` (no `alpha`/`max_value`; `keras.activations.relu` has them)",
    "ones_like": "use `keras.ops.ones_like(x, dtype)`",
    "zeros_like": "use `keras.ops.zeros_like(x, dtype)`",
    "spatial_2d_padding": "use `keras.ops.pad`",
    "foldl": "use a Python loop or `tf.foldl`",
}
# What standalone Keras 3's keras.backend still has (everything else moved).
KERAS3_BACKEND = frozenset({
    "backend", "clear_session", "epsilon", "floatx", "get_uid", "image_data_format",
    "is_float_dtype", "is_int_dtype", "is_keras_tensor", "result_type", "set_epsilon",
    "set_floatx", "set_image_data_format", "standardize_dtype",
})

SKLEARN_WRAPPERS = {
    "KerasClassifier": "wrappers.SKLearnClassifier",
    "KerasRegressor": "wrappers.SKLearnRegressor",
}
SKLEARN_MODULE = "wrappers.scikit_learn"

# Deprecated in TF 2.21's tf.keras (still there), gone in standalone Keras 3.
DEPRECATED_PREPROCESSING = {
    "preprocessing.text.Tokenizer": "`keras.layers.TextVectorization`",
    "preprocessing.text.text_to_word_sequence": "`keras.layers.TextVectorization`",
    "preprocessing.text.one_hot": "`keras.layers.TextVectorization` + `keras.layers.Hashing`",
    "preprocessing.text.hashing_trick": "`keras.layers.Hashing`",
    "preprocessing.text.tokenizer_from_json": "`keras.layers.TextVectorization`",
    "preprocessing.image.ImageDataGenerator": "`keras.utils.image_dataset_from_directory` with "
                                              "augmentation layers (`keras.layers.RandomFlip`, `RandomRotation`, ...)",
}

# Old names of losses, metrics, constraints, initializers, regularizers -> today's name.
# `None`: no equivalent; the message says what to do. Checked: old name gone, new one there.
OLD_ALIASES = {
    "metrics.acc": None,  # in compile(metrics=[...]) use the string "accuracy"
    "metrics.accuracy": None,
    "metrics.mean_squared_error": "metrics.mse",
    "losses.mean_squared_error": "losses.mse",
    "losses.cosine_proximity": "losses.cosine_similarity",
    "losses.cosine": "losses.cosine_similarity",
    "metrics.cosine_proximity": "metrics.CosineSimilarity",
    "constraints.maxnorm": "constraints.MaxNorm",
    "constraints.nonneg": "constraints.NonNeg",
    "constraints.unitnorm": "constraints.UnitNorm",
    "initializers.normal": "initializers.RandomNormal",
    "initializers.uniform": "initializers.RandomUniform",
    "initializers.zero": "initializers.Zeros",
    "initializers.one": "initializers.Ones",
    "regularizers.l1l2": "regularizers.l1_l2",
    "regularizers.activity_l1": "regularizers.l1",
    "regularizers.activity_l2": "regularizers.l2",
    "regularizers.activity_l1l2": "regularizers.l1_l2",
}
# Renames above that can change numbers (another reduction, another target encoding): unsafe.
UNSAFE_ALIASES = frozenset({"metrics.cosine_proximity", "losses.cosine_proximity", "losses.cosine"})
# Loss functions that exist in tf.keras.losses but not in standalone Keras 3 (--target keras).
KERAS3_LOSS_RENAMES = {
    "losses.mse": "losses.mean_squared_error",
    "losses.MSE": "losses.mean_squared_error",
    "losses.mae": "losses.mean_absolute_error",
    "losses.MAE": "losses.mean_absolute_error",
    "losses.mape": "losses.mean_absolute_percentage_error",
    "losses.MAPE": "losses.mean_absolute_percentage_error",
    "losses.msle": "losses.mean_squared_logarithmic_error",
    "losses.MSLE": "losses.mean_squared_logarithmic_error",
    "losses.kld": "losses.kl_divergence",
    "losses.KLD": "losses.kl_divergence",
    "losses.kullback_leibler_divergence": "losses.kl_divergence",
    "losses.logcosh": "losses.log_cosh",
}

# The gone names per --target: tf.keras (TF 2.21) keeps `losses.mse` & co but lost `losses.mean_squared_error`;
# standalone Keras 3 is the other way round.
OLD_NAMES_BY_TARGET = {
    "tensorflow.keras": dict(OLD_ALIASES),
    "keras": {
        **{old: KERAS3_LOSS_RENAMES.get(new, new) if new else None for old, new in OLD_ALIASES.items()
           if old not in ("losses.mean_squared_error", "metrics.mean_squared_error")},
        "metrics.mse": "metrics.mean_squared_error",
        "metrics.MSE": "metrics.mean_squared_error",
        "metrics.mae": "metrics.mean_absolute_error",
        "metrics.MAE": "metrics.mean_absolute_error",
        **KERAS3_LOSS_RENAMES,
    },
}

# KM346: what to do about Keras names used through attributes that no longer exist (beyond the
# hints of keras_modules.GONE_HINTS, which KM104 uses for imports).
MISSING_ATTRIBUTE_HINTS = {
    "image_dim_ordering": "use `image_data_format()` (it returns 'channels_last'/'channels_first', not 'tf'/'th')",
    "set_image_dim_ordering": "use `set_image_data_format('channels_last' or 'channels_first')`",
    "tensorflow_backend": "private Keras 2 module; use `tensorflow` directly "
                          "(`tf.config.list_logical_devices('GPU')` for the GPU list)",
    "tf": "import `tensorflow` directly",
    "categorical_probas_to_classes": "use `np.argmax(probas, axis=-1)`",
    "probas_to_classes": "use `np.argmax(probas, axis=-1)` (or `> 0.5` for one unit)",
    "layer_utils": "private Keras 2 helpers; copy the function you need",
    "convert_all_kernels_in_model": "Theano kernel flipping is gone; drop the call",
    "to_yaml": "YAML model configs are gone; use `to_json()`",
    "saving": "private Keras 2 module; use `model.load_weights(path, skip_mismatch=...)`",
}

# ----------------------------------------------------------------------------- KM348..KM352

# KM349: layers whose size arguments Keras 3 checks to be Python ints (checked: Dense, GRU,
# SimpleRNN and Embedding reject np.int64; LSTM and the conv layers accept it): keywords, and how
# many leading positional arguments are sizes.
_UNITS = (("units", "output_dim", "input_dim"), 1)
SIZE_ARGUMENTS = {
    **{f"layers.{n}": _UNITS for n in ("Dense", "GRU", "SimpleRNN")},
    "layers.Embedding": (("input_dim", "output_dim"), 2),
}
# Method calls without arguments whose result is a NumPy scalar (`y.max() + 1`).
NUMPY_INT_RESULTS = frozenset({"max", "min", "sum", "prod", "argmax", "argmin"})
# KM351: the Keras 2.2 log keys of metrics=['accuracy'] -> the Keras 2.3+ keys.
ACCURACY_NAMES = {"acc": "accuracy", "val_acc": "val_accuracy"}
CALLBACKS_WITH_MONITOR = frozenset({"callbacks.EarlyStopping", "callbacks.ModelCheckpoint",
                                    "callbacks.ReduceLROnPlateau"})
# KM350: private keras.engine.training helpers -> what they computed (the message for the ones
# that are reported).
ENGINE_HELPERS = {
    "slice_X": "`X[start:stop]`, or `[x[start:stop] for x in X]` for a list of arrays",
    "make_batches": "`[(i, min(size, i + batch_size)) for i in range(0, size, batch_size)]`",
    "batch_shuffle": "shuffle the indices within batches with NumPy",
    "standardize_input_data": "pass NumPy arrays to `fit` directly",
    "check_array_lengths": "compare `len(x)` of the arrays",
}
# KM352: tf.keras.backend functions that work on a KerasTensor (the others raise "A KerasTensor
# cannot be used as input to a TensorFlow function" or fail on its shape).
KERAS_TENSOR_OK = frozenset({"int_shape", "is_keras_tensor", "image_data_format", "floatx", "epsilon",
                             "clear_session", "backend", "is_float_dtype", "is_int_dtype"})
