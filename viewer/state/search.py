"""Muscle search by name, alias, body region, pain area and symptom words, tolerant of typos.

rapidfuzz does the edit distances (a well-kept C++ library rather than a
hand-written matcher). Every query word must match a word of the muscle:
exactly, as a prefix (typing in progress), or within a small edit distance
(typos). Matches in the name or an alias rank above matches in the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

WORD = re.compile(r"[a-z0-9]+")
MIN_SIMILARITY = 80           # rapidfuzz ratio (0-100) for a typo to count as a match
STOP = {"the", "and", "of", "in", "on", "at", "to", "a", "an", "or", "with", "pain", "muscle"}
WEIGHT = {"name": 3.0, "region": 2.0, "area": 1.5, "text": 1.0}


@dataclass
class Hit:
    muscle_id: str
    score: float
    where: str        # the field of the best match: name, region, area or text


def _words(text: str) -> set[str]:
    return {w for w in WORD.findall(text.lower()) if w not in STOP}


class MuscleIndex:
    """Words of every muscle map, by field, for `search`."""

    def __init__(self, maps):
        self.fields = {}
        for m in maps:
            z = m.zones
            zone_text = " ".join([x.description for x in z.essential + z.spillover]
                                 + [r.name.replace("_", " ") for x in z.essential + z.spillover
                                    for r in x.region_refs()])
            tp_text = " ".join(t.description for t in m.trigger_points)
            self.fields[m.id] = {
                "name": _words(" ".join([m.name, *m.aliases, m.id])),
                "region": _words(m.body_region.replace("_", " ")),
                "area": _words(zone_text),
                "text": _words(" ".join([m.description, m.patient_description, tp_text, *m.symptoms,
                                         *m.differentials])),
            }
        self._names = {m.id: m.name.lower() for m in maps}
        self._aliases = {m.id: [a.lower() for a in m.aliases] for m in maps}

    def _word_score(self, q: str, words: set[str]) -> float:
        if q in words:
            return 100.0
        if len(q) >= 3 and any(w.startswith(q) for w in words):
            return 95.0
        if len(q) < 4 or not words:
            return 0.0
        best = process.extractOne(q, words, scorer=fuzz.ratio, score_cutoff=MIN_SIMILARITY)
        return float(best[1]) * 0.9 if best else 0.0

    def search(self, query: str) -> list[Hit]:
        """Muscles matching every word of the query, best first."""
        q = query.strip().lower()
        words = [w for w in WORD.findall(q) if w not in STOP] or WORD.findall(q)
        if not words:
            return []
        hits = []
        for mid, fields in self.fields.items():
            if q == self._names[mid] or q in self._aliases[mid]:
                hits.append(Hit(mid, 1e6, "name"))
                continue
            total, where = 0.0, None
            for w in words:
                best, field = 0.0, None
                for name, ws in fields.items():
                    s = self._word_score(w, ws) * WEIGHT[name]
                    if s > best:
                        best, field = s, name
                if best <= 0:
                    break
                total += best
                where = where or field
            else:
                hits.append(Hit(mid, total, where))
        hits.sort(key=lambda h: (-h.score, self._names[h.muscle_id]))
        return hits
