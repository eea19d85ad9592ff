"""KM343's search-grid rewrite, run in TensorFlow 2.21 with scikit-learn: an old Keras 2 program
that grid-searches a `KerasClassifier` over its build function's and `fit`'s keys (the pattern of
Keras 2.3.1's examples/mnist_sklearn_wrapper.py, on tiny data) is migrated with every default rule
and unsafe fixes, then run; it must fit the same candidates the old grid names, each trained with
the wrapper's own fixed arguments."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from kmigrate.engine import Options, fix_text
from kmigrate.rule import all_rules

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
    options = Options(rules=tuple(r for r in all_rules().values() if not r.opt_in), unsafe_fixes=True)
    out = fix_text(textwrap.dedent(OLD).lstrip(), "search.py", options)
    assert "'model_kwargs': [" in out.text and "KerasClassifier" not in out.text, out.text
    again = fix_text(out.text, "search.py", options)
    assert again.text == out.text
    assert [f for f in again.findings if f.code == "KM343"] == [], again.findings
    path = tmp_path / "search.py"
    path.write_text(out.text + "\n" + textwrap.dedent(CHECK).lstrip(), encoding="utf-8")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "-1"}
    proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=600,
                          cwd=tmp_path, env=env)
    assert "CASE-OK" in proc.stdout, f"{proc.stderr[-3000:]}\nmigrated:\n{out.text}"
