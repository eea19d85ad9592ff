"""KM343's search-grid rewrite, run in TensorFlow 2.21 with scikit-learn: an old Keras 2 program
that grid-searches a `KerasClassifier` over its build function's and `fit`'s keys (the pattern of
Keras 2.3.1's examples/mnist_sklearn_wrapper.py, on tiny data) is migrated with every default rule
and unsafe fixes, then run; it must fit the same candidates the old grid names, each trained with
the wrapper's own fixed arguments."""
from __future__ import annotations

import textwrap

import pytest

from tests.rules.keras3.migrate_and_run import migrate_all, run_script

pytestmark = pytest.mark.tf

OLD = """
import numpy as np
from keras.models import Sequential
from keras.layers import Dense
from keras.wrappers.scikit_learn import KerasClassifier
from sklearn.model_selection import GridSearchCV


def make_model(units=8, optimizer='adam'):
    model = Sequential()
    model.add(Dense(units, input_dim=4, activation='relu'))
    model.add(Dense(3, activation='softmax'))
    model.compile(loss='categorical_crossentropy', optimizer=optimizer, metrics=['accuracy'])
    return model


rng = np.random.RandomState(0)
X = rng.rand(30, 4).astype('float32')
y = np.arange(30) % 3
clf = KerasClassifier(build_fn=make_model, optimizer='sgd', epochs=1, verbose=0)
grid = GridSearchCV(clf, param_grid={'units': [4, 8], 'batch_size': [5, 10]}, cv=2, n_jobs=1)
grid_result = grid.fit(X, y)
print("Best: %f using %s" % (grid_result.best_score_, grid_result.best_params_))
best_units = grid_result.best_params_['units']
best = grid_result.best_estimator_.model
"""

CHECK = """
import keras
from sklearn.model_selection import ParameterGrid

old_grid = {'units': [4, 8], 'batch_size': [5, 10]}
params = grid_result.cv_results_['params']
# as many candidates as the old grid has combinations, every one fitted and scored
assert len(params) == len(ParameterGrid(old_grid)) == 4, params
assert np.isfinite(grid_result.cv_results_['mean_test_score']).all(), grid_result.cv_results_
# the same combinations, each with the wrapper's fixed arguments (optimizer, epochs, verbose)
got = sorted(sorted({**p['model_kwargs'], **p['fit_kwargs']}.items()) for p in params)
want = sorted(sorted({**c, 'optimizer': 'sgd', 'epochs': 1, 'verbose': 0}.items()) for c in ParameterGrid(old_grid))
assert got == want, (got, want)
assert isinstance(best, keras.Model) and best.layers[0].units == best_units
assert type(best.optimizer).__name__ == 'SGD'
assert len(grid_result.best_estimator_.history_.history['loss']) == 1
print('CASE-OK')
"""


def test_migrated_search_fits_the_old_grids_candidates(tmp_path):
    out, again = migrate_all(textwrap.dedent(OLD).lstrip(), "search.py")
    assert "'model_kwargs': [" in out.text and "KerasClassifier" not in out.text, out.text
    assert [f for f in again.findings if f.code == "KM343"] == [], again.findings
    run_script(out.text + "\n" + textwrap.dedent(CHECK).lstrip(), tmp_path, "search.py")
