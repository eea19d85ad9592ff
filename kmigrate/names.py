"""Qualified-name resolution: any alias of keras / tf.keras / tf.layers -> one canonical name.

Rules never compare source spellings. They ask `resolver.keras_name(node)` and get e.g.
"layers.Dense" for `Dense`, `keras.layers.Dense`, `tf.keras.layers.Dense`, `KL.Dense`
(`import keras.layers as KL`), `keras.layers.core.Dense`, `tensorflow.python.keras.layers.Dense`;
and `resolver.tf_layers_name(node)` gives "dense" for `tf.layers.dense`, `T.compat.v1.layers.dense`,
`tfl.dense` (`tfl = tf.layers`) or `from tensorflow.layers import dense`.
"""
from __future__ import annotations

from typing import Optional

import libcst as cst
from libcst.metadata import (
    Assignment,
    QualifiedNameProvider,
    QualifiedNameSource,
    ScopeProvider,
)

# Roots under which the Keras API lives, longest first.
KERAS_ROOTS = (
    "tensorflow.compat.v1.keras.",
    "tensorflow.compat.v2.keras.",
    "tensorflow.python.keras.",
    "tensorflow.keras.",
    "tf_keras.",
    "keras.",
)
TF_LAYERS_ROOTS = (
    "tensorflow.compat.v1.layers.",
    "tensorflow.python.layers.",
    "tensorflow.layers.",
)

# TF1 contrib layer libraries (`slim = tf.contrib.slim` is followed like `tfl = tf.layers`).
TF_CONTRIB_LAYERS_ROOTS = (
    "tensorflow.contrib.layers.",
    "tensorflow.contrib.slim.",
)

# Keras 1/2 sub-modules whose names now live one level up (keras.layers.core.Dense -> layers.Dense).
_FLATTENED = (
    "layers.core.", "layers.convolutional.", "layers.convolutional_recurrent.", "layers.recurrent.",
    "layers.normalization.", "layers.embeddings.", "layers.pooling.", "layers.advanced_activations.",
    "layers.noise.", "layers.merge.", "layers.wrappers.", "layers.local.", "layers.cudnn_recurrent.",
    "layers.normalization_v2.", "layers.recurrent_v2.", "layers.dense_attention.",
)
_MOVED = {
    "engine.topology.": "models.",
    "engine.training.": "models.",
    "engine.sequential.": "models.",
    "engine.input_layer.": "layers.",
    "engine.base_layer.": "layers.",
    "engine.": "models.",
    "objectives.": "losses.",
    "initializations.": "initializers.",
    "utils.np_utils.": "utils.",
}


def canonical_keras(qname: str) -> Optional[str]:
    """'tensorflow.keras.layers.core.Dense' -> 'layers.Dense'; None if not under a Keras root."""
    for root in KERAS_ROOTS:
        if qname.startswith(root):
            rest = qname[len(root):]
            break
    else:
        if qname in ("keras", "tensorflow.keras", "tf_keras", "tensorflow.python.keras"):
            return ""
        return None
    for old in _FLATTENED:
        if rest.startswith(old):
            return "layers." + rest[len(old):]
    for old, new in _MOVED.items():
        if rest.startswith(old):
            return new + rest[len(old):]
    return rest


def canonical_tf_layers(qname: str) -> Optional[str]:
    for root in TF_LAYERS_ROOTS:
        if qname.startswith(root):
            return qname[len(root):]
    return None


class NameResolver:
    """Per-module helper built on LibCST's QualifiedNameProvider, following simple aliases.

    A rule that uses it lists `NameResolver.METADATA` in its METADATA_DEPENDENCIES and creates
    it lazily with `NameResolver(self)` (one per rule instance; metadata is cached by the wrapper).
    """

    METADATA = (QualifiedNameProvider, ScopeProvider)
    _assigns: Optional[tuple] = None  # (module, {assign target: Assign}) of the last module walked

    def __init__(self, visitor: cst.MetadataDependent):
        self._v = visitor

    def qualified_names(self, node: cst.CSTNode) -> set[str]:
        try:
            names = self._v.get_metadata(QualifiedNameProvider, node, set())
        except KeyError:
            return set()
        out: set[str] = set()
        for q in names:
            if q.source is QualifiedNameSource.LOCAL:
                expanded = self._expand_alias(node, q.name)
                if expanded:
                    out.add(expanded)
                    continue
            out.add(q.name)
        return out

    def _expand_alias(self, node: cst.CSTNode, local: str) -> Optional[str]:
        """`tfl.dense` where `tfl = tf.layers` (assigned once in scope) -> 'tensorflow.layers.dense'."""
        head, _, tail = local.partition(".")
        base = node
        while isinstance(base, cst.Attribute):
            base = base.value
        if not isinstance(base, cst.Name) or base.value != head:
            return None
        scope = self._v.get_metadata(ScopeProvider, base, None)
        if scope is None:
            return None
        assignments = [a for a in scope[head] if isinstance(a, Assignment)]
        if len(assignments) != 1:
            return None
        stmt = assignments[0].node
        value = None
        if isinstance(stmt, cst.Name):
            parent = self._parent_assign(stmt)
            value = parent.value if parent is not None else None
        if not isinstance(value, (cst.Attribute, cst.Name)):
            return None
        targets = self.qualified_names(value)
        if len(targets) != 1:
            return None
        target = next(iter(targets))
        if canonical_keras(target + ".") is None and canonical_tf_layers(target + ".") is None \
                and not (target + ".").startswith(TF_CONTRIB_LAYERS_ROOTS):
            return None
        return f"{target}.{tail}" if tail else target

    def _parent_assign(self, name: cst.Name) -> Optional[cst.Assign]:
        # Assignment.node for `x = ...` is the Name target; its Assign comes from one lazy walk
        # of the module (only when a local alias is met), cheaper than ParentNodeProvider.
        # The map is kept per module (the last one seen), not per resolver: rules that build a
        # NameResolver per node would otherwise walk the whole module again each time.
        module = self._v.module
        cached = NameResolver._assigns
        if cached is None or cached[0] is not module:
            assign_of: dict[cst.CSTNode, cst.Assign] = {}
            for assign in _iter_assigns(module):
                for t in assign.targets:
                    assign_of[t.target] = assign
            cached = NameResolver._assigns = (module, assign_of)
        return cached[1].get(name)

    def keras_name(self, node: cst.CSTNode) -> Optional[str]:
        """Canonical Keras path ('layers.Dense', 'backend.sum', 'Model') or None."""
        for q in self.qualified_names(node):
            c = canonical_keras(q)
            if c is not None:
                return c
        return None

    def tf_layers_name(self, node: cst.CSTNode) -> Optional[str]:
        for q in self.qualified_names(node):
            c = canonical_tf_layers(q)
            if c is not None:
                return c
        return None


def _iter_assigns(module: cst.Module):
    stack: list[cst.CSTNode] = [module]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Assign):
            yield n
        stack.extend(n.children)


def keras_module(target: str, sub: str = "") -> str:
    """Dotted module of the Keras the code should end up on: ('tensorflow.keras', 'layers')."""
    base = "tensorflow.keras" if target == "tensorflow.keras" else "keras"
    return f"{base}.{sub}" if sub else base
