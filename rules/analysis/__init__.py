"""What several rule families share: Keras facts of a module, model facts, call arguments."""
