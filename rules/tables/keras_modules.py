"""KM102 data: Keras module paths that are gone, and the public module holding their names today.

Paths are relative to the Keras root (`keras.` or `tensorflow.keras.`). A value of None means
the module's names are spread over several homes: each imported name is looked up in
NAME_HOMES. Every target is checked against the installed TensorFlow by
tests/rules/imports/test_module_tables_match_keras.py.
"""

MOVED_MODULES = {
    "layers.core": "layers",
    "layers.convolutional": "layers",
    "layers.convolutional_recurrent": "layers",
    "layers.recurrent": "layers",
    "layers.recurrent_v2": "layers",
    "layers.cudnn_recurrent": "layers",
    "layers.normalization": "layers",
    "layers.normalization_v2": "layers",
    "layers.embeddings": "layers",
    "layers.pooling": "layers",
    "layers.advanced_activations": "layers",
    "layers.noise": "layers",
    "layers.merge": "layers",
    "layers.wrappers": "layers",
    "layers.local": "layers",
    "layers.dense_attention": "layers",
    "layers.experimental.preprocessing": "layers",
    "layers.experimental": "layers",
    "engine": None,
    "engine.topology": None,
    "engine.training": None,
    "engine.network": None,
    "engine.functional": None,
    "engine.sequential": None,
    "engine.input_layer": None,
    "engine.base_layer": None,
    "engine.input_spec": None,
    "utils.np_utils": "utils",
    "utils.data_utils": "utils",
    "utils.generic_utils": "utils",
    "utils.vis_utils": "utils",
    "utils.layer_utils": "utils",
    "utils.io_utils": "utils",
    "objectives": "losses",
    "initializations": "initializers",
}

# `from keras.layers import merge` imported Keras 1's merge() function, not the module.
FUNCTIONS_NOT_MODULES = {"layers.merge"}

# Where a name of keras.engine.* lives today.
NAME_HOMES = {
    "Layer": "layers",
    "InputSpec": "layers",
    "Input": "layers",
    "InputLayer": "layers",
    "Model": "models",
    "Sequential": "models",
    "get_source_inputs": "utils",
}

# Old roots that are private spellings of today's tensorflow.keras.
PRIVATE_ROOTS = ("tensorflow.python.keras", "tensorflow.contrib.keras", "tensorflow.contrib.keras.api.keras")

# What to do instead, for names and modules that Keras 3 dropped (used in KM104's message).
GONE_HINTS = {
    "model_from_yaml": "YAML model configs are gone; use model_from_json or .keras files",
    "multi_gpu_model": "use tf.distribute.MirroredStrategy",
    "CuDNNLSTM": "use LSTM (it uses cuDNN automatically)",
    "CuDNNGRU": "use GRU (it uses cuDNN automatically)",
    "conv_utils": "private Keras 2 helpers; copy the function you need",
    "interfaces": "Keras 2's legacy-argument decorators; drop them",
    "_obtain_input_shape": "private Keras 2 helper; pass input shapes explicitly",
    "model_from_config": "use keras.models.model_from_json or keras.saving.deserialize_keras_object",
    "Container": "use keras.Model",
    "get_from_module": "removed; use keras.utils.get_registered_object",
    "scikit_learn": "use keras.wrappers.SKLearnClassifier / SKLearnRegressor",
    "LocallyConnected1D": "removed in Keras 3; rewrite with Conv1D or a custom layer",
    "LocallyConnected2D": "removed in Keras 3; rewrite with Conv2D or a custom layer",
    "engine": "use keras.layers (Layer, InputSpec) and keras.models (Model)",
}
