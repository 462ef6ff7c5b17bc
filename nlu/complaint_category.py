"""The complaint category of a complaint-ish text, with its confidence.

The category classifier (trained on `complaint_categories:` texts in three scripts
and two languages) gives probabilities; a category the keyword lookup found in the
text adds `LOOKUP_WEIGHT` to its own, so a keyword tips a close call but a clear
description outweighs a misleading keyword (expired face cream is product quality,
not an expired benefit). Only texts the intent classifier finds complaint-ish get a
category, and only when the combined confidence reaches `MIN_CONFIDENCE` and the winner
is a category rather than `NO_CATEGORY`; otherwise no category entity is reported at all
(`我要投诉` alone: the form asks for it). Inside the complaint form the bot asks again with
`EmbeddedParser.complaint_category`, where what is not another known request counts.
"""

from __future__ import annotations

import numpy as np

from nlu.classifier import LinearClassifier
from nlu.features import TextFeatures

ENTITY = "complaint_category"
# The label of complaints that name no category (`我要投诉`, `complaint about order 123...`):
# learnt from the complaint intent's examples without a category annotation.
NO_CATEGORY = "_none"
EXTRACTOR = "ComplaintCategoryClassifier"
COMPLAINT_INTENT = "file_complaint"
MIN_COMPLAINT_SHARE = 0.2  # P(file_complaint) from which a text is complaint-ish
# Inside the complaint form the member is telling what happened, so a text is complaint-ish
# there unless a request we know holds it: `my coffee was cold` (out of scope alone) has the
# coffee's quality, `是的`, `hello` or `how many points do I have` have no category, though
# the classifier, which only ever saw complaints, would give them one. What the points did
# is told there too: `那笔只给了280分，应该是560分` reads alone as a calm points question.
MIN_SHARE_IN_FORM = 0.15  # P(file_complaint) + P(out_of_scope) + P(points_history)
OUT_OF_SCOPE = "out_of_scope"
TOLD_IN_FORM = (COMPLAINT_INTENT, OUT_OF_SCOPE, "points_history")
LOOKUP_WEIGHT = 0.3
MIN_CONFIDENCE = 0.45


def complaintish(intents: list[str], probs: np.ndarray, in_form: bool = False) -> bool:
    """Whether the intent classifier leaves the text to a complaint: P(file_complaint), and
    inside the complaint form P(out_of_scope) and P(points_history) with it, reaches the
    share for the place."""
    if not in_form:
        return _share(intents, probs, (COMPLAINT_INTENT,)) >= MIN_COMPLAINT_SHARE
    return _share(intents, probs, TOLD_IN_FORM) >= MIN_SHARE_IN_FORM


def _share(intents: list[str], probs: np.ndarray, names: tuple[str, ...]) -> float:
    return sum(float(probs[intents.index(name)]) for name in names if name in intents)


def categorise(
    classifier: LinearClassifier | None,
    features: TextFeatures,
    complaint: bool,
    entities: list[dict],
    text: str,
) -> tuple[list[dict], dict | None]:
    """The entities with the category settled (lookup matches replaced by one decision),
    and the top-level `{name, confidence}`, or None."""
    found = [e for e in entities if e["entity"] == ENTITY]
    others = [e for e in entities if e["entity"] != ENTITY]
    if classifier is None:
        return entities, _top(found[0]["value"], 1.0) if found else None
    if not complaint:
        return others, None
    probs, coverage = classifier.probabilities(features)
    if coverage == 0.0:
        probs = np.zeros(len(classifier.labels))
    probs = probs * (1.0 - LOOKUP_WEIGHT * bool(found))
    for entity in found[:1]:
        if entity["value"] in classifier.labels:
            probs[classifier.labels.index(entity["value"])] += LOOKUP_WEIGHT
    best = int(np.argmax(probs))
    confidence = round(float(probs[best]), 4)
    name = classifier.labels[best]
    if confidence < MIN_CONFIDENCE or name == NO_CATEGORY:
        return others, None
    span = next(((e["start"], e["end"]) for e in found if e["value"] == name), (0, len(text)))
    entity = {
        "entity": ENTITY,
        "start": span[0],
        "end": span[1],
        "value": name,
        "extractor": EXTRACTOR,
        "confidence": confidence,
    }
    merged = sorted([*others, entity], key=lambda e: (e["start"], e["end"]))
    return merged, _top(name, confidence)


def _top(name: str, confidence: float) -> dict:
    return {"name": name, "confidence": confidence}
