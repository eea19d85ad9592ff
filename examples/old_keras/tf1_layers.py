"""TensorFlow 1 graph code with tf.layers (written for kmigrate's examples)."""
import tensorflow as tf

x = tf.placeholder(tf.float32, [None, 28, 28, 1])
net = tf.layers.conv2d(x, 32, 3, padding="same", activation=tf.nn.relu)
net = tf.layers.max_pooling2d(net, 2, 2)
net = tf.layers.flatten(net)
logits = tf.layers.dense(net, 10, name="logits")
