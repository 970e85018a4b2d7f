"""A fitted ensemble of regression trees, evaluated without the library that fitted it.

The found / not-found decision is learned by gradient boosting in bench/answers.py
(scikit-learn, a development dependency); the product only reads the trees from
qa/answer/calibration.json and walks them: a few hundred comparisons per question.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tree:
    feature: tuple[int, ...]  # per node; -1 at a leaf
    threshold: tuple[float, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    value: tuple[float, ...]

    def predict(self, x: list[float]) -> float:
        node = 0
        while self.feature[node] >= 0:
            node = self.left[node] if x[self.feature[node]] <= self.threshold[node] \
                else self.right[node]
        return self.value[node]


@dataclass(frozen=True)
class TreeEnsemble:
    """log-odds = init + rate * sum of the trees' values over `features`."""

    features: tuple[str, ...]
    init: float
    rate: float
    trees: tuple[Tree, ...]

    def score(self, row: dict[str, float]) -> float:
        x = [float(row[k]) for k in self.features]
        return self.init + self.rate * sum(t.predict(x) for t in self.trees)

    def to_dict(self) -> dict:
        return {"features": list(self.features), "init": self.init, "rate": self.rate,
                "trees": [[list(t.feature), list(t.threshold), list(t.left), list(t.right),
                           list(t.value)] for t in self.trees]}

    @classmethod
    def from_dict(cls, d: dict) -> TreeEnsemble:
        trees = tuple(Tree(tuple(int(v) for v in f), tuple(float(v) for v in th),
                           tuple(int(v) for v in lt), tuple(int(v) for v in rt),
                           tuple(float(v) for v in va))
                      for f, th, lt, rt, va in d["trees"])
        return cls(tuple(d["features"]), float(d["init"]), float(d["rate"]), trees)
