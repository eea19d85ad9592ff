"""KM2xx (tf.layers) and KM6xx (the rest of TensorFlow 1): TF1 programs that run on TF 2.21."""
