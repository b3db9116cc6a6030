"""TF-IDF rows of fitted scikit-learn vectorizers, computed directly.

The red-flag detector, the answer model and the intent classifier each featurise one short message
at a time with ``TfidfVectorizer`` parts side by side (a ``FeatureUnion``). scikit-learn's
``transform`` spends most of such a call on validation, sparse-matrix construction and the union's
machinery, not on the n-grams. ``FastTfidf`` takes the fitted parts apart once and computes the
same figures: sublinear term frequency, times idf, each part normalised to unit length, the parts'
columns side by side. It applies only to vectorizers fitted that way (``supported``); the users
check equality with ``transform`` in their tests.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Sequence, Tuple


class FastTfidf:
    def __init__(self, fitted: Any) -> None:
        """``fitted``: a FeatureUnion of TfidfVectorizers, or one TfidfVectorizer."""
        import numpy as np

        vectorizers = [part for _, part in getattr(fitted, "transformer_list", [("all", fitted)])]
        self.supported = all(v.sublinear_tf and v.norm == "l2" and v.use_idf and not v.binary for v in vectorizers)
        self.parts: List[Tuple[Callable[[str], List[str]], Dict[str, int], Any, int]] = []
        offset = 0
        for vectorizer in vectorizers:
            self.parts.append(
                (vectorizer.build_analyzer(), vectorizer.vocabulary_, np.asarray(vectorizer.idf_), offset)
            )
            offset += len(vectorizer.vocabulary_)
        self.width = offset

    def row(self, text: str) -> Tuple[Any, Any]:
        """(column indices, values) of the text's non-zero features."""
        import numpy as np

        indices, values = [], []
        for analyze, vocabulary, idf, offset in self.parts:
            counts: Dict[int, int] = {}
            for gram in analyze(text):
                column = vocabulary.get(gram)
                if column is not None:
                    counts[column] = counts.get(column, 0) + 1
            if not counts:
                continue
            columns = np.fromiter(counts, dtype=np.int64, count=len(counts))
            weights = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * idf[columns]
            weights /= np.sqrt(np.dot(weights, weights))
            indices.append(columns + offset)
            values.append(weights)
        if not indices:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        return np.concatenate(indices), np.concatenate(values)

    def matrix(self, texts: Sequence[str]) -> Any:
        """The rows of ``texts`` as a CSR matrix, as ``transform`` returns them."""
        import numpy as np
        from scipy.sparse import csr_matrix

        rows = [self.row(text) for text in texts]
        indptr = np.cumsum([0] + [len(indices) for indices, _ in rows])
        indices = np.concatenate([indices for indices, _ in rows]) if rows else np.zeros(0, dtype=np.int64)
        data = np.concatenate([values for _, values in rows]) if rows else np.zeros(0, dtype=np.float64)
        return csr_matrix((data, indices, indptr), shape=(len(texts), self.width))
