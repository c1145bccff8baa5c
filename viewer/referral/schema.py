"""The referral-map schema: one YAML file per referral source (see referral_maps/README.md).

A source is a muscle (trigger points), a joint, a nerve root (its dermatome), a
peripheral nerve (its cutaneous territory) or an organ (visceral referral). All
kinds share one map language: landmarks, strokes, regions, essential and
spillover zones; the other kinds add a level, the published frequency of each
zone and, for organs that must not wait, a red flag.
"""

from __future__ import annotations

import re
import math
import unicodedata
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from viewer.constants import PATTERN_SIDES

# Body segments a zone may name (right-side names; mirrored with the pattern), see segments.py.
ZONE_SEGMENTS = ("head", "neck", "trunk", "upper_arm", "forearm", "hand", "thigh", "leg", "foot")
# Source kinds, in the order a clinician weighs them (muscles first).
KINDS = ("muscle", "joint", "root", "nerve", "organ")
KIND_LABELS = {"muscle": "muscle", "joint": "joint", "root": "nerve root", "nerve": "nerve", "organ": "organ"}
# Which sides a source has: both (right drawn, left mirrored), one side only, or one midline pattern.
SOURCE_SIDES = ("both", *PATTERN_SIDES)
BODY_REGIONS = ("head", "neck", "shoulder", "upper_back", "chest", "abdomen", "low_back", "pelvis",
                "hip", "thigh", "leg", "foot", "arm", "forearm", "hand")


# Caps that keep one hostile or mistyped file from hanging or exhausting the app
# (a real map uses at most 6 zones, strokes or trigger points, and a few KB of text).
MAX_COORD_MM = 3000.0          # |coordinate| and |offset| in mm: the body is < 2 m tall
MAX_ZONES = 30                 # per kind (essential, spillover)
MAX_STROKES = 50               # per zone
MAX_POINTS = 100               # per stroke
MAX_TRIGGER_POINTS = 30
MAX_STROKE_MM = 5000.0         # polyline length of a stroke given by raw points
MAX_LIST = 200                 # any other list (aliases, sources, symptoms, ...)
MAX_TEXT = 20_000              # characters in any one text field

Coord = Annotated[float, Field(gt=-MAX_COORD_MM, lt=MAX_COORD_MM)]
Vec3 = tuple[Coord, Coord, Coord]
Text = Annotated[str, Field(max_length=MAX_TEXT)]


class _Strict(BaseModel):
    # allow_inf_nan=False: NaN/inf coordinates are refused here, not discovered in a field computation
    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False,
                              str_max_length=MAX_TEXT)


class Anchored(_Strict):
    at: str = Field(max_length=200)
    offset: Vec3 = (0.0, 0.0, 0.0)


# A point is a landmark name, a landmark plus offset, or a raw canonical [x, y, z].
PointRef = Union[Annotated[str, Field(max_length=200)], Anchored, Vec3]


class TriggerPoint(_Strict):
    label: str = Field(min_length=1)
    at: str | None = None
    offset: Vec3 = (0.0, 0.0, 0.0)
    point: Vec3 | None = None
    description: str = Field(min_length=3)
    how_to_find: str = ""
    mirror: bool = True   # false: a one-sided feature, shown on the authored (right) side only

    @model_validator(mode="after")
    def _one_location(self):
        if (self.at is None) == (self.point is None):
            raise ValueError("give exactly one of `at` (a landmark) or `point` ([x, y, z] in mm)")
        return self

    @property
    def ref(self) -> PointRef:
        """Where the point is: a raw point, or its landmark with the offset."""
        return tuple(self.point) if self.point is not None else Anchored(at=self.at, offset=self.offset)


class Stroke(_Strict):
    points: list[PointRef] = Field(min_length=1, max_length=MAX_POINTS)
    width: float = Field(ge=1, le=400, description="full-strength band width in mm (1..400)")

    @model_validator(mode="after")
    def _length(self):
        raw = [p for p in self.points if isinstance(p, tuple)]
        if len(raw) == len(self.points) and len(raw) > 1:
            length = sum(math.dist(a, b) for a, b in zip(raw, raw[1:]))
            if length > MAX_STROKE_MM:
                raise ValueError(f"the stroke is {length:.0f} mm long (at most {MAX_STROKE_MM:.0f} mm)")
        return self


class RegionRef(_Strict):
    name: str
    weight: float = Field(default=1.0, gt=0, le=1)


class Zone(_Strict):
    description: str = Field(min_length=3)
    from_: list[str] = Field(default_factory=list, alias="from", max_length=MAX_LIST)
    strokes: list[Stroke] = Field(default_factory=list, max_length=MAX_STROKES)
    regions: list[Union[str, RegionRef]] = Field(default_factory=list, max_length=MAX_LIST)
    bilateral: bool = False   # this zone also appears on the opposite side
    mirror: bool = True       # false: a one-sided feature, never mirrored to the left pattern
    # Body segments the zone may paint besides those its strokes and regions lie on.
    segments: list[Literal[ZONE_SEGMENTS]] = Field(default_factory=list)  # type: ignore[valid-type]
    # Published share of patients with pain in this zone (0..1), e.g. Slipman 2000: buttock 0.94.
    frequency: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _not_empty(self):
        if not self.strokes and not self.regions:
            raise ValueError("a zone needs at least one stroke or region")
        return self

    def region_refs(self) -> list[RegionRef]:
        """The zone's regions, each as a RegionRef (name and weight)."""
        return [RegionRef(name=r) if isinstance(r, str) else r for r in self.regions]


class Zones(_Strict):
    essential: list[Zone] = Field(min_length=1, max_length=MAX_ZONES)
    spillover: list[Zone] = Field(default_factory=list, max_length=MAX_ZONES)


class Treatment(_Strict):
    self_care: list[str] = Field(default_factory=list)
    stretch: str = ""
    clinical: list[str] = Field(default_factory=list)


SPINAL_SEGMENT = r"^(C[1-8]|T(1[0-2]|[1-9])|L[1-5]|S[1-5]|Co1)$"


class Innervation(_Strict):
    nerve: str = Field(min_length=3)                       # e.g. "Superior gluteal nerve"
    segments: list[str] = Field(default_factory=list)     # spinal segments, e.g. [L4, L5, S1]; [] for cranial nerves

    @field_validator("segments")
    @classmethod
    def _segments(cls, v):
        return _check_segments(v)


def _check_segments(v):
    for x in v:
        if not re.match(SPINAL_SEGMENT, x):
            raise ValueError(f"{x!r} is not a spinal segment like C5, T12, L4 or S1")
    return v


class RedFlag(_Strict):
    """Warning signs that make a source urgent, in clinical and in plain words, and what to do."""
    warning: str = Field(min_length=10)     # for the clinician
    patient: str = Field(min_length=10)     # plain words, for patient mode and the handout
    action: str = Field(min_length=5)       # e.g. "Call emergency services now."


class Anatomy(_Strict):
    """Origin, insertion, action and innervation, from a cited anatomy reference."""
    origin: str = Field(min_length=3)
    insertion: str = Field(min_length=3)
    action: str = Field(min_length=3)
    innervation: Innervation
    source: str = Field(min_length=10)                    # full citation of the anatomy reference


# A non-muscle map names the figure or table it is drawn from ("Fig. 2", "Table 3", "Figure: the
# composite map" where the paper's numbering could not be confirmed).
FIGURE_OR_TABLE = re.compile(r"\b(fig|figs|figure|figures|table|tables)\b", re.I)


class MuscleMap(_Strict):
    """One referral source's map (the name is historical: muscles came first)."""
    kind: Literal[KINDS] = "muscle"  # type: ignore[valid-type]
    # muscles: an FMA id; the other kinds: a slug starting with the kind (joint_facet_l5_s1)
    id: str = Field(pattern=r"^(FMA[0-9]{1,12}|[a-z][a-z0-9_]{2,79})$", max_length=80)
    name: str = Field(min_length=2, max_length=200)
    aliases: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=MAX_LIST)
    body_region: Literal[BODY_REGIONS]  # type: ignore[valid-type]
    mesh_parts: list[str] = Field(default_factory=list, max_length=MAX_LIST)
    no_mesh: bool = False
    also_fma: list[Annotated[str, Field(max_length=15)]] = Field(default_factory=list, max_length=MAX_LIST)
    description: str = Field(min_length=20)
    patient_description: str = ""
    anatomy: Anatomy | None = None
    trigger_points: list[TriggerPoint] = Field(default_factory=list, max_length=MAX_TRIGGER_POINTS,
                                               validate_default=True)
    sites: list[TriggerPoint] = Field(default_factory=list, max_length=MAX_TRIGGER_POINTS)
    level: str = Field(default="", max_length=20)        # e.g. "L5-S1", "C6"
    segments: list[str] = Field(default_factory=list, max_length=40)   # the source's spinal segments
    sides: Literal[SOURCE_SIDES] = "both"  # type: ignore[valid-type]
    red_flag: RedFlag | None = None
    zones: Zones
    bilateral: bool = False
    mirror: bool = True
    symptoms: list[str] = Field(default_factory=list, max_length=MAX_LIST)
    differentials: list[str] = Field(default_factory=list, max_length=MAX_LIST)
    perpetuating_factors: list[str] = Field(default_factory=list, max_length=MAX_LIST)
    treatment: Treatment = Field(default_factory=Treatment)
    sources: list[str] = Field(min_length=1, max_length=MAX_LIST)

    @field_validator("also_fma")
    @classmethod
    def _fma_ids(cls, v):
        for x in v:
            if not re.fullmatch(r"FMA[0-9]{1,12}", x):   # ASCII digits only (not '٣' or '３')
                raise ValueError(f"{x!r} is not an FMA id like FMA22315")
        return v

    @field_validator("segments")
    @classmethod
    def _spinal_segments(cls, v):
        return _check_segments(v)

    @field_validator("id")
    @classmethod
    def _id_of_kind(cls, v, info):
        kind = info.data.get("kind", "muscle")
        if kind == "muscle" and not v.startswith("FMA"):
            raise ValueError(f"a muscle's id is its FMA id like FMA22315, not {v!r}")
        if kind != "muscle" and not v.startswith(kind + "_"):
            raise ValueError(f"a {kind}'s id starts with '{kind}_' (e.g. {kind}_facet_l5_s1), not {v!r}")
        return v

    @field_validator("trigger_points")
    @classmethod
    def _trigger_points_of_kind(cls, v, info):
        kind = info.data.get("kind", "muscle")
        if kind == "muscle" and not v:
            raise ValueError("a muscle needs at least one trigger point")
        if kind != "muscle" and v:
            raise ValueError(f"a {kind} has no trigger points: mark where it is with `sites`")
        return v

    @field_validator("name", "aliases")
    @classmethod
    def _printable(cls, v):
        for x in ([v] if isinstance(v, str) else v):
            if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") for c in x):
                raise ValueError(f"{x[:40]!r} holds a control character (an escape sequence, tab or "
                                 "newline); names are plain text")
        return v

    @model_validator(mode="after")
    def _consistent(self):
        if self.no_mesh and self.mesh_parts:
            raise ValueError("no_mesh is true but mesh_parts is not empty")
        return self

    @property
    def markers(self) -> list[TriggerPoint]:
        """Trigger points of a muscle, sites of the other kinds: the points shown on the body."""
        return self.trigger_points or self.sites

    @property
    def is_muscle(self) -> bool:
        """Whether the map is a muscle's (the candidate list) rather than another kind."""
        return self.kind == "muscle"

    @property
    def kind_label(self) -> str:
        """The kind as shown: muscle, joint, nerve root, nerve, organ."""
        return KIND_LABELS[self.kind]


SourceMap = MuscleMap


def cross_check(m: MuscleMap) -> list[tuple[tuple, str]]:
    """Checks across fields, as (location, message), so errors can name the exact line."""
    out = []
    if m.kind == "muscle" and m.sites:
        out.append((("sites",), "muscles mark their trigger points in trigger_points, not sites"))
    if m.kind != "muscle" and not any(FIGURE_OR_TABLE.search(s) for s in m.sources):
        out.append((("sources",), "cite the figure or table the map is drawn from in at least one source "
                                  "(e.g. '... Clin J Pain. 1997;13:303-7. Fig. 2')"))
    if m.red_flag is not None and m.kind != "organ":
        out.append((("red_flag",), "red flags are for organ sources (an urgent visceral cause)"))
    if m.sides != "both" and not m.mirror:
        out.append((("mirror",), "`sides` already says which patterns exist; drop `mirror: false`"))
    field = "trigger_points" if m.trigger_points else "sites"
    labels = [t.label for t in m.markers]
    for i, label in enumerate(labels):
        if labels.index(label) != i:
            out.append(((field, i, "label"), f"duplicate label {label!r}"))
    for kind in ("essential", "spillover"):
        for zi, zone in enumerate(getattr(m.zones, kind)):
            unknown = [x for x in zone.from_ if x not in labels]
            if unknown:
                out.append((("zones", kind, zi, "from"), f"unknown trigger points {unknown} (defined: {labels})"))
    return out
