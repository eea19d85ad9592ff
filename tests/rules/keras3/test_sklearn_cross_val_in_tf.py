"""KM343 and scikit-learn's cross-validation, run in TensorFlow 2.21: Keras 3's
`SKLearnClassifier.__sklearn_clone__` passes on only `model`, `warm_start` and `model_kwargs`, so a
migrated `KerasClassifier(build_fn=f, epochs=2, batch_size=5)` given to `cross_val_score` would train
every fold with `fit`'s defaults (1 epoch). An old Keras 2 script of that shape (the classic binary
classification tutorial, on tiny random data, with the sigmoid model KM343's unsafe fix needs changed
by hand to softmax) is migrated with every default rule and unsafe fixes, then run: each fold's model
must train the requested number of epochs, and so must a `cross_validate` over a `KerasRegressor`
whose call already passed `params=`."""
from __future__ import annotations

import textwrap

import pytest

from tests.rules.keras3.migrate_and_run import migrate_all, run_script

pytestmark = pytest.mark.tf

OLD = """
import numpy as np
from keras.models import Sequential
from keras.layers import Dense
from keras.callbacks import Callback
from keras.wrappers.scikit_learn import KerasClassifier, KerasRegressor
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn import model_selection


class CountEpochs(Callback):
    folds = []

    def on_train_begin(self, logs=None):
        CountEpochs.folds.append(0)

    def on_epoch_end(self, epoch, logs=None):
        CountEpochs.folds[-1] += 1


def create_baseline(units=8):
    model = Sequential()
    model.add(Dense(units, input_dim=4, activation='relu'))
    model.add(Dense(2, activation='softmax'))
    model.compile(loss='categorical_crossentropy', optimizer='adam', metrics=['accuracy'])
    return model


def create_regressor(units=8):
    model = Sequential()
    model.add(Dense(units, input_dim=4, activation='relu'))
    model.add(Dense(1))
    model.compile(loss='mean_squared_error', optimizer='adam')
    return model


rng = np.random.RandomState(0)
X = rng.rand(20, 4).astype('float32')
Y = np.arange(20) % 2
counter = CountEpochs()
estimator = KerasClassifier(build_fn=create_baseline, epochs=2, batch_size=5, verbose=0, callbacks=[counter])
kfold = StratifiedKFold(n_splits=2, shuffle=True, random_state=0)
results = cross_val_score(estimator, X, Y, cv=kfold)
print("Baseline: %.2f%% (%.2f%%)" % (results.mean() * 100, results.std() * 100))
classifier_folds = list(CountEpochs.folds)
reg = KerasRegressor(build_fn=create_regressor, units=4, nb_epoch=3, verbose=0)
scores = model_selection.cross_validate(reg, X, Y.astype('float32'), cv=2, return_estimator=True,
                                        params={'batch_size': 4})
"""

CHECK = """
# every fold trained the epochs the old wrapper was given, with its callbacks
assert classifier_folds == [2, 2], classifier_folds
assert len(results) == 2 and np.isfinite(results).all(), results
fitted = scores['estimator']
assert [len(e.history_.history['loss']) for e in fitted] == [3, 3], [e.history_.history for e in fitted]
print('CASE-OK')
"""


def test_migrated_cross_validation_trains_the_requested_epochs(tmp_path):
    out, again = migrate_all(textwrap.dedent(OLD).lstrip(), "cv.py")
    assert "KerasClassifier" not in out.text and "params={'epochs': 2, " in out.text, out.text
    assert [f for f in again.findings if f.code == "KM343"] == [], again.findings
    run_script(out.text + "\n" + textwrap.dedent(CHECK).lstrip(), tmp_path, "cv.py")



BUG = """
# without the params= KM343 adds, the clones have lost fit_kwargs: no callback, 1 epoch each
assert classifier_folds == [], classifier_folds
assert [len(e.history_.history['loss']) for e in scores['estimator']] == [1, 1]
print('CASE-OK')
"""


def test_without_the_added_params_each_fold_trains_one_epoch(tmp_path):
    """What the test above guards against, checked against the installed Keras: if a later Keras
    keeps `fit_kwargs` when cloning, this fails and the `params=` rewrite can be retired."""
    text = migrate_all(textwrap.dedent(OLD).lstrip(), "cv.py")[0].text
    added = [", params={'epochs': 2, 'batch_size': 5, 'verbose': 0, 'callbacks': [counter]})",
             ", 'epochs': 3, 'verbose': 0})"]
    assert all(a in text for a in added), text
    text = text.replace(added[0], ")").replace(added[1], "})")
    run_script(text + "\n" + textwrap.dedent(BUG).lstrip(), tmp_path, "cv.py")
