"""Rename / argument tables as data; each one is checked against the installed TensorFlow by tests."""
