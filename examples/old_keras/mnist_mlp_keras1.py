"""A 2016-style Keras 1 MLP (written for kmigrate's examples)."""
import numpy as np
from keras.models import Sequential
from keras.layers.core import Dense, Dropout, Activation
from keras.optimizers import RMSprop
from keras.utils import np_utils

nb_classes = 10
x_train = np.random.rand(256, 784).astype("float32")
y_train = np_utils.to_categorical(np.random.randint(0, nb_classes, 256), nb_classes)

model = Sequential()
model.add(Dense(512, input_shape=(784,), init="glorot_uniform"))
model.add(Activation("relu"))
model.add(Dropout(p=0.2))
model.add(Dense(output_dim=nb_classes))
model.add(Activation("softmax"))

model.compile(loss="categorical_crossentropy", optimizer=RMSprop(lr=0.001), metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=128, nb_epoch=1, verbose=0)
classes = model.predict_classes(x_train[:5])
print(classes)
