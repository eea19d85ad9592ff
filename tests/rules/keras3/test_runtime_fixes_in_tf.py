"""The KM3xx rewrites that change more than a name, checked in TensorFlow 2.21: old Keras code is
migrated with kmigrate's default rules (or unsafe ones where the rule is unsafe), then run in a
child process that asserts the migrated program does what the old one meant."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from kmigrate.engine import Options, fix_text
from kmigrate.rule import all_rules

pytestmark = pytest.mark.tf

# (name, old Keras code, the assertions run after it, unsafe fixes)
CASES = [
    ("weights_become_constant_initializers", """
        import numpy as np
        from keras.layers import Input, Dense, Conv2D, BatchNormalization, Embedding
        from keras.models import Model
        rng = np.random.RandomState(0)
        K1, b1 = rng.rand(3, 3, 2, 4).astype('float32'), rng.rand(4).astype('float32')
        W, b = rng.rand(4, 3).astype('float32'), rng.rand(3).astype('float32')
        bn_w = [rng.rand(4).astype('float32') + 0.5 for _ in range(4)]
        E = rng.rand(10, 4).astype('float32')
        conv = Conv2D(4, (3, 3), weights=[K1, b1])
        bn = BatchNormalization(weights=bn_w)
        dense = Dense(3, weights=[W, b])
        nobias = Dense(3, use_bias=False, weights=[W])
        emb = Embedding(10, 4, weights=[E])
        inp = Input(shape=(5, 5, 2))
        x = bn(conv(inp))
        ids = Input(shape=(2,), dtype='int32')
        y = dense(emb(ids))
        z = nobias(emb(ids))
        model = Model([inp, ids], [x, y, z])
        """, """
        for layer, arrays in ((conv, [K1, b1]), (bn, bn_w), (dense, [W, b]), (nobias, [W]), (emb, [E])):
            got = layer.get_weights()
            assert len(got) == len(arrays), layer
            for g, a in zip(got, arrays):
                assert np.array_equal(g, a), layer.name
        # the same as Keras 2's set_weights after building
        twin = Dense(3)
        twin.build((None, 4))
        twin.set_weights([W, b])
        assert all(np.array_equal(p, q) for p, q in zip(twin.get_weights(), dense.get_weights()))
        """, False),
    ("weights_set_once_the_layer_is_built", """
        import numpy as np
        from keras.models import Sequential, Model
        from keras.layers import Input, Dense, LSTM, concatenate
        rng = np.random.RandomState(0)
        teacher = Sequential([Input(shape=(4,)), Dense(8)])
        teacher.layers[0].set_weights([rng.rand(4, 8).astype('float32'), rng.rand(8).astype('float32')])
        W, b = rng.rand(8, 3).astype('float32'), rng.rand(3).astype('float32')
        has_bias = len(W) > 0
        model = Sequential()
        model.add(Dense(8, input_dim=4, weights=teacher.layers[0].get_weights()))
        model.add(Dense(3, use_bias=has_bias, weights=[W, b]))
        P = [rng.rand(4, 3).astype('float32'), rng.rand(3).astype('float32')]
        pretrained = Sequential([Input(shape=(4,)), Dense(3)])
        pretrained.set_weights(P)
        Q = [rng.rand(7, 2).astype('float32'), rng.rand(2).astype('float32')]
        L = [rng.rand(2, 16).astype('float32'), rng.rand(4, 16).astype('float32'), rng.rand(16).astype('float32')]
        inp = Input(shape=(4,))
        x = Dense(3, weights=pretrained.get_weights())(inp)
        both = concatenate([inp, x])
        y = Dense(2, weights=list(Q))(both)
        seq = Input(shape=(5, 2))
        h = LSTM(4, weights=L)(seq)
        flag = bool(W.size)
        wb = [rng.rand(3, 2).astype('float32'), rng.rand(2).astype('float32')]
        shared = Dense(2, use_bias=flag, weights=wb)
        z = shared(x)
        out = Model([inp, seq], [y, z, h])
        data = rng.rand(5, 4).astype('float32')
        got = model.predict(data, verbose=0)
        got_y, got_z, _ = out.predict([data, rng.rand(5, 5, 2).astype('float32')], verbose=0)
        """, """
        def same(layer, arrays):
            got = layer.get_weights()
            return len(got) == len(arrays) and all(np.array_equal(g, a) for g, a in zip(got, arrays))
        assert same(model.layers[0], teacher.layers[0].get_weights()) and same(model.layers[1], [W, b])
        dense_x, dense_y, lstm = (t._keras_history[0] for t in (x, y, h))  # the layers that made them
        assert same(dense_x, P) and same(dense_y, Q) and same(lstm, L) and same(shared, wb)
        t = data @ teacher.layers[0].get_weights()[0] + teacher.layers[0].get_weights()[1]
        assert np.allclose(got, t @ W + b, atol=1e-5)
        xs = data @ P[0] + P[1]
        assert np.allclose(got_y, np.concatenate([data, xs], 1) @ Q[0] + Q[1], atol=1e-5)
        assert np.allclose(got_z, xs @ wb[0] + wb[1], atol=1e-5)
        """, False),
    ("weights_set_in_sequential_lists_and_recurrent_layers", """
        import numpy as np
        from keras.models import Sequential, Model
        from keras.layers import Input, Dense, LSTM, GRU, SimpleRNN, PReLU
        rng = np.random.RandomState(1)
        def arrays(*shapes):
            return [rng.rand(*shape).astype('float32') for shape in shapes]
        T = arrays((4, 8), (8,))
        model = Sequential([Dense(8, input_dim=4, weights=list(T)), Dense(3)])
        A = arrays((8,))
        gated = Sequential([Input(shape=(4,)), Dense(8), PReLU(weights=A)])
        L = arrays((6, 16), (4, 16), (16,))
        recurrent = Sequential(layers=[SimpleRNN(6, return_sequences=True), LSTM(4, weights=L), Dense(1)])
        recurrent.compile(loss='mse', optimizer='adam')
        recurrent.build((None, 5, 2))
        G = arrays((2, 12), (4, 12), (12,))  # a standalone Keras 2 GRU's arrays (reset_after=False)
        seq = Input(shape=(5, 2))
        h = GRU(4, return_sequences=True, weights=G)(seq)
        S = arrays((4, 3), (3, 3), (3,))
        s = SimpleRNN(3, weights=S)(h)
        out = Model(seq, s)
        data = rng.rand(2, 5, 2).astype('float32')
        got = out.predict(data, verbose=0)
        lstm_before_fit = recurrent.layers[1].get_weights()
        recurrent.fit(data, rng.rand(2, 1), epochs=1, verbose=0)
        """, """
        def same(layer, arrays):
            got = layer.get_weights()
            return len(got) == len(arrays) and all(np.array_equal(g, a) for g, a in zip(got, arrays))
        assert same(model.layers[0], T) and same(gated.layers[1], A)
        assert all(np.array_equal(g, a) for g, a in zip(lstm_before_fit, L)) and len(lstm_before_fit) == 3
        assert not same(recurrent.layers[1], L)  # set before the model trained, not after
        gru, rnn = h._keras_history[0], s._keras_history[0]
        assert same(gru, G) and gru.reset_after is False and same(rnn, S)
        # the GRU computes Keras 2's reset_after=False GRU (recurrent_activation written out as Keras 3's)
        def sig(v):
            return 1 / (1 + np.exp(-v))
        k, u, b = G
        state, steps = np.zeros((2, 4), 'float32'), []
        for t in range(5):
            x = data[:, t]
            z = sig(x @ k[:, :4] + state @ u[:, :4] + b[:4])
            r = sig(x @ k[:, 4:8] + state @ u[:, 4:8] + b[4:8])
            hh = np.tanh(x @ k[:, 8:] + (r * state) @ u[:, 8:] + b[8:])
            state = z * state + (1 - z) * hh
            steps.append(state)
        ws, us, bs = S
        state = np.zeros((2, 3), 'float32')
        for t in range(5):
            state = np.tanh(steps[t] @ ws + state @ us + bs)
        assert np.allclose(got, state, atol=1e-5)
        """, False),
    ("nested_merge_of_merged_models", """
        import numpy as np
        from keras.models import Sequential
        from keras.layers.embeddings import Embedding
        from keras.layers.core import Activation, Dense, Merge, Permute, Dropout
        from keras.layers import LSTM
        vocab_size, story_maxlen, query_maxlen = 12, 7, 4
        input_encoder_m = Sequential()
        input_encoder_m.add(Embedding(input_dim=vocab_size, output_dim=64, input_length=story_maxlen))
        input_encoder_m.add(Dropout(0.3))
        question_encoder = Sequential()
        question_encoder.add(Embedding(input_dim=vocab_size, output_dim=64, input_length=query_maxlen))
        question_encoder.add(Dropout(0.3))
        match = Sequential()
        match.add(Merge([input_encoder_m, question_encoder], mode='dot', dot_axes=[2, 2]))
        match.add(Activation('softmax'))
        input_encoder_c = Sequential()
        input_encoder_c.add(Embedding(input_dim=vocab_size, output_dim=query_maxlen, input_length=story_maxlen))
        input_encoder_c.add(Dropout(0.3))
        response = Sequential()
        response.add(Merge([match, input_encoder_c], mode='sum'))
        response.add(Permute((2, 1)))
        answer = Sequential()
        answer.add(Merge([response, question_encoder], mode='concat', concat_axis=-1))
        answer.add(LSTM(32))
        answer.add(Dropout(0.3))
        answer.add(Dense(vocab_size))
        answer.add(Activation('softmax'))
        answer.compile(optimizer='rmsprop', loss='categorical_crossentropy', metrics=['accuracy'])
        rng = np.random.RandomState(0)
        stories = rng.randint(0, vocab_size, (16, story_maxlen))
        queries = rng.randint(0, vocab_size, (16, query_maxlen))
        answers = np.eye(vocab_size)[rng.randint(0, vocab_size, 16)]
        history = answer.fit([stories, queries, stories], answers, batch_size=8, nb_epoch=1, verbose=0)
        """, """
        # Keras 1's inputs: its branches' inputs flattened, the question's once
        assert [tuple(t.shape) for t in answer.inputs] == [(None, 7), (None, 4), (None, 7)]
        embeddings = 2 * vocab_size * 64 + vocab_size * query_maxlen
        lstm = 4 * (32 * (story_maxlen + 64) + 32 * 32 + 32)
        assert answer.count_params() == embeddings + lstm + 32 * vocab_size + vocab_size
        assert len(history.history['loss']) == 1
        p = answer.predict([stories, queries, rng.randint(0, vocab_size, (16, story_maxlen))], verbose=0)
        assert p.shape == (16, vocab_size) and np.allclose(p.sum(1), 1, atol=1e-5)
        """, False),
    ("sklearn_wrapper_fitted_model_is_model_", """
        import numpy as np
        from keras.models import Sequential
        from keras.layers import Dense
        from keras.wrappers.scikit_learn import KerasClassifier, KerasRegressor
        from sklearn.model_selection import GridSearchCV

        def create_model(units=8):
            m = Sequential()
            m.add(Dense(units, input_dim=4, activation='relu'))
            m.add(Dense(3, activation='softmax'))
            m.compile(loss='categorical_crossentropy', optimizer='adam')
            return m

        def regression():
            m = Sequential([Dense(1, input_dim=4)])
            m.compile(loss='mse', optimizer='sgd')
            return m

        rng = np.random.RandomState(0)
        X = rng.rand(24, 4).astype('float32')
        y = np.arange(24) % 3
        clf = KerasClassifier(build_fn=create_model, units=5, epochs=1, batch_size=8, verbose=0)
        clf.fit(X, y)
        n_params = clf.model.count_params()
        probabilities = clf.model.predict(X, verbose=0)
        reg = KerasRegressor(build_fn=regression, epochs=1, verbose=0)
        reg.fit(X, X.sum(axis=1))
        reg_out = reg.model.layers[-1].units
        grid = GridSearchCV(estimator=KerasClassifier(build_fn=create_model, epochs=1, verbose=0), param_grid={}, cv=2)
        grid_result = grid.fit(X, y)
        best = grid_result.best_estimator_.model
        """, """
        import keras
        assert n_params == 4 * 5 + 5 + 5 * 3 + 3 and probabilities.shape == (24, 3)
        assert reg_out == 1
        assert isinstance(best, keras.Model) and best.layers[0].units == 8
        assert isinstance(clf.model_, keras.Model) and not isinstance(clf.model, keras.Model)
        """, True),
    ("gan_discriminator_trains_as_in_keras2", """
        import numpy as np
        from keras.models import Sequential, Model
        from keras.layers import Input, Dense
        rng = np.random.RandomState(0)
        g = Sequential([Dense(3, input_dim=2)])
        d = Sequential([Dense(4, input_dim=3, activation='relu'), Dense(1, activation='sigmoid')])
        d.compile(loss='binary_crossentropy', optimizer='sgd')
        d.trainable = False
        z = Input(shape=(2,))
        combined = Model(z, d(g(z)))
        combined.compile(loss='binary_crossentropy', optimizer='sgd')

        def copy(m):
            return [w.copy() for w in m.get_weights()]

        def same(a, b):
            return all(np.array_equal(x, y) for x, y in zip(a, b))

        d_learned, d_kept, g_learned = [], [], []
        for step in range(3):
            real = rng.rand(8, 3).astype('float32')
            fake = g.predict(rng.rand(8, 2), verbose=0)
            d_before, g_before = copy(d), copy(g)
            d.train_on_batch(np.concatenate([real, fake]), np.r_[np.ones(8), np.zeros(8)])
            d_after = copy(d)
            combined.train_on_batch(rng.rand(8, 2), np.ones(8))
            d_learned.append(not same(d_before, d_after))
            d_kept.append(same(d_after, copy(d)))
            g_learned.append(not same(g_before, copy(g)))
        """, """
        assert all(d_learned), d_learned  # Keras 2: compiled trainable, it trained in its own step
        assert all(d_kept), d_kept  # the combined model, compiled with it frozen, left it alone
        assert all(g_learned), g_learned
        assert len(combined.trainable_weights) == len(g.trainable_weights)
        """, True),
    ("image_dim_ordering_values", """
        from keras import backend as K
        K.set_image_dim_ordering('th')
        first = K.image_dim_ordering() == 'th'
        ordering = K.image_dim_ordering()
        axis = 1 if ordering == 'th' else -1
        K.set_image_dim_ordering('tf')
        last = K.image_dim_ordering() in ('tf',)
        not_th = K.image_dim_ordering() != 'th'
        """, """
        assert first and axis == 1 and last and not_th
        assert K.image_data_format() == 'channels_last'
        """, False),
    ("reset_states_resets_every_stateful_layer", """
        import numpy as np
        from keras.models import Sequential
        from keras.layers import LSTM, Dense
        model = Sequential()
        model.add(LSTM(3, batch_input_shape=(2, 4, 2), stateful=True, return_sequences=True))
        model.add(LSTM(2, stateful=True))
        model.add(Dense(1))
        x = np.random.RandomState(1).rand(2, 4, 2).astype('float32')
        first = model.predict(x, batch_size=2)
        second = model.predict(x, batch_size=2)
        model.reset_states()
        third = model.predict(x, batch_size=2)
        """, """
        assert not np.allclose(first, second)
        assert np.allclose(first, third)
        """, False),
    ("merge_of_sequential_branches_keeps_input_order", """
        import numpy as np
        from keras.models import Sequential
        from keras.layers import Dense, Merge
        left = Sequential()
        left.add(Dense(2, input_dim=3, use_bias=False, kernel_initializer='ones'))
        right = Sequential()
        right.add(Dense(2, input_dim=5, use_bias=False, kernel_initializer='zeros'))
        model = Sequential()
        model.add(Merge([left, right], mode='concat'))
        out = model.predict([np.ones((1, 3)), np.ones((1, 5))])
        """, """
        assert out.tolist() == [[3.0, 3.0, 0.0, 0.0]], out
        assert [t.shape[1] for t in model.inputs] == [3, 5]
        """, False),
    ("merge_callable_mode_is_a_lambda", """
        import numpy as np
        from keras.layers import Input, merge
        from keras.models import Model
        a, b = Input(shape=(2,)), Input(shape=(2,))
        d = merge([a, b], mode=lambda t: t[0] - t[1], output_shape=lambda s: s[0])
        model = Model(input=[a, b], output=d)
        out = model.predict([np.array([[5.0, 1.0]]), np.array([[2.0, 1.0]])])
        """, """
        assert out.tolist() == [[3.0, 0.0]]
        """, False),
    ("keras1_initializer_lambdas", """
        import numpy as np
        from keras.layers import Dense, Input
        from keras.initializations import normal, uniform, orthogonal
        a = Dense(200, init=lambda shape, name: normal(shape, scale=0.01, name=name))
        b = Dense(200, init=lambda shape, name=None: uniform(shape, scale=0.2, name=name))
        c = Dense(50, init=lambda shape, name: orthogonal(shape, name=name))
        x = Input(shape=(50,))
        a(x), b(x), c(x)
        """, """
        wa, wb, wc = a.get_weights()[0], b.get_weights()[0], c.get_weights()[0]
        assert 0.008 < wa.std() < 0.012
        assert wb.min() >= -0.2 and wb.max() <= 0.2 and wb.max() > 0.19
        assert np.allclose(wc.T @ wc, 1.1 ** 2 * np.eye(50), atol=1e-4)  # Keras 1's gain 1.1
        """, False),
    ("simple_rnn_implementation_dropped", """
        import numpy as np
        from keras.models import Sequential
        from keras.layers import Dense, SimpleRNN, LSTM
        model = Sequential()
        model.add(SimpleRNN(6, input_shape=(5, 3), implementation=2, return_sequences=True))
        model.add(LSTM(4, implementation=2))  # LSTM still takes it: kept
        model.add(Dense(1))
        """, """
        assert model.count_params() == (3 * 6 + 6 * 6 + 6) + 4 * (6 * 4 + 4 * 4 + 4) + 5
        assert model.predict(np.zeros((2, 5, 3), 'float32'), verbose=0).shape == (2, 1)
        try:
            SimpleRNN(6, implementation=2)
        except ValueError:
            pass  # what the rewrite avoids: Keras 3 rejects the keyword
        else:
            raise AssertionError("SimpleRNN takes implementation= again: KM336 is no longer needed")
        """, False),
    ("recurrent_input_dim_is_one_step", """
        import numpy as np
        from keras.models import Sequential
        from keras.layers import Conv1D, Dense, LSTM
        model = Sequential()
        model.add(LSTM(6, input_dim=3))
        model.add(Dense(1))
        model.compile(loss='mse', optimizer='sgd')
        conv = Sequential()
        conv.add(Conv1D(4, 2, input_dim=3, input_length=5))
        """, """
        # Keras 2 built (None, None, 3): any number of steps of 3 features
        assert [tuple(t.shape) for t in model.inputs] == [(None, None, 3)]
        for steps in (4, 9):
            assert model.predict(np.zeros((2, steps, 3), 'float32'), verbose=0).shape == (2, 1)
        assert model.count_params() == 4 * (3 * 6 + 6 * 6 + 6) + 7
        assert [tuple(t.shape) for t in conv.inputs] == [(None, 5, 3)]
        assert conv.predict(np.zeros((2, 5, 3), 'float32'), verbose=0).shape == (2, 4, 4)
        """, False),
    ("numpy_sizes_and_slice_x", """
        import numpy as np
        from keras.layers import Dense
        from keras.engine.training import slice_X, make_batches
        y = np.array([0, 4, 2])
        n = np.max(y) + 1
        layer = Dense(n)
        parts = slice_X([np.arange(10), np.arange(10) * 2], 2, 5)
        X = np.arange(10)
        single = slice_X(X, 3)
        batches = make_batches(10, 4)
        """, """
        assert layer.units == 5 and type(layer.units) is int
        assert [p.tolist() for p in parts] == [[2, 3, 4], [4, 6, 8]]
        assert single.tolist() == [3, 4, 5, 6, 7, 8, 9]
        assert batches == [(0, 4), (4, 8), (8, 10)]
        """, False),
]


def _migrate(text: str, unsafe: bool) -> str:
    options = Options(rules=tuple(r for r in all_rules().values() if not r.opt_in), unsafe_fixes=unsafe)
    return fix_text(text, "case.py", options).text


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    work = tmp_path_factory.mktemp("runtime_fixes")
    scripts = {}
    for name, old, check, unsafe in CASES:
        migrated = _migrate(textwrap.dedent(old).lstrip(), unsafe)
        path = work / f"{name}.py"
        path.write_text(migrated + "\n" + textwrap.dedent(check).lstrip() + "\nprint('CASE-OK')\n", encoding="utf-8")
        scripts[name] = path
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "-1"}
    runner = ("import runpy, sys, traceback\nimport tensorflow\nfor p in sys.argv[1:]:\n"
              "    print('CASE', p, flush=True)\n    try:\n        runpy.run_path(p, run_name='__main__')\n"
              "    except BaseException:\n        print('CASE-ERROR', traceback.format_exc()[-1500:], flush=True)\n")
    proc = subprocess.run([sys.executable, "-c", runner, *map(str, scripts.values())], capture_output=True,
                          text=True, timeout=600, cwd=work, env=env)
    out, current = {}, None
    for line in proc.stdout.splitlines():
        if line.startswith("CASE "):
            current = line.split(" ", 1)[1]
            out[current] = ""
        elif current is not None:
            out[current] += line + "\n"
    return scripts, out, proc.stderr


@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_migrated_code_does_what_the_old_code_meant(ran, name):
    scripts, out, stderr = ran
    path = scripts[name]
    got = out.get(str(path))
    assert got is not None, stderr[-3000:]
    assert "CASE-OK" in got and "CASE-ERROR" not in got, f"{got}\nmigrated:\n{path.read_text()}"


def test_old_names_are_gone_from_the_migrated_code(ran):
    """The checks are not vacuous: the old spellings were rewritten, not left to a shim."""
    scripts, _, _ = ran
    text = "".join(p.read_text() for p in scripts.values())
    for old in ("weights=[", "image_dim_ordering", "set_image_dim_ordering", "Merge(", "merge(", "init=lambda",
                "slice_X", "make_batches(", "model.reset_states()"):
        assert old not in text, old
