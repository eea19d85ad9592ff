"""KM601 data: `tf.contrib` names that have an exact home in TensorFlow 2.21 (paths relative to
`tensorflow`). KM603 reports every other `tf.contrib` name.

CONTRIB: a contrib name -> the TF 2.21 name of the same function or class. The facts:
- TensorFlow's upgrade script (tensorflow/tools/compatibility/all_renames_v2.py, its
  `tf.contrib.*` entries), kept where TF 2.21 has the target and it takes the TF 1 parameters;
  what it maps and this table leaves out is in EXCLUDED, with why;
- tf.contrib.signal: since TF 1.13 it re-exported tf.signal's functions (the same objects;
  `frames` was its alias of `frame`), before that the same code under contrib;
- tf.contrib.framework: `nest` was tensorflow.python.util.nest (`is_sequence` is TF 2's
  `is_nested`), `sort`/`argsort` were tf.sort/tf.argsort, the global-step helpers called
  tf.train's (`training_util.get_or_create_global_step(graph)`), the checkpoint readers
  (`load_variable`, `list_variables`, `load_checkpoint`) did what tf.train's do, under other
  parameter names (KEYWORDS);
- tf.contrib.data (TF 1.15): deprecated wrappers, "Use `tf.data.experimental.X(...)`", that
  pass their parameters through unchanged.
Not here: `arg_scope` and the slim variable helpers (no TF 2.21 home), tf.contrib.layers /
slim (KM204), RNN cells (KM605; tf.compat.v1.nn.rnn_cell is gone with Keras 3), anything of
TensorFlow Addons or TF Probability (not TensorFlow).

MODULES: contrib modules whose names moved to one TF 2.21 module. An import of such a module
(`from tensorflow.contrib import signal`) is rewritten (`from tensorflow import signal`) when
every use of the name it binds is a tabled attribute of it; a `tf.contrib.signal` value only as
`name = tf.contrib.signal` under the same condition.

PARAMS: the TF 1 parameters of every tabled function or class (TF 1.15's, the last TF 1;
`*`/`**` mark variadic ones; None for a constant or a class not built by calling it). A test
checks that the target takes them, in this order, under the names KEYWORDS gives.

KEYWORDS: per contrib function, its keywords the TF 2.21 target names differently.

tests/rules/tf1/test_tf1_tables_match_tensorflow.py checks all of it against TensorFlow 2.21:
every source absent, every target present with these parameters, every fact of the upgrade
script either tabled or excluded.
"""

CONTRIB = {
    # tf.contrib.signal -> tf.signal
    "contrib.signal.frame": "signal.frame",
    "contrib.signal.frames": "signal.frame",
    "contrib.signal.hamming_window": "signal.hamming_window",
    "contrib.signal.hann_window": "signal.hann_window",
    "contrib.signal.inverse_stft": "signal.inverse_stft",
    "contrib.signal.inverse_stft_window_fn": "signal.inverse_stft_window_fn",
    "contrib.signal.linear_to_mel_weight_matrix": "signal.linear_to_mel_weight_matrix",
    "contrib.signal.mfccs_from_log_mel_spectrograms": "signal.mfccs_from_log_mel_spectrograms",
    "contrib.signal.overlap_and_add": "signal.overlap_and_add",
    "contrib.signal.stft": "signal.stft",
    # tf.contrib.framework.nest -> tf.nest
    "contrib.framework.nest.assert_same_structure": "nest.assert_same_structure",
    "contrib.framework.nest.flatten": "nest.flatten",
    "contrib.framework.nest.is_nested": "nest.is_nested",
    "contrib.framework.nest.is_sequence": "nest.is_nested",
    "contrib.framework.nest.map_structure": "nest.map_structure",
    "contrib.framework.nest.pack_sequence_as": "nest.pack_sequence_as",
    # tf.contrib.framework
    "contrib.framework.CriticalSection": "CriticalSection",
    "contrib.framework.argsort": "argsort",
    "contrib.framework.sort": "sort",
    "contrib.framework.is_tensor": "is_tensor",
    "contrib.framework.load_variable": "train.load_variable",
    "contrib.framework.list_variables": "train.list_variables",
    "contrib.framework.load_checkpoint": "train.load_checkpoint",
    "contrib.framework.get_or_create_global_step": "compat.v1.train.get_or_create_global_step",
    "contrib.framework.get_global_step": "compat.v1.train.get_global_step",
    "contrib.framework.create_global_step": "compat.v1.train.create_global_step",
    "contrib.framework.assert_global_step": "compat.v1.train.assert_global_step",
    # tf.contrib.util, tf.contrib.training
    "contrib.util.constant_value": "get_static_value",
    "contrib.training.checkpoints_iterator": "train.checkpoints_iterator",
    # tf.contrib.data -> tf.data.experimental
    "contrib.data.AUTOTUNE": "data.experimental.AUTOTUNE",
    "contrib.data.Counter": "data.experimental.Counter",
    "contrib.data.CsvDataset": "data.experimental.CsvDataset",
    "contrib.data.Optional": "data.experimental.Optional",
    "contrib.data.RandomDataset": "data.experimental.RandomDataset",
    "contrib.data.Reducer": "data.experimental.Reducer",
    "contrib.data.SqlDataset": "data.experimental.SqlDataset",
    "contrib.data.TFRecordWriter": "data.experimental.TFRecordWriter",
    "contrib.data.bucket_by_sequence_length": "data.experimental.bucket_by_sequence_length",
    "contrib.data.choose_from_datasets": "data.experimental.choose_from_datasets",
    "contrib.data.copy_to_device": "data.experimental.copy_to_device",
    "contrib.data.dense_to_sparse_batch": "data.experimental.dense_to_sparse_batch",
    "contrib.data.enumerate_dataset": "data.experimental.enumerate_dataset",
    "contrib.data.get_next_as_optional": "data.experimental.get_next_as_optional",
    "contrib.data.get_single_element": "data.experimental.get_single_element",
    "contrib.data.group_by_reducer": "data.experimental.group_by_reducer",
    "contrib.data.group_by_window": "data.experimental.group_by_window",
    "contrib.data.ignore_errors": "data.experimental.ignore_errors",
    "contrib.data.make_batched_features_dataset": "data.experimental.make_batched_features_dataset",
    "contrib.data.make_csv_dataset": "data.experimental.make_csv_dataset",
    "contrib.data.make_saveable_from_iterator": "data.experimental.make_saveable_from_iterator",
    "contrib.data.map_and_batch": "data.experimental.map_and_batch",
    "contrib.data.parallel_interleave": "data.experimental.parallel_interleave",
    "contrib.data.parse_example_dataset": "data.experimental.parse_example_dataset",
    "contrib.data.prefetch_to_device": "data.experimental.prefetch_to_device",
    "contrib.data.rejection_resample": "data.experimental.rejection_resample",
    "contrib.data.sample_from_datasets": "data.experimental.sample_from_datasets",
    "contrib.data.scan": "data.experimental.scan",
    "contrib.data.shuffle_and_repeat": "data.experimental.shuffle_and_repeat",
    "contrib.data.unbatch": "data.experimental.unbatch",
    "contrib.data.unique": "data.experimental.unique",
}

MODULES = {
    "contrib.signal": "signal",
    "contrib.framework.nest": "nest",
    "contrib.data": "data.experimental",
}

KEYWORDS = {
    "contrib.framework.load_variable": {"checkpoint_dir": "ckpt_dir_or_file"},
    "contrib.framework.list_variables": {"checkpoint_dir": "ckpt_dir_or_file"},
    "contrib.framework.load_checkpoint": {"filepattern": "ckpt_dir_or_file"},
}

_FRAME = ("signal", "frame_length", "frame_step", "pad_end", "pad_value", "axis", "name")
_WINDOW = ("window_length", "periodic", "dtype", "name")
_GRAPH = ("graph",)
PARAMS = {
    "contrib.signal.frame": _FRAME,
    "contrib.signal.frames": _FRAME,
    "contrib.signal.hamming_window": _WINDOW,
    "contrib.signal.hann_window": _WINDOW,
    "contrib.signal.inverse_stft": ("stfts", "frame_length", "frame_step", "fft_length", "window_fn", "name"),
    "contrib.signal.inverse_stft_window_fn": ("frame_step", "forward_window_fn", "name"),
    "contrib.signal.linear_to_mel_weight_matrix": ("num_mel_bins", "num_spectrogram_bins", "sample_rate",
                                                   "lower_edge_hertz", "upper_edge_hertz", "dtype", "name"),
    "contrib.signal.mfccs_from_log_mel_spectrograms": ("log_mel_spectrograms", "name"),
    "contrib.signal.overlap_and_add": ("signal", "frame_step", "name"),
    "contrib.signal.stft": ("signals", "frame_length", "frame_step", "fft_length", "window_fn", "pad_end", "name"),
    "contrib.framework.nest.assert_same_structure": ("nest1", "nest2", "check_types", "expand_composites"),
    "contrib.framework.nest.flatten": ("structure", "expand_composites"),
    "contrib.framework.nest.is_nested": ("seq",),
    "contrib.framework.nest.is_sequence": ("seq",),
    "contrib.framework.nest.map_structure": ("func", "*structure", "**kwargs"),
    "contrib.framework.nest.pack_sequence_as": ("structure", "flat_sequence", "expand_composites"),
    "contrib.framework.CriticalSection": ("name", "shared_name", "critical_section_def", "import_scope"),
    "contrib.framework.argsort": ("values", "axis", "direction", "stable", "name"),
    "contrib.framework.sort": ("values", "axis", "direction", "name"),
    "contrib.framework.is_tensor": ("x",),
    "contrib.framework.load_variable": ("checkpoint_dir", "name"),
    "contrib.framework.list_variables": ("checkpoint_dir",),
    "contrib.framework.load_checkpoint": ("filepattern",),
    "contrib.framework.get_or_create_global_step": _GRAPH,
    "contrib.framework.get_global_step": _GRAPH,
    "contrib.framework.create_global_step": _GRAPH,
    "contrib.framework.assert_global_step": ("global_step_tensor",),
    "contrib.util.constant_value": ("tensor", "partial"),
    "contrib.training.checkpoints_iterator": ("checkpoint_dir", "min_interval_secs", "timeout", "timeout_fn"),
    "contrib.data.AUTOTUNE": None,
    "contrib.data.Counter": ("start", "step", "dtype"),
    "contrib.data.CsvDataset": ("filenames", "record_defaults", "compression_type", "buffer_size", "header",
                                "field_delim", "use_quote_delim", "na_value", "select_cols"),
    "contrib.data.Optional": None,  # abstract: built with Optional.from_value / empty
    "contrib.data.RandomDataset": ("seed",),
    "contrib.data.Reducer": ("init_func", "reduce_func", "finalize_func"),
    "contrib.data.SqlDataset": ("driver_name", "data_source_name", "query", "output_types"),
    "contrib.data.TFRecordWriter": ("filename", "compression_type"),
    "contrib.data.bucket_by_sequence_length": ("element_length_func", "bucket_boundaries", "bucket_batch_sizes",
                                               "padded_shapes", "padding_values", "pad_to_bucket_boundary",
                                               "no_padding"),
    "contrib.data.choose_from_datasets": ("datasets", "choice_dataset"),
    "contrib.data.copy_to_device": ("target_device", "source_device"),
    "contrib.data.dense_to_sparse_batch": ("batch_size", "row_shape"),
    "contrib.data.enumerate_dataset": ("start",),
    "contrib.data.get_next_as_optional": ("iterator",),
    "contrib.data.get_single_element": ("dataset",),
    "contrib.data.group_by_reducer": ("key_func", "reducer"),
    "contrib.data.group_by_window": ("key_func", "reduce_func", "window_size", "window_size_func"),
    "contrib.data.ignore_errors": (),
    "contrib.data.make_batched_features_dataset": (
        "file_pattern", "batch_size", "features", "reader", "label_key", "reader_args", "num_epochs", "shuffle",
        "shuffle_buffer_size", "shuffle_seed", "prefetch_buffer_size", "reader_num_threads", "parser_num_threads",
        "sloppy_ordering", "drop_final_batch"),
    "contrib.data.make_csv_dataset": (
        "file_pattern", "batch_size", "column_names", "column_defaults", "label_name", "select_columns",
        "field_delim", "use_quote_delim", "na_value", "header", "num_epochs", "shuffle", "shuffle_buffer_size",
        "shuffle_seed", "prefetch_buffer_size", "num_parallel_reads", "sloppy", "num_rows_for_inference",
        "compression_type"),
    "contrib.data.make_saveable_from_iterator": ("iterator",),
    "contrib.data.map_and_batch": ("map_func", "batch_size", "num_parallel_batches", "drop_remainder",
                                   "num_parallel_calls"),
    "contrib.data.parallel_interleave": ("map_func", "cycle_length", "block_length", "sloppy",
                                         "buffer_output_elements", "prefetch_input_elements"),
    "contrib.data.parse_example_dataset": ("features", "num_parallel_calls"),
    "contrib.data.prefetch_to_device": ("device", "buffer_size"),
    "contrib.data.rejection_resample": ("class_func", "target_dist", "initial_dist", "seed"),
    "contrib.data.sample_from_datasets": ("datasets", "weights", "seed"),
    "contrib.data.scan": ("initial_state", "scan_func"),
    "contrib.data.shuffle_and_repeat": ("buffer_size", "count", "seed"),
    "contrib.data.unbatch": (),
    "contrib.data.unique": (),
}

# The upgrade script's `tf.contrib.*` renames whose target TF 2.21 has, left out (KM603 reports
# them): prefix (a trailing "." for a whole module) -> why.
EXCLUDED = {
    "contrib.summary.": "TF 2 summaries take a `step` and write to a default writer (TensorFlow's script "
                        "rewrites their arguments); not a rename",
    "contrib.tpu.": "TF 1 TPU code runs in TPUEstimator (gone with tf.estimator); not checkable here",
    "contrib.cluster_resolver.": "used with TPUEstimator and the contrib distribution strategies, both gone",
    "contrib.distribute.": "the contrib distribution strategies are gone (TensorFlow's script says: "
                           "manual edit required)",
    "contrib.batching.batch_function": "TF 1 releases before 1.13 took grad_timeout_micros and "
                                       "unbatch_timeout_micros in 5th and 6th place",
    "contrib.layers.recompute_grad": "KM204's (tf.contrib.layers); contrib's took (fn, use_data_dep, "
                                     "tupleize_grads) and handled variable scopes in graph mode",
    "contrib.rnn.": "static_rnn and friends need a TF 1 RNNCell: tf.compat.v1.nn.rnn_cell is gone with "
                    "Keras 3, and tf.compat.v1.nn.static_rnn fails on Keras cells",
}
