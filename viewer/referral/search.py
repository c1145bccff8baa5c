"""Search and name resolution for every referral source (muscles, joints, nerve roots, nerves,
organs) by name, alias, level, kind, body region, pain area and symptom words, tolerant of typos.

The window's search box, the CLI (`--muscle`, `--source`) and the API (`find`) all resolve
names here (`resolve`), so a typo that works in one works in all.

rapidfuzz does the edit distances (a well-kept C++ library rather than a
hand-written matcher). Every query word must match a word of the muscle:
exactly, as a prefix (typing in progress), or within a small edit distance
(typos). Matches in the name or an alias rank above matches in the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from viewer.errors import ViewerError
from viewer.referral.loader import name_key

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


KIND_WORDS = {"muscle": "muscle trigger point myofascial", "joint": "joint facet zygapophysial arthropathy",
              "root": "nerve root dermatome radiculopathy radicular segment", "nerve": "nerve peripheral "
              "cutaneous entrapment neuropathy", "organ": "organ visceral viscera"}


class MuscleIndex:
    """Words of every map (any source kind), by field, for `search`."""

    def __init__(self, maps):
        self.fields = {}
        self.maps = {m.id: m for m in maps}
        for m in maps:
            z = m.zones
            zone_text = " ".join([x.description for x in z.essential + z.spillover]
                                 + [r.name.replace("_", " ") for x in z.essential + z.spillover
                                    for r in x.region_refs()])
            tp_text = " ".join(t.description for t in m.trigger_points)
            self.fields[m.id] = {
                "name": _words(" ".join([m.name, *m.aliases, m.id, m.level])),
                "region": _words(m.body_region.replace("_", " ") + " " + KIND_WORDS[m.kind]),
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

    def search(self, query: str, fields=None) -> list[Hit]:
        """Muscles matching every word of the query, best first; ``fields``: only these of
        "name", "region", "area", "text" (default all: the window's search box)."""
        q = query.strip().lower()
        words = [w for w in WORD.findall(q) if w not in STOP] or WORD.findall(q)
        if not words:
            return []
        hits, only = [], fields
        for mid, fields in self.fields.items():
            if q == self._names[mid] or q in self._aliases[mid]:
                hits.append(Hit(mid, 1e6, "name"))
                continue
            total, where = 0.0, None
            for w in words:
                best, field = 0.0, None
                for name, ws in fields.items():
                    if only is not None and name not in only:
                        continue
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


SourceIndex = MuscleIndex


def _exact(maps, query: str) -> list:
    """Maps a query names: letter for letter (ignoring case) if any does, else ignoring spaces,
    underscores and a word "muscle" (`name_key`, the very rule of the user-map clash check, so
    a user map can never take a name a built-in is found by)."""
    q, key = query.strip().lower(), name_key(query)
    names = {m.id: (m.id, m.name, *m.aliases, *m.also_fma) for m in maps}
    letter = [m for m in maps if q in {n.strip().lower() for n in names[m.id]}]
    return letter or [m for m in maps if key and key in {name_key(n) for n in names[m.id]}]


def _shown(query: str) -> str:
    """The query as an error message quotes it: at most 80 characters (a pasted page is not echoed)."""
    return repr(query) if len(query) <= 80 else repr(query[:77] + "...")


def resolve(index: MuscleIndex, query: str, *, what: str = "muscle", kinds=None):
    """The one map a query names: an exact name or alias first, then the single clearly best
    typo-tolerant match ("glutues minimus"). Raises a ViewerError naming `what` (the caller's
    argument) when nothing or several match, listing them and pointing to `referral-viewer list`.

    Parameters
    ----------
    index : MuscleIndex
        Built once from the model's maps (`model.search_index()`).
    query : str
        Name, alias, FMA id or slug id, level ("L5-S1 facet"), with typos.
    what : str
        The argument name the error names (``muscle``, ``source``).
    kinds : collection of str, optional
        Only these source kinds (e.g. ``{"muscle"}``).
    """
    if not isinstance(query, str) or not query.strip():
        raise ViewerError("give a name, alias or id, e.g. 'gluteus minimus' or 'L5-S1 facet joint'.", path=what,
                          fix="`referral-viewer list` prints every name.")
    maps = [m for m in index.maps.values() if kinds is None or m.kind in kinds]
    exact = _exact(maps, query)
    if len(exact) > 1:   # an exact name beats an alias shared by a group ("quads")
        named = [m for m in exact if name_key(m.name) == name_key(query) or m.id.lower() == query.strip().lower()]
        exact = named or exact
    if len(exact) == 1:
        return exact[0]
    if not exact:
        # names, aliases, ids and levels only: a word of a description ("no such muscle" found
        # "such" in a map's text) must never pick the muscle an export or a handout shows
        hits = [h for h in index.search(query, fields=("name",)) if h.muscle_id in {m.id for m in maps}]
        if hits and (len(hits) == 1 or hits[0].score > hits[1].score * 1.05):
            return index.maps[hits[0].muscle_id]
        exact = [index.maps[h.muscle_id] for h in hits]
    if not exact:
        raise ViewerError(f"nothing matches {_shown(query)}.", path=what,
                          fix="use a name, alias or id; `referral-viewer list` prints them all.")
    names = ", ".join(m.name for m in exact[:8]) + (" ..." if len(exact) > 8 else "")
    raise ViewerError(f"{_shown(query)} matches several: {names}.", path=what,
                      fix="give the full name (`referral-viewer list` prints them all).")
