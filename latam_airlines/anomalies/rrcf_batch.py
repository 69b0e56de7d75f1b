"""The pure-Python Random Cut Forest (`rrcf`) built in batch, for `--method rrcf`: every round
shuffles the airport's days and splits them into trees of about `tree_size` days; each day's
score is its collusive displacement (CoDisp) averaged over the `trees_per_day` trees that hold
it. Its own module: importing rrcf imports pkg_resources, a cost every process of the default
method (krcf) would otherwise pay.
"""

from __future__ import annotations

import numpy as np
import rrcf
from rrcf.rrcf import Branch, Leaf


class _BatchTree(rrcf.RCTree):
    """An rrcf RCTree (rrcf's Branch/Leaf nodes, its `codisp`) built once from a batch, about
    three times as fast as rrcf's own constructor:

    - no bounding boxes: only streaming insert/forget use them;
    - each node splits an array of row numbers instead of masking every row of the batch, in
      a loop instead of recursion;
    - the cut is rrcf's: a dimension drawn with probability proportional to its span (by a
      running sum instead of `RandomState.choice(p=...)`, whose checks cost more than the
      draw), then a value uniform over that span.
    """

    def _get_bbox_top_down(self, node) -> None:
        return None

    def _mktree(self, X, S, N, inverse, parent=None, side="root", depth=0):  # rrcf calls it positionally
        labels = self.index_labels
        rows = np.flatnonzero(S)
        # Two uniform draws per branch (dimension, value), drawn at once: a tree of n points
        # has n - 1 branches, and one call to the generator costs more than the arithmetic.
        draws = iter(self.rng.random_sample(2 * len(rows)).tolist())
        pending = [(rows, parent, side, depth + 1)]
        while pending:
            rows, above, branch_side, level = pending.pop()
            points = X[rows]
            lower = points.min(axis=0).tolist()
            spans = [high - low for high, low in zip(points.max(axis=0).tolist(), lower)]
            target = next(draws) * sum(spans)
            dimension, covered = 0, spans[0]
            while covered <= target and dimension < len(spans) - 1:
                dimension += 1
                covered += spans[dimension]
            value = lower[dimension] + next(draws) * spans[dimension]
            branch = Branch(q=dimension, p=value, u=above)
            setattr(above, branch_side, branch)  # `above` is the tree itself for the root
            goes_left = points[:, dimension] <= value
            for child_rows, child_side in ((rows[goes_left], "l"), (rows[~goes_left], "r")):
                if len(child_rows) > 1:
                    pending.append((child_rows, branch, child_side, level + 1))
                    continue
                row = int(child_rows[0])
                leaf = Leaf(i=row, d=level, u=branch, x=X[row, :], n=N[row])
                setattr(branch, child_side, leaf)
                # With duplicates X holds unique rows and `inverse` maps each input row onto one.
                duplicates = labels[np.flatnonzero(inverse == row)] if inverse is not None else (labels[row],)
                for label in duplicates:
                    self.leaves[label] = leaf


def _tree_codisp(tree: rrcf.RCTree, labels: np.ndarray) -> np.ndarray:
    """CoDisp of every point of `tree` in one top-down pass (rrcf's `codisp` walks up from each
    leaf: the same maximum of sibling size / subtree size over the leaf's ancestors)."""
    by_leaf: dict[int, float] = {}
    stack = [(tree.root, 0.0)]
    while stack:
        node, best = stack.pop()
        if isinstance(node, rrcf.Leaf):
            by_leaf[id(node)] = best
            continue
        left, right = node.l, node.r
        stack.append((left, max(best, right.n / left.n)))
        stack.append((right, max(best, left.n / right.n)))
    return np.fromiter((by_leaf[id(tree.leaves[label])] for label in labels), dtype=float, count=len(labels))


def rrcf_scores(features: np.ndarray, trees_per_day: int, tree_size: int, random_state: int) -> np.ndarray:
    """Mean CoDisp of each row over `trees_per_day` random cut trees of about `tree_size` rows."""
    count = len(features)
    features = np.round(features, 9)  # rrcf rounds too; identical rows then share a leaf
    if count < 2 or len(np.unique(features, axis=0)) < 2:
        return np.zeros(count)
    rng = np.random.RandomState(random_state)
    trees_per_round = max(1, round(count / tree_size))
    total = np.zeros(count)
    held = np.zeros(count)
    for _ in range(trees_per_day):
        for labels in np.array_split(rng.permutation(count), trees_per_round):
            if len(np.unique(features[labels], axis=0)) < 2:
                continue  # a tree of identical days isolates nothing
            tree = _BatchTree(features[labels], index_labels=labels, random_state=rng)
            total[labels] += _tree_codisp(tree, labels)
            held[labels] += 1
    return np.divide(total, held, out=np.zeros(count), where=held > 0)
