"""Training texts as compact arrays of n-gram ids, and their TF-IDF rows.

A corpus is analysed once; a vectoriser can then be fitted on any subset of its
texts (the calibration split, or all of them) without analysing again, and the
rows are built with array operations rather than one text at a time. Memory stays
at a few bytes per n-gram occurrence instead of a dictionary per text. Each text's
pretrained token vector is kept beside its n-grams.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from nlu.embeddings import shipped
from nlu.features import WORD_MARK, Vectoriser, analyse, forget_words
from nlu.other_parties import NONE, OtherParties

CHUNK = 1024  # texts at a time when building rows: bounds the temporary arrays


@dataclass
class Corpus:
    # The n-grams, one string joined by newlines (which no n-gram holds), id g at
    # names[starts[g]:starts[g + 1] - 1]: a string each, and the dict that numbered them,
    # were a quarter of training's peak memory, held in every forked worker.
    names: str
    starts: np.ndarray
    offsets: np.ndarray  # text i owns ids[offsets[i]:offsets[i + 1]]
    ids: np.ndarray
    counts: np.ndarray
    vectors: np.ndarray  # texts x dimensions

    @classmethod
    def of(cls, texts: Iterable[str], parties: OtherParties = NONE, vectors: bool = True) -> Corpus:
        """Analyse normalised texts; without `vectors`, their token vectors are left empty
        (texts x 0) for the caller to fill in."""
        texts = list(texts)
        index: dict[str, int] = {}
        offsets = array("q", [0])
        ids = array("i")
        counts = array("f")
        for text in texts:
            for gram, count in analyse(text, parties).items():
                ids.append(index.setdefault(gram, len(index)))
                counts.append(count)
            offsets.append(len(ids))
        lengths = np.fromiter((len(gram) + 1 for gram in index), dtype=np.int64, count=len(index))
        names = "\n".join(index)
        del index
        forget_words()  # the last references to the n-grams' strings: their memory goes back
        return cls(
            names,
            np.concatenate(([0], np.cumsum(lengths))),
            np.frombuffer(offsets, dtype=np.int64),
            np.frombuffer(ids, dtype=np.int32),
            np.frombuffer(counts, dtype=np.float32),
            shipped().vectors(texts) if vectors else np.zeros((len(texts), 0), np.float32),
        )

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_grams(self) -> int:
        return len(self.starts) - 1

    def gram(self, g: int) -> str:
        return self.names[self.starts[g] : self.starts[g + 1] - 1]

    def _positions(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions in `ids` of the texts `rows`, and the number (0..) of each one's text."""
        starts = self.offsets[rows]
        lengths = self.offsets[rows + 1] - starts
        owner = np.repeat(np.arange(len(rows), dtype=np.int32), lengths)
        first = np.cumsum(lengths) - lengths
        positions = np.arange(len(owner), dtype=np.int64) + np.repeat(starts - first, lengths)
        return positions, owner

    def _chunks(self, rows: np.ndarray):
        for start in range(0, len(rows), CHUNK):
            yield rows[start : start + CHUNK]

    def vectoriser(self, rows: np.ndarray, min_df: int = 1) -> tuple[Vectoriser, np.ndarray]:
        """A vectoriser fitted on the texts `rows`, keeping the n-grams of at least `min_df`
        of them, and the map n-gram id -> feature (-1: none)."""
        frequency = np.zeros(self.n_grams, dtype=np.int64)
        for chunk in self._chunks(rows):
            positions, _ = self._positions(chunk)
            frequency += np.bincount(self.ids[positions], minlength=self.n_grams)
        present = np.flatnonzero(frequency >= max(1, min_df))
        idf = np.log((1 + len(rows)) / (1 + frequency[present])) + 1
        vocabulary = {self.gram(g): i for i, g in enumerate(present.tolist())}
        is_word = np.array([gram.startswith(WORD_MARK) for gram in vocabulary], dtype=bool)
        mapping = np.full(self.n_grams, -1, dtype=np.int32)
        mapping[present] = np.arange(len(present), dtype=np.int32)
        return Vectoriser(vocabulary, idf.astype(np.float32), is_word), mapping

    def rows(self, vectoriser: Vectoriser, mapping: np.ndarray, rows: np.ndarray):
        """CSR arrays (indptr, indices, values) of the texts `rows`, as `transform` weighs them.

        Filled chunk by chunk into arrays sized for every n-gram of the texts (the known
        ones are at most that many), never a list of parts and their concatenation: on
        CLINC150 that copy was 15 MB of training's peak memory."""
        capacity = int((self.offsets[rows + 1] - self.offsets[rows]).sum())
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        indices = np.empty(capacity, dtype=np.int32)
        values = np.empty(capacity, dtype=np.float32)
        filled = done = 0
        for chunk in self._chunks(rows):
            lengths, features, weights = self._rows(vectoriser, mapping, chunk)
            indices[filled : filled + len(features)] = features
            values[filled : filled + len(features)] = weights
            indptr[done + 1 : done + 1 + len(chunk)] = filled + np.cumsum(lengths)
            filled += len(features)
            done += len(chunk)
        return indptr, indices[:filled], values[:filled]

    def _rows(self, vectoriser: Vectoriser, mapping: np.ndarray, rows: np.ndarray):
        positions, owner = self._positions(rows)
        features = mapping[self.ids[positions]]
        known = features >= 0
        features, owner = features[known], owner[known]
        weights = np.log(self.counts[positions][known])
        weights += 1.0
        weights *= vectoriser.idf[features]
        block = owner * 2 + vectoriser.is_word[features]
        norms = np.bincount(block, weights=weights * weights, minlength=2 * len(rows))
        norms = np.sqrt(norms).astype(np.float32)
        norms[norms == 0] = 1.0
        weights /= norms[block]
        return np.bincount(owner, minlength=len(rows)), features, weights
