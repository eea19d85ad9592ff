"""KM601-KM603 hand tables (paths relative to `tensorflow`), each checked against TensorFlow 2.21
by tests/rules/tf1/test_tf1_tables_match_tensorflow.py.

CASTS: `tf.to_float(x)` -> `tf.cast(x, tf.float32)` (the TF1 helpers are gone; a cast is the
same op). TF1_BEHAVIOUR: names TF 2.21 still has with TF2 behaviour, moved to tf.compat.v1 in a
TF1 program (a file that uses TF1-only names) so they keep their TF1 meaning. GRAPH_BUILDERS:
names whose use means the program builds a TF1 graph (KM602). GONE: prefixes with no home in
TF 2.21 (KM603 reports them with what to use). SHIMS: names that run through tf.compat.v1 but
belong to another API today (KM603 says which, as info).
"""

CASTS = {
    "to_float": "float32",
    "to_double": "float64",
    "to_int32": "int32",
    "to_int64": "int64",
    "to_bfloat16": "bfloat16",
    "to_complex64": "complex64",
    "to_complex128": "complex128",
}

TF1_BEHAVIOUR = {
    # TF2 summaries write to a default writer inside `with writer.as_default()` and return a
    # bool; TF1 ones return a Summary tensor for FileWriter.add_summary.
    "summary.scalar": "compat.v1.summary.scalar",
    "summary.histogram": "compat.v1.summary.histogram",
    "summary.image": "compat.v1.summary.image",
    "summary.audio": "compat.v1.summary.audio",
    "summary.text": "compat.v1.summary.text",
    # TF1's second argument is keep_prob, TF2's is rate.
    "nn.dropout": "compat.v1.nn.dropout",
    # TF1 uses initializers with a dtype argument and partition info (get_variable).
    "random_normal_initializer": "compat.v1.random_normal_initializer",
    "random_uniform_initializer": "compat.v1.random_uniform_initializer",
    "constant_initializer": "compat.v1.constant_initializer",
    "zeros_initializer": "compat.v1.zeros_initializer",
    "ones_initializer": "compat.v1.ones_initializer",
}

GRAPH_BUILDERS = frozenset({
    "placeholder", "placeholder_with_default", "sparse_placeholder", "Session", "InteractiveSession",
    "global_variables_initializer", "initialize_all_variables", "local_variables_initializer",
    "variables_initializer", "train.Saver", "summary.FileWriter", "summary.merge_all", "get_default_graph",
    "reset_default_graph", "get_collection",
})

# prefix -> what to use (a trailing "." matches the module and everything in it)
GONE = {
    "contrib.": "tf.contrib is gone: tf.keras layers/optimizers, tf.data, TensorFlow Addons or "
                "TF Probability hold most of it; rewrite by hand",
    "estimator.": "tf.estimator is gone in TensorFlow 2.16+: write a Keras model with fit(), or a "
                  "custom training loop with tf.GradientTape",
    "examples.": "tensorflow.examples.tutorials.mnist is gone: use tf.keras.datasets.mnist.load_data() "
                 "(a different API: numpy arrays, not a DataSet with next_batch())",
    "nn.rnn_cell.": "tf.nn.rnn_cell is gone with Keras 3: use tf.keras.layers.SimpleRNNCell/GRUCell/"
                    "LSTMCell inside tf.keras.layers.RNN (or tf.keras.layers.GRU/LSTM)",
    "enable_eager_execution": "eager execution is TF2's default: drop the call",
}

# path -> (category, what to use); reported as info where they run through tf.compat.v1
SHIMS = {
    "app.run": "TF2 programs use `absl.app.run(main)` (tf.compat.v1.app.run is a shim over it)",
    "app.flags": "TF2 programs use `absl.flags` (tf.compat.v1.flags is a shim over it)",
    "flags": "TF2 programs use `absl.flags` (tf.compat.v1.flags is a shim over it)",
    "train.string_input_producer": "queue-based input: runs through tf.compat.v1 in graph mode only; use tf.data",
    "train.input_producer": "queue-based input: runs through tf.compat.v1 in graph mode only; use tf.data",
    "train.range_input_producer": "queue-based input: runs through tf.compat.v1 in graph mode only; use tf.data",
    "train.slice_input_producer": "queue-based input: runs through tf.compat.v1 in graph mode only; use tf.data",
    "train.batch": "queue-based input: runs through tf.compat.v1 in graph mode only; use tf.data (Dataset.batch)",
    "train.shuffle_batch": "queue-based input: runs through tf.compat.v1 in graph mode only; use tf.data (Dataset.shuffle().batch())",
    "train.start_queue_runners": "queue runners: graph mode only; use tf.data",
    "train.QueueRunner": "queue runners: graph mode only; use tf.data",
    "FIFOQueue": "queues: graph mode only; use tf.data",
    "RandomShuffleQueue": "queues: graph mode only; use tf.data",
    "PaddingFIFOQueue": "queues: graph mode only; use tf.data",
    "TFRecordReader": "reader ops: graph mode only; use tf.data.TFRecordDataset",
    "TextLineReader": "reader ops: graph mode only; use tf.data.TextLineDataset",
    "WholeFileReader": "reader ops: graph mode only; use tf.data with tf.io.read_file",
}
