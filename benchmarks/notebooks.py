"""Notebook throughput: JSON read with positions, IPython masking, rules per cell, splice back.

    python benchmarks/notebooks.py [N_NOTEBOOKS]

Builds synthetic notebooks shaped like old Keras tutorials (magics, 12 code cells, markdown,
a 200 kB PNG output and stream outputs per notebook) and prints per-notebook time and the rate
at which notebook bytes go through, next to the same code as one .py file.
"""
from __future__ import annotations

import base64
import os
import sys
import tempfile
import time

import nbformat

from kmigrate.config import Config
from kmigrate.process import process_file
from kmigrate.notebook import Notebook, mask_ipython
from kmigrate.run import options_from

CELLS = [
    "%matplotlib inline\n!pip install keras==2.2.4\nimport numpy as np\nimport keras\n"
    "from keras.models import Sequential\nfrom keras.layers import Dense, Dropout\n",
    "x_train = np.random.rand(100, 20)\ny_train = np.random.randint(2, size=(100, 1))\n",
    "model = Sequential()\nmodel.add(Dense(64, activation='relu', input_dim=20))\nmodel.add(Dropout(0.5))\n"
    "model.add(Dense(1, activation='sigmoid'))\n",
    "model.compile(loss='binary_crossentropy', optimizer='rmsprop', metrics=['accuracy'])\n",
    "%%time\nhistory = model.fit(x_train, y_train, nb_epoch=3, batch_size=128)\n",
    "model.summary?\n",
]


def build(path: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    png = base64.b64encode(os.urandom(150_000)).decode()
    for i in range(12):
        nb.cells.append(nbformat.v4.new_markdown_cell(f"## Step {i}\nSome explanation."))
        cell = nbformat.v4.new_code_cell(CELLS[i % len(CELLS)], execution_count=i + 1)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="Epoch 1/3\n" * 20)]
        if i == 4:
            cell.outputs.append(nbformat.v4.new_output("display_data", data={"image/png": png}))
        nb.cells.append(cell)
    nbformat.write(nb, path)


def main(n: int) -> None:
    options = options_from(Config(cache=False))
    with tempfile.TemporaryDirectory() as tmp:
        paths = [os.path.join(tmp, f"nb{i}.ipynb") for i in range(n)]
        for p in paths:
            build(p)
        size = sum(os.path.getsize(p) for p in paths)
        process_file(paths[0], options)  # warm-up: rule registry, LibCST import
        t = time.perf_counter()
        for p in paths:
            Notebook.from_bytes(open(p, "rb").read())
        parse = time.perf_counter() - t
        t = time.perf_counter()
        for p in paths:
            for c in Notebook.from_bytes(open(p, "rb").read()).cells:
                mask_ipython(c.text)
        mask = time.perf_counter() - t - parse
        t = time.perf_counter()
        findings = 0
        for p in paths:
            findings += len(process_file(p, options).findings)
        total = time.perf_counter() - t
        py = os.path.join(tmp, "same.py")
        with open(py, "w") as fh:
            code = "".join(CELLS * 2).splitlines(keepends=True)  # the same code, IPython lines dropped
            fh.write("".join(l for l in code if not l.startswith(("%", "!")) and not l.rstrip().endswith("?")))
        t = time.perf_counter()
        for _ in range(n):
            process_file(py, options)
        py_total = time.perf_counter() - t
    print(f"{n} notebooks, {size / 1e6:.1f} MB, {findings} findings")
    print(f"JSON read with positions: {parse / n * 1000:.1f} ms/notebook ({size / parse / 1e6:.0f} MB/s)")
    print(f"IPython masking:          {mask / n * 1000:.2f} ms/notebook")
    print(f"whole notebook (12 cells): {total / n * 1000:.0f} ms/notebook, {n / total:.1f} notebooks/s")
    print(f"the same code as one .py: {py_total / n * 1000:.0f} ms/file")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
