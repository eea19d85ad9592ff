"""Keras 1 layer code migrated by KM301..KM310, then run under TensorFlow 2.21: the layers are
built with the configuration the Keras 1 code meant (one process, one small model)."""
from __future__ import annotations

import pytest

from tests.rules.keras3.migrate_and_run import migrate, run

pytestmark = pytest.mark.tf

KERAS1 = '''
from tensorflow.keras.layers import Input, Dense, Dropout, GaussianNoise, Flatten, Embedding, LSTM, GRU, SimpleRNN
from tensorflow.keras.layers import Convolution2D, MaxPooling2D, Convolution1D, MaxPooling1D, UpSampling1D
from tensorflow.keras.layers import AtrousConvolution2D, Deconvolution2D, SeparableConvolution2D, BatchNormalization
from tensorflow.keras.layers import merge, Merge, ZeroPadding2D
from tensorflow.keras.models import Model

img = Input(shape=(3, 12, 12), input_dtype='float32')
conv = Convolution2D(8, 3, 3, border_mode='same', dim_ordering='th', init='he_normal', subsample=(1, 1),
                     name='conv')
h = conv(img)
h = ZeroPadding2D((1, 1), dim_ordering='th', name='pad')(h)
h = MaxPooling2D((2, 2), border_mode='valid', dim_ordering='th', name='pool')(h)
h = AtrousConvolution2D(4, 3, 3, atrous_rate=(2, 2), border_mode='same', dim_ordering='th', name='atrous')(h)
h = SeparableConvolution2D(4, 3, 3, init='glorot_normal', border_mode='same', dim_ordering='th', name='sep')(h)
h = Deconvolution2D(2, 3, 3, (None, 2, 14, 14), subsample=(2, 2), border_mode='same', dim_ordering='th',
                    name='deconv')(h)
h = BatchNormalization(beta_init='zero', gamma_init='one', name='bn')(h)
h = Flatten()(h)
h = Dense(output_dim=16, init='uniform', W_regularizer=None, bias=True, name='dense')(h)
h = Dropout(p=0.25, name='drop')(h)
h = GaussianNoise(sigma=0.1, name='noise')(h)

tokens = Input(shape=(6,), dtype='int32')
e = Embedding(50, 8, init='uniform', name='emb')(tokens)
c = Convolution1D(nb_filter=8, filter_length=3, border_mode='same', subsample_length=1, name='conv1d')(e)
c = MaxPooling1D(pool_length=2, stride=2, name='pool1d')(c)
c = UpSampling1D(length=2, name='up1d')(c)
r = LSTM(output_dim=8, inner_init='orthogonal', inner_activation='hard_sigmoid', dropout_W=0.1, dropout_U=0.2,
         consume_less='gpu', forget_bias_init='one', return_sequences=True, name='lstm')(c)
r = GRU(8, consume_less='mem', return_sequences=True, name='gru')(r)
r = SimpleRNN(16, consume_less='cpu', name='rnn')(r)

both = merge([h, r], mode='concat', concat_axis=-1, name='cat')
summed = merge([h, r], mode='sum', name='sum')
multiplied = Merge(mode='mul', name='mul')([h, r])
dotted = merge([h, r], mode='dot', dot_axes=1, name='dot')
out = Dense(1, name='out')(merge([both, merge([summed, multiplied], mode='ave')], mode='concat'))
model = Model(input=[img, tokens], output=[out, dotted])
'''

MY_CODES = [f"KM3{n:02d}" for n in range(1, 11)]


@pytest.fixture(scope="module")
def migrated():
    return migrate(KERAS1, "keras1_model.py", MY_CODES)


@pytest.fixture(scope="module")
def model(migrated):
    return run(migrated, "keras1_model.py")["model"]


def test_nothing_keras1_is_left(migrated):
    for old in ("Convolution2D", "Atrous", "Deconvolution", "merge(", "Merge(", "border_mode", "dim_ordering",
                "output_dim", "init=", "subsample", "nb_filter", "consume_less", "input=", "output="):
        assert old not in migrated.text, old
    assert "kernel_size=(3, 3)" in migrated.text


def test_conv_layers_have_the_keras1_configuration(model):
    conv = model.get_layer("conv").get_config()
    assert conv["kernel_size"] == (3, 3) and conv["strides"] == (1, 1)
    assert conv["padding"] == "same" and conv["data_format"] == "channels_first"
    assert conv["kernel_initializer"]["class_name"] == "HeNormal"
    assert model.get_layer("pad").get_config()["data_format"] == "channels_first"
    pool = model.get_layer("pool").get_config()
    assert pool["pool_size"] == (2, 2) and pool["padding"] == "valid" and pool["data_format"] == "channels_first"
    atrous = model.get_layer("atrous").get_config()
    assert atrous["dilation_rate"] == (2, 2) and atrous["kernel_size"] == (3, 3) and atrous["strides"] == (1, 1)
    sep = model.get_layer("sep").get_config()
    assert sep["depthwise_initializer"]["class_name"] == sep["pointwise_initializer"]["class_name"] == "GlorotNormal"
    deconv = model.get_layer("deconv")
    assert type(deconv).__name__ == "Conv2DTranspose"
    assert deconv.get_config()["strides"] == (2, 2) and deconv.get_config()["kernel_size"] == (3, 3)
    # Keras 1's output_shape was (None, 2, 14, 14): what Keras computes from strides and padding.
    assert tuple(deconv.output.shape) == (None, 2, 14, 14)
    bn = model.get_layer("bn").get_config()
    assert bn["beta_initializer"]["class_name"] == "Zeros" and bn["gamma_initializer"]["class_name"] == "Ones"


def test_dense_and_noise_layers(model):
    dense = model.get_layer("dense").get_config()
    assert dense["units"] == 16 and dense["use_bias"] is True
    assert dense["kernel_initializer"]["class_name"] == "RandomUniform"
    assert model.get_layer("drop").get_config()["rate"] == 0.25
    assert model.get_layer("noise").get_config()["stddev"] == 0.1
    assert model.get_layer("emb").get_config()["embeddings_initializer"]["class_name"] == "RandomUniform"


def test_sequence_layers(model):
    c1 = model.get_layer("conv1d").get_config()
    assert c1["filters"] == 8 and c1["kernel_size"] == (3,) and c1["padding"] == "same"
    p1 = model.get_layer("pool1d").get_config()
    assert p1["pool_size"] == (2,) and p1["strides"] == (2,)
    assert model.get_layer("up1d").get_config()["size"] == 2
    lstm = model.get_layer("lstm").get_config()
    assert lstm["units"] == 8 and lstm["recurrent_activation"] == "hard_sigmoid"
    assert lstm["dropout"] == 0.1 and lstm["recurrent_dropout"] == 0.2 and lstm["unit_forget_bias"] is True
    assert lstm["recurrent_initializer"]["class_name"] == "Orthogonal"
    assert model.get_layer("rnn").get_config()["units"] == 16


def test_merges_and_model(model):
    assert type(model.get_layer("cat")).__name__ == "Concatenate"
    assert model.get_layer("cat").get_config()["axis"] == -1
    assert type(model.get_layer("sum")).__name__ == "Add"
    assert type(model.get_layer("mul")).__name__ == "Multiply"
    dot = model.get_layer("dot")
    assert type(dot).__name__ == "Dot" and dot.get_config()["axes"] == 1
    assert [tuple(t.shape) for t in model.outputs] == [(None, 1), (None, 1)]
    assert len(model.inputs) == 2 and model.inputs[0].dtype == "float32"
    # Parameters the Keras 1 code meant: 3x3 kernels everywhere (a 3-strided kernel would differ).
    assert model.get_layer("conv").count_params() == 3 * 3 * 3 * 8 + 8
    assert model.get_layer("dense").count_params() == 2 * 14 * 14 * 16 + 16


def test_migrated_model_trains_and_predicts(model):
    import numpy as np

    model.compile(optimizer="sgd", loss="mse", run_eagerly=True)
    x = [np.random.rand(4, 3, 12, 12).astype("float32"), np.random.randint(0, 50, size=(4, 6))]
    y = [np.random.rand(4, 1), np.random.rand(4, 1)]
    model.fit(x, y, epochs=1, batch_size=2, verbose=0)
    out, dotted = model.predict(x, verbose=0)
    assert out.shape == (4, 1) and dotted.shape == (4, 1)
