"""Clinically standard spots: the muscles the literature names for each spot
must be in the lookup's top candidates, essential-pattern muscles first.

Expected lists follow Travell & Simons (Trigger Point Manual, vols 1-2) as
summarised in the cited map files; a spot lists muscles whose *essential*
zone the manual draws over it.
"""

from __future__ import annotations

import numpy as np
import pytest

from viewer.referral.loader import load_landmarks
from viewer.referral.lookup import lookup_point

SPOTS = [
    # landmark, muscles expected among the top N, N
    ("greater_trochanter", {"gluteus minimus", "quadratus lumborum"}, 8),
    ("buttock_center", {"gluteus medius", "piriformis"}, 8),
    ("si_joint", {"gluteus medius", "quadratus lumborum"}, 8),
    ("groin", {"iliopsoas", "adductor longus"}, 8),
    ("temple", {"trapezius", "temporalis"}, 6),
    ("patella", {"rectus femoris"}, 5),
    ("heel", {"soleus"}, 5),
    ("lateral_thigh_mid", {"vastus lateralis"}, 6),
    ("anterior_shoulder", {"infraspinatus"}, 8),
    ("popliteal", {"biceps femoris"}, 6),
]


@pytest.mark.parametrize("lm,expected,top", SPOTS, ids=[s[0] for s in SPOTS])
def test_literature_muscles_in_top(model, lm, expected, top):
    p = np.asarray(load_landmarks()[lm].point, dtype=float)
    res = lookup_point(model, p)
    names = [c.name.lower() for c in res.candidates[:top]]
    missing = [m for m in expected if not any(m in n for n in names)]
    assert not missing, f"{lm}: missing {missing}; got {names}"
    # listed because their essential zone covers the spot (not a spillover, not a zone beside it)
    for m in expected:
        row = next(c for c in res.candidates if m in c.name.lower())
        assert row.zone == "essential" and not row.at_edge, (lm, m, row.label)
    # the pain is on the right: among equally strong entries, right-side muscles come first
    for a, b in zip(res.candidates, res.candidates[1:]):
        if a.zone == b.zone and a.score == b.score and a.name == b.name:
            assert a.side == "right"


# Ratchet: the sum over all spots of the 0-based rank of each expected muscle (its best row).
# Today 26 (15 muscles; 0 would put every one at the very top); a content or ranking change
# that pushes the literature's muscles down fails here even while each stays in its top N.
# Lower it as the content improves.
RANK_SUM_CEILING = 30


def test_literature_muscles_rank_sum_does_not_rise(model):
    landmarks = load_landmarks()
    total, ranks = 0, {}
    for lm, expected, _ in SPOTS:
        res = lookup_point(model, np.asarray(landmarks[lm].point, dtype=float))
        names = [c.name.lower() for c in res.candidates]
        for m in expected:
            r = next((i for i, n in enumerate(names) if m in n), len(names) + 10)
            ranks[(lm, m)] = r
            total += r
    assert total <= RANK_SUM_CEILING, (total, ranks)
