"""KM5xx: bugs in Keras code (one rule per file, named after the rule)."""
