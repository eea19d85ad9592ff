"""A 2018-style Keras 2 CNN with a generator (written for kmigrate's examples)."""
import keras
import numpy as np
from keras import backend as K
from keras.layers import Conv2D, Dense, Flatten, MaxPooling2D
from keras.layers.convolutional import Convolution2D
from keras.models import Sequential


def batches(batch_size=32):
    while True:
        yield np.random.rand(batch_size, 32, 32, 3), keras.utils.to_categorical(
            np.random.randint(0, 10, batch_size), 10)


model = Sequential()
model.add(Convolution2D(32, 3, 3, border_mode="same", input_shape=(32, 32, 3)))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Conv2D(64, (3, 3), activation="relu"))
model.add(Flatten())
model.add(Dense(10, activation="softmax"))
model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.Adam(lr=1e-3),
              metrics=["accuracy"])
model.fit_generator(batches(), steps_per_epoch=2, epochs=1)
print(K.int_shape(model.output))
