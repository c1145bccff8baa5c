"""The referral model: maps + skin fields + regions for one pack, cached on disk."""

from __future__ import annotations

import hashlib
import io
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from viewer import atomic, config
from viewer.constants import SIDES
from viewer.anatomy.pack import Pack, normalize
from viewer.errors import ViewerError
from viewer.referral import fields as F
from viewer.referral.geometry import SkinGeometry
from viewer.referral.loader import (MapSet, ParseCache, Problem, file_digest, load_landmarks, load_maps,
                                    load_regions)
from viewer.referral.points import UnknownLandmark, for_side, surface_point
from viewer.referral.regions import Region, parcellate, region_table
from viewer.referral.search import SourceIndex, resolve
from viewer.referral.segments import SEGMENTS, label_segments
from viewer.referral.schema import MuscleMap
from viewer.referral.validate import check_map


@dataclass
class Pattern:
    index: int
    muscle: MuscleMap
    side: str
    part_ids: list[str]
    trigger_points: list[tuple[str, np.ndarray]]   # (label, skin point mm)

    @property
    def has_mesh(self) -> bool:
        """Whether the pack has a mesh for the source (a muscle's parts, an organ's)."""
        return bool(self.part_ids)

    @property
    def source(self) -> MuscleMap:
        """The map of the pattern's source (a muscle, joint, nerve root, nerve or organ)."""
        return self.muscle

    @property
    def kind(self) -> str:
        """The source's kind: muscle, joint, root, nerve or organ."""
        return self.muscle.kind

    @property
    def title(self) -> str:
        """Name and side as a title, e.g. "Gluteus minimus (right)"; no side for a midline source."""
        return f"{self.muscle.name} ({self.side})" if self.side != "midline" else self.muscle.name


def pattern_sides(m: MuscleMap) -> list[tuple[str, str]]:
    """(pattern side, drawn side) of each pattern a map gives: a paired source has a right and
    a mirrored left pattern (the right only with `mirror: false`); `sides: left` keeps only
    the mirrored drawing (the heart, the spleen), `sides: midline` one pattern without a side."""
    if m.sides == "both":
        return [("right", "right"), ("left", "left")] if m.mirror else [("right", "right")]
    if m.sides == "midline":
        return [("midline", "right")]
    return [(m.sides, m.sides)]


@dataclass
class ReferralModel:
    pack: Pack
    maps: MapSet
    geo: SkinGeometry
    regions: list[Region]
    region_labels: np.ndarray          # (V,) int16
    patterns: list[Pattern]
    ess: np.ndarray                    # (V, P) float16, essential membership 0..1
    spill: np.ndarray                  # (V, P) float16, spillover membership 0..1
    problems: list[Problem] = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    segment_labels: np.ndarray | None = None   # (V,) int8, index into segments.SEGMENTS
    # published frequency of the covering zone per vertex, for the patterns whose zones give one
    frequency: dict[int, np.ndarray] = field(default_factory=dict)
    _sizes: tuple | None = field(default=None, repr=False)
    _kinds: np.ndarray | None = field(default=None, repr=False)
    _muscles: np.ndarray | None = field(default=None, repr=False)
    _index: object | None = field(default=None, repr=False)
    _prior: object | None = field(default=None, repr=False)     # lookup.area_prior (frequency.py)
    _swap: np.ndarray | None = field(default=None, repr=False)  # lookup.pattern_swap
    _coarse_index: object | None = field(default=None, repr=False)  # lookup._coarse
    _muscle_cols: np.ndarray | None = field(default=None, repr=False)  # lookup._muscle_columns
    _muscle_fields: object | None = field(default=None, repr=False)  # lookup._muscle_fields

    def kinds(self) -> np.ndarray:
        """(P,) the source kind of each pattern ("muscle", "joint", ...)."""
        if self._kinds is None or len(self._kinds) != len(self.patterns):
            self._kinds = np.array([p.muscle.kind for p in self.patterns], dtype=object)
            self._muscles = self._kinds == "muscle"
        return self._kinds

    def muscle_mask(self) -> np.ndarray:
        """(P,) True for muscle patterns: the candidate list; the other kinds are listed apart.
        Computed once: every click reads it."""
        self.kinds()
        return self._muscles

    def patterns_of(self, source_id: str) -> list[Pattern]:
        """Every pattern of one source (right and left, or its one side)."""
        return [p for p in self.patterns if p.muscle.id == source_id]

    # -- queries used by the CLI and the GUI ---------------------------------
    def field(self, pattern: Pattern | int) -> np.ndarray:
        """Display field (1.0 essential, 0.5 spillover) of a pattern, float32 (V,)."""
        return F.combined(*self.zone_weights(pattern))

    def zone_weights(self, pattern: Pattern | int) -> tuple[np.ndarray, np.ndarray]:
        """(essential, spillover) memberships of a pattern, float32 (V,) each."""
        k = pattern if isinstance(pattern, int) else pattern.index
        return self.ess[:, k].astype(np.float32), self.spill[:, k].astype(np.float32)

    def search_index(self):
        """The typo-tolerant index of every source's names and text (built once)."""
        if self._index is None:
            self._index = SourceIndex(self.maps.maps)
        return self._index

    def resolve(self, query: str, *, what: str = "muscle", kinds=None) -> MuscleMap:
        """The one map a name, alias, id or typo names (viewer.referral.search.resolve); a
        ViewerError naming `what` when nothing or several match."""
        return resolve(self.search_index(), query, what=what, kinds=kinds)

    def find_muscles(self, query: str) -> list[MuscleMap]:
        """[the map `query` names] or [] (see `resolve`, which says why)."""
        try:
            return [self.resolve(query)]
        except ViewerError:
            return []

    def pattern(self, muscle_id: str, side: str = "right") -> Pattern:
        """The pattern of a source on a side; a one-sided or midline source answers with its only
        pattern whatever side is asked (the heart has no right-side pattern to show)."""
        mine = self.patterns_of(muscle_id)
        for p in mine:
            if p.side == side:
                return p
        if len(mine) == 1:
            return mine[0]
        raise KeyError(f"{muscle_id} ({side})")

    def zone_sizes(self) -> tuple[np.ndarray, np.ndarray]:
        """Skin vertices inside each pattern's essential and spillover zone, (P,) each, the
        mean over the muscle's sides. The skin is remeshed to near-uniform triangles, so a
        count stands for an area."""
        if self._sizes is None:
            self._sizes = _sizes_by_muscle(self.patterns, (self.ess >= 0.5).sum(axis=0),
                                           (self.spill >= 0.5).sum(axis=0))
        return self._sizes

    def region_of(self, vertex: int) -> Region:
        """The skin region a vertex lies in."""
        return self.regions[int(self.region_labels[vertex])]

    def segment_of(self, vertex: int) -> str:
        """Body segment of a skin vertex, e.g. "trunk" or "forearm_right"."""
        return "" if self.segment_labels is None else SEGMENTS[int(self.segment_labels[vertex])]


def _sizes_by_muscle(patterns, ess_counts, spill_counts) -> tuple[np.ndarray, np.ndarray]:
    """Zone sizes (vertex counts per pattern) averaged over each muscle's sides: the skin is
    not exactly symmetric, and a size tie-break must not put one side before the other."""
    ess, spill = np.asarray(ess_counts, np.float64).copy(), np.asarray(spill_counts, np.float64).copy()
    by_muscle: dict[str, list[int]] = {}
    for p in patterns:
        by_muscle.setdefault(p.muscle.id, []).append(p.index)
    for idx in by_muscle.values():
        ess[idx], spill[idx] = ess[idx].mean(), spill[idx].mean()
    return ess, spill


STACK_BLOCK = 128      # columns copied at a time: one column at a time into a C-order matrix is a
                       # strided write per value, about twice as slow (0.21 -> 0.10 s for 408)


def _stack(keys: list, n: int, columns) -> tuple[np.ndarray, np.ndarray]:
    """(n, len(keys)) float16, C order, from ``columns[key]``, filled a block of columns at
    a time (each block read, copied and dropped: the matrix is the only full copy), and each
    column's count of vertices >= 0.5 (the zone sizes, counted while the column is contiguous)."""
    out = np.empty((n, len(keys)), np.float16)
    counts = np.zeros(len(keys), np.int64)
    for j in range(0, len(keys), STACK_BLOCK):
        block = [columns[k] for k in keys[j:j + STACK_BLOCK]]
        counts[j:j + len(block)] = [np.count_nonzero(col >= 0.5) for col in block]
        out[:, j:j + len(block)] = np.stack(block, axis=1)
    return out, counts


def _sha(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _part_ids(pack: Pack, m: MuscleMap, side: str) -> list[str]:
    """Meshes of a map's muscle on one side: by FMA id through the pack's catalogue
    (the map's id and also_fma: whole muscles get every part; unpaired ones go with
    either side), plus parts named in
    mesh_parts (for muscles whose whole-muscle id the anatomy source lacks)."""
    wanted = {normalize(b) for b in m.mesh_parts}
    by_fma = {p.id for fma in (m.id, *m.also_fma) for p in pack.muscle_parts(fma)}
    # unpaired meshes (diaphragm, BodyParts3D's intercostals) belong to both sides' patterns
    return [p.id for p, key in zip(pack.parts, pack.part_keys)
            if p.side in (side, "midline") and (p.id in by_fma or key in wanted)]


def _checked(maps: MapSet, pack: Pack, geo: SkinGeometry, landmarks, region_defs, problems) -> MapSet:
    """The maps that pass exactly `validate`'s checks; the others are reported and skipped."""
    part_bases = {normalize(p.base) for p in pack.parts}
    keep = MapSet(problems=maps.problems, digest=maps.digest, n_builtin=maps.n_builtin)
    for m in maps.maps:
        path = maps.files[m.id]
        found = check_map(m, path, landmarks, region_defs, geo.tree, part_bases,
                          line=lambda loc, mid=m.id: maps.line(mid, loc))
        if found:
            problems.extend(found)
            problems.append(Problem(path, None, "", f"{m.name} skipped: fix the problems above "
                                                    "(`referral-viewer validate` lists them)"))
            continue
        keep.maps.append(m)
        keep.files[m.id] = path
        keep.hashes[m.id] = maps.hashes[m.id]
    maps.forget_nodes()     # the line numbers were for these checks only
    return keep


class CacheDamaged(Exception):
    """A column of the field cache could not be read or has the wrong shape (the model is then
    built again from an empty cache: the cache is only ever recomputed)."""


class FieldColumns:
    """The field cache file's columns, each read when it is asked for, plus the columns
    computed in this run (kept in memory until they are written).

    Reading every column up front held the fields twice at the start's peak (the columns,
    then the stacked matrices: about 80 MB more for 420 patterns); read here one block at a
    time while stacking, the matrices are the only full copy. A missing, damaged or foreign
    file has no columns; a column found damaged when it is read raises :class:`CacheDamaged`.

    Parameters
    ----------
    path : path or None
        The cache file (None: an empty cache).
    n_vertices : int
        The skin's vertex count: every column must have this length.
    """

    def __init__(self, path: Path | None, n_vertices: int):
        self.n = n_vertices
        self.new: dict[str, np.ndarray] = {}
        self._z = None
        self._names: set[str] = set()
        try:
            if path is not None and Path(path).is_file():
                self._z = np.load(path, allow_pickle=False)
                self._names = set(self._z.files)
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, MemoryError):
            self.close()

    def __contains__(self, key: str) -> bool:
        return key in self.new or key in self._names

    def __iter__(self):
        return iter(sorted(self._names | set(self.new)))

    def __getitem__(self, key: str) -> np.ndarray:
        if key in self.new:
            return self.new[key]
        if key not in self._names:
            raise KeyError(key)
        try:
            a = self._z[key]
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, MemoryError) as exc:
            raise CacheDamaged(f"{key}: {exc}") from exc
        # a column of the wrong length (another pack, a hand-edited file) would break the lookup
        if a.ndim != 1 or len(a) != self.n:
            raise CacheDamaged(f"{key}: shape {a.shape}, expected ({self.n},)")
        return a

    def __setitem__(self, key: str, value: np.ndarray) -> None:
        self.new[key] = value

    def __delitem__(self, key: str) -> None:
        self._names.discard(key)
        self.new.pop(key, None)

    def close(self) -> None:
        """Close the file (the columns read stay valid)."""
        if self._z is not None:
            self._z.close()
        self._z, self._names = None, set()


def _write_cache(path: Path, arrays: dict, problems: list) -> None:
    """Save the cache; on a read-only folder or a full disk, warn and keep it in memory."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    try:
        atomic.write_bytes(path, buf.getvalue())
    except OSError as exc:
        problems.append(Problem(path, None, "", f"could not save the referral cache ({exc.strerror or exc}); "
                                                "it is kept in memory and recomputed next start. Free "
                                                "disk space or make the folder writable to speed up starts"))


def _cached_labels(cached: dict, key: str, message: str, timing: str, timings: dict, say, compute):
    """Per-vertex labels from the cache, or computed (replacing stale entries of the
    same kind, e.g. every older 'regions-*'); returns (labels, whether computed)."""
    if key in cached:
        return cached[key], False
    say(message)
    t = time.perf_counter()
    labels = compute()
    timings[timing] = round(time.perf_counter() - t, 2)
    prefix = key.split("-")[0] + "-"
    for k in [k for k in cached if k.startswith(prefix)]:
        del cached[k]
    cached[key] = labels
    return labels, True


def load_model(pack: Pack, *, user_maps=None, maps: MapSet | None = None, cache_dir: Path | None = None,
               progress=None) -> ReferralModel:
    """Maps, regions and fields for this pack; computes what the cache lacks."""
    say = progress or (lambda msg: None)
    t0 = time.perf_counter()
    cache_dir = Path(cache_dir or (pack.dir.parent / "cache"))
    maps = maps or load_maps(user_maps, cache=ParseCache(cache_dir / f"maps-v{ParseCache.VERSION}.json"))
    lm_path = config.builtin_maps_dir() / "landmarks.yaml"
    rg_path = config.builtin_maps_dir() / "regions.yaml"
    landmarks, region_defs = load_landmarks(lm_path), load_regions(rg_path)
    geo_digest = _sha(pack.key, file_digest(lm_path, rg_path), F.FIELDS_VERSION)
    geo = SkinGeometry(pack.skin_vertices, pack.skin_faces, pack.skin_normals)
    regions = region_table(region_defs)
    problems = list(maps.problems)
    maps = _checked(maps, pack, geo, landmarks, region_defs, problems)

    cache_file = cache_dir / f"referral-{pack.key[:12]}.npz"
    args = (pack, maps, geo, landmarks, region_defs, regions, geo_digest, problems, cache_file, say, t0)
    cached = FieldColumns(cache_file, geo.n)
    try:
        return _assemble(*args, cached)
    except CacheDamaged:            # recomputed, like a missing cache
        return _assemble(*args, FieldColumns(None, geo.n))
    finally:
        cached.close()


def _assemble(pack, maps, geo, landmarks, region_defs, regions, geo_digest, problems, cache_file, say, t0,
              cached: FieldColumns) -> ReferralModel:
    """The model from the checked maps and the field cache's columns (computing those it lacks)."""
    problems = list(problems)        # a retry on a damaged cache starts from the same problems
    timings = {"cache_read_s": round(time.perf_counter() - t0, 3)}

    region_key, segment_key = f"regions-{geo_digest[:16]}", f"segments-{geo_digest[:16]}"
    region_labels, d1 = _cached_labels(cached, region_key, "computing skin regions", "regions_s", timings, say,
                                       lambda: parcellate(geo, regions, region_defs, landmarks))
    region_index = F.region_lookup(regions)
    segment_labels, d2 = _cached_labels(cached, segment_key, "labelling body segments", "segments_s", timings,
                                        say, lambda: label_segments(geo, landmarks))
    dirty = d1 or d2

    patterns, ess_keys, spill_keys, used, frequency = [], [], [], set(), {}
    t = time.perf_counter()
    computed = 0
    for m in maps.maps:
        key = _sha(geo_digest, maps.hashes[m.id])[:16]
        names = {side: (f"ess-{m.id}-{side}-{key}", f"spill-{m.id}-{side}-{key}", f"freq-{m.id}-{side}-{key}")
                 for side in SIDES}
        sides = pattern_sides(m)
        if any(names[drawn][0] not in cached for _s, drawn in sides):
            try:
                result = F.source_fields(m, geo, landmarks, region_labels, region_index, segment_labels)
            except (UnknownLandmark, ValueError) as exc:
                problems.append(Problem(maps.files[m.id], None, "zones", f"{exc}; {m.kind} skipped"))
                continue
            computed += 1
            for side, (e, s_, fq) in result.items():
                cached[names[side][0]], cached[names[side][1]] = e.astype(np.float16), s_.astype(np.float16)
                if fq.any():   # only sources whose zones give a published frequency
                    cached[names[side][2]] = fq.astype(np.float16)
            dirty = True
        for side, drawn in sides:
            ek, sk, fk = names[drawn]
            if ek not in cached:
                continue
            used |= {ek, sk, fk}
            tps = []
            for tp in m.markers:
                if drawn == "left" and not tp.mirror and m.sides == "both":   # one-sided trigger point
                    continue
                try:
                    p = for_side(surface_point(tp.ref, landmarks, geo), drawn)
                except UnknownLandmark as exc:
                    problems.append(Problem(maps.files[m.id], None, f"trigger_points.{tp.label}", str(exc)))
                    continue
                tps.append((tp.label, geo.vertices[geo.snap(p)[0][0]]))
            if fk in cached:
                frequency[len(patterns)] = cached[fk]
            patterns.append(Pattern(len(patterns), m, side, _part_ids(pack, m, side), tps))
            ess_keys.append(ek)
            spill_keys.append(sk)
    if computed:
        timings["fields_s"] = round(time.perf_counter() - t, 2)
        timings["fields_computed"] = computed
    columns = cached
    if dirty:       # the computed run: every column in memory once, written, stacked from there
        columns = {k: cached[k] for k in cached if k in used or k in (region_key, segment_key)}
        _write_cache(cache_file, columns, problems)
    (ess, ess_counts), (spill, spill_counts) = _stack(ess_keys, geo.n, columns), _stack(spill_keys, geo.n, columns)
    columns = None
    timings["total_s"] = round(time.perf_counter() - t0, 3)
    model = ReferralModel(pack, maps, geo, regions, region_labels, patterns, ess, spill, problems, timings,
                          segment_labels, frequency)
    # what every click reads, computed here once rather than by the first click (~0.1 s)
    model._sizes = _sizes_by_muscle(patterns, ess_counts, spill_counts)
    model.kinds()
    return model
