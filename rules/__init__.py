"""The rule catalogue (installed as `kmigrate.rules`), one package per family:

  imports/   KM1xx  standalone `keras` imports, Keras modules and names that are gone
  tf1/       KM2xx  `tf.layers` -> `tf.keras.layers`; KM6xx the rest of TensorFlow 1
  keras3/    KM3xx  Keras 1/2 APIs that Keras 3 no longer has
  convert/   KM4xx  Sequential <-> functional <-> subclassed (opt-in, `--to`)
  lint/      KM5xx  bugs in Keras code, one file per rule, named after the rule
  analysis/  what several families share (Keras facts, model facts, call arguments)
  tables/    rename and argument tables, as plain data
  _index.py  generated rule index (codes, triggers) read without importing any rule

`kmigrate.rule.all_rules()` imports every module of the family packages; a Rule subclass
with a `code` is registered.
"""
