"""kmigrate: migrate old Keras / TensorFlow 1 code to today's TensorFlow and lint Keras bugs."""
__version__ = "0.1.0"
