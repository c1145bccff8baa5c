"""Slide-ready exports: colours, layout, framing, trigger-point labels,
themes and transparency, Export all and contact sheets, the CLI."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from pixels import essential

from viewer.render import layout as L
from viewer.render import style
from viewer.render.export import slide_decorations


DARK_BG = style.THEMES["dark"].background


# -- colours (no rendering) ---------------------------------------------------------
def test_zone_colours_contrast_on_white_dark_and_skin():
    for c in (style.ESSENTIAL_HEX, style.SPILLOVER_HEX):
        # WCAG 2.1 SC 1.4.11: graphical objects need 3:1 against what is around them
        assert style.contrast_ratio(c, "#ffffff") >= 3.0, c
        assert style.contrast_ratio(c, DARK_BG) >= 3.0, c
        assert style.contrast_ratio(c, style.SKIN) >= 2.0, c
    # lightness differs too, so greyscale prints keep the zones apart
    assert style.contrast_ratio(style.ESSENTIAL_HEX, style.SPILLOVER_HEX) >= 1.5


def test_zone_colours_distinct_under_colour_vision_deficiency():
    cs = pytest.importorskip("colorspacious")
    e = np.array(style.hex_rgb(style.ESSENTIAL_HEX)) / 255.0
    s = np.array(style.hex_rgb(style.SPILLOVER_HEX)) / 255.0
    sk = style.SKIN / 255.0
    for cvd in (None, "deuteranomaly", "protanomaly", "tritanomaly"):
        if cvd:
            sim = {"name": "sRGB1+CVD", "cvd_type": cvd, "severity": 100}
            a, b, k = (np.clip(cs.cspace_convert(x, sim, "sRGB1"), 0, 1) for x in (e, s, sk))
        else:
            a, b, k = e, s, sk
        dist = lambda x, y: float(cs.deltaE(x, y, input_space="sRGB1"))  # CAM02-UCS
        assert dist(a, b) >= 15, (cvd, dist(a, b))          # essential vs spillover
        assert min(dist(a, k), dist(b, k)) >= 15, cvd        # both vs the skin


# -- layout and labels (no rendering) ---------------------------------------------
def _boxes_overlap(a, b):
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160), (1080, 1080), (800, 1200)])
def test_layout_keeps_text_out_of_the_body_box_and_scales_with_height(size):
    deco = L.Decorations(title="Gluteus minimus: referred pain", subtitle="Right side, posterior view",
                         legend=[("swatch", "#000000", "essential pain zone")] * 3, attribution="x " * 200)
    p = L.plan(size, deco)
    w, h = size
    x0, y0, x1, y1 = p.body
    assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
    assert (x1 - x0) * (y1 - y0) > 0.45 * w * h                 # the body keeps most of the image
    assert not _boxes_overlap(p.legend_box, p.body)
    assert p.attribution_xy[1] >= y1 and p.title_xy[1] < y0
    assert p.px["legend"] < p.px["title"]                         # legend text smaller than the title
    assert p.px["label"] == round(L.LABEL * min(h, w * 9 / 16))
    assert p.px["attribution"] >= 0.0175 * h                      # ink of a line >= 1.5% of the height
    # the title and the legend fit the width
    assert L.font(p.px["title"], True).getlength(deco.title) <= w - 2 * p.px["margin"]
    assert p.legend_box[2] <= w and p.legend_box[0] >= 0


def test_labels_never_overlap_each_other_or_the_marks():
    rng = np.random.default_rng(1)
    anchors = [tuple(a) for a in rng.normal([500, 400], 25, size=(8, 2))]   # a tight cluster
    texts = [f"Trigger point {i}" for i in range(8)]
    placed = L.place_labels(anchors, texts, (0, 0, 1000, 800), 24)
    boxes = [p["box"] for p in placed if p["box"]]
    assert len(boxes) == 8
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not _boxes_overlap(a, b)
        for ax, ay in anchors:
            assert not (a[0] <= ax <= a[2] and a[1] <= ay <= a[3])
        assert 0 <= a[0] and a[2] <= 1000 and 0 <= a[1] and a[3] <= 800


# -- real renders ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def exporter(model):
    from viewer.render.export import Exporter

    with Exporter(model) as ex:
        yield ex


def _pattern(model, name, side="right"):
    return model.pattern(model.find_muscles(name)[0].id, side)


def _lum(img):
    rgb = img[..., :3].astype(float) / 255.0
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return lin @ [0.2126, 0.7152, 0.0722]


@pytest.mark.slow
def test_trigger_point_visibility_by_ray_cast(model, exporter):
    """Gluteus minimus' posterior trigger points are hidden from the front and
    visible from behind."""
    p = _pattern(model, "gluteus minimus")
    post = np.array([xyz for label, xyz in p.trigger_points if label.startswith("Posterior")])
    assert not exporter.visible(post, np.array(style.VIEWS["anterior"][0])).any()
    assert exporter.visible(post, np.array(style.VIEWS["posterior"][0])).all()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["temporalis", "soleus"])
def test_frame_holds_the_whole_pattern_and_marks_land_on_it(model, exporter, name):
    from viewer.render.export import frame_pattern

    p = _pattern(model, name)
    img, view, tps = exporter.body(p, None, (960, 720))
    fr = frame_pattern(model.pack.skin_vertices, exporter.focus_points(p), view, (960, 720))
    xy = fr.to_pixels(exporter.focus_points(p))
    assert (xy >= 0).all() and (xy[:, 0] <= 960).all() and (xy[:, 1] <= 720).all()
    # the pattern is not a speck: it spans a good part of the picture
    assert np.ptp(xy[:, 1]) > 0.3 * 720 or np.ptp(xy[:, 0]) > 0.3 * 960
    # the projection used for the marks agrees with the rendered image
    rgb = img[..., :3].astype(int)
    ess = essential(rgb)
    sel = (exporter.scene.skin_value > 0.95) & (model.pack.skin_normals @ -fr.direction > 0.4)
    pts = model.pack.skin_vertices[sel]
    pts = pts[exporter.visible(pts, fr.direction)]
    assert len(pts) > 50 and ess.sum() > 500
    ij = np.round(fr.to_pixels(pts)).astype(int)
    inside = (ij[:, 0] >= 0) & (ij[:, 0] < 960) & (ij[:, 1] >= 0) & (ij[:, 1] < 720)
    assert inside.all()
    hit = ess[ij[:, 1], ij[:, 0]]
    assert hit.mean() > 0.8, hit.mean()          # projected essential points land on essential pixels
    assert tps and all(0 <= t.xy[0] <= 960 and 0 <= t.xy[1] <= 720 for t in tps)


def _attribution_ink_height(img, band_top):
    """Height in pixels of the first text line in the attribution band."""
    band = img[band_top:, :, :3].astype(int)
    bg = band[-1, -1]
    rows = np.nonzero((np.abs(band - bg).sum(axis=2) > 100).any(axis=1))[0]
    assert len(rows), "no attribution text"
    run = [rows[0]]
    for r in rows[1:]:
        if r - run[-1] > 1:
            break
        run.append(r)
    return run[-1] - run[0] + 1


@pytest.mark.slow
@pytest.mark.parametrize("size,theme", [((1920, 1080), "light"), ((3840, 2160), "dark")])
def test_slide_image_size_theme_attribution_and_clear_title_band(model, exporter, size, theme):
    p = _pattern(model, "gluteus minimus")
    img = exporter.render(p, size=size, theme=theme)
    h, w = img.shape[:2]
    assert (w, h) == size and img[..., 3].min() == 255
    plan = L.plan(size, slide_decorations(p, "posterior"))
    # attribution ink at least 1.5% of the image height
    assert _attribution_ink_height(img, plan.body[3] + 1) >= 0.015 * h
    # nothing of the body above the body box (the title band): only bg and text colours
    th = style.THEMES[theme]
    band = img[: plan.body[1], :, :3].astype(int)
    # warm skin tones (text is neutral grey, its anti-aliased edges too)
    skin_like = (np.abs(band - style.SKIN.astype(int)).sum(axis=2) < 60) & (band[..., 0] - band[..., 2] > 15)
    assert skin_like.sum() == 0
    # the title reads: strong contrast between title text and background
    title = img[plan.title_xy[1]: plan.title_xy[1] + plan.px["title"], : w // 3]
    bg_l = style.relative_luminance(th.background)
    contrast = (np.maximum(_lum(title), bg_l) + 0.05) / (np.minimum(_lum(title), bg_l) + 0.05)
    assert (contrast > 7).mean() > 0.03


@pytest.mark.slow
def test_slide_attribution_names_source_licences_and_disclaimer_and_is_drawn(model, exporter):
    """The attribution line of an exported slide says what the README promises (the pattern's
    published source, the anatomy's licences, "not a diagnosis"), and those words are what is
    drawn in the band under the body: the band equals the same lines drawn by this test."""
    from pathlib import Path

    import yaml
    from PIL import ImageDraw

    p = _pattern(model, "gluteus minimus")
    maps = Path(__file__).resolve().parents[1] / "referral_maps" / "muscles"
    source = yaml.safe_load((maps / "gluteus_minimus.yaml").read_text())["sources"][0]
    deco = slide_decorations(p, "right")
    text = deco.attribution
    for needle in ("not a diagnosis", "BodyParts3D", "DBCLS", "CC BY 4.0", "Z-Anatomy", "CC BY-SA 4.0",
                   "Chapter 9, Gluteus Minimus Muscle", source):
        assert needle in text, needle
    size = (1280, 720)
    img = exporter.render(p, view="right", size=size, theme="light")
    plan = L.plan(size, deco)
    assert " ".join(plan.attribution_lines) == " ".join(text.split())      # every word is on a line
    th = style.THEMES["light"]
    ref = Image.new("RGBA", size, th.background)
    draw = ImageDraw.Draw(ref)
    fa = L.font(plan.px["attribution"])
    ax, ay = plan.attribution_xy
    for i, line in enumerate(plan.attribution_lines):
        draw.text((ax, ay + i * L.line_height(fa)), line, font=fa, fill=th.muted)
    band = slice(ay, size[1])
    got, want = img[band, :, :3].astype(int), np.asarray(ref)[band, :, :3].astype(int)
    ink = (np.abs(want - np.array(style.hex_rgb(th.background))).sum(axis=2) > 60)
    assert ink.sum() > 500                                                 # the text has ink
    differ = np.abs(got - want).sum(axis=2) > 60
    assert differ.mean() < 0.002, f"{differ.sum()} pixels of the attribution band differ"
    # without the attribution, the band is empty
    bare = exporter.render(p, view="right", size=size, theme="light", attribution=False)
    assert (np.abs(bare[band, :, :3].astype(int) - want).sum(axis=2) > 60)[ink].mean() > 0.5


@pytest.mark.slow
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_transparent_text_legible_on_white_and_on_dark(model, exporter, theme):
    p = _pattern(model, "infraspinatus")
    size = (1280, 720)
    img = exporter.render(p, size=size, theme=theme, transparent=True)
    assert img[0, 0, 3] == 0                                       # background is transparent
    plan = L.plan(size, slide_decorations(p, "posterior"))
    y0 = plan.title_xy[1]
    for bg in ("#ffffff", DARK_BG):
        base = Image.new("RGBA", size, bg)
        base.alpha_composite(Image.fromarray(img))
        comp = np.asarray(base)
        bg_l = style.relative_luminance(bg)
        for region in (comp[y0: y0 + plan.px["title"], : size[0] // 3],          # title
                       comp[plan.attribution_xy[1]:, :]):                          # attribution
            lum = _lum(region)
            contrast = (np.maximum(lum, bg_l) + 0.05) / (np.minimum(lum, bg_l) + 0.05)
            assert (contrast > 4.5).mean() > 0.02, (theme, bg)


@pytest.mark.slow
def test_gallery_options_and_contact_sheet(model, tmp_path):
    from viewer.render.export import gallery

    neck = [p for p in model.patterns if p.side == "left" and p.kind == "muscle" and p.muscle.body_region == "neck"]
    seen = []
    paths = gallery(model, tmp_path, views=("best", "posterior"), size=(480, 270), sides=("left",),
                    regions=["neck"], theme="dark", contact_sheets=True,
                    progress=lambda i, n, path: seen.append((i, n)))
    names = sorted(p.name for p in paths)
    assert len(set(names)) == len(names) and seen[-1] == (len(paths), len(paths))
    # each muscle's plate ('best') plus its posterior view
    assert len(paths) == 2 * len(neck) + 1
    assert sum(n.endswith("_plate.png") for n in names) == len(neck)
    assert "contact_sheet_neck_left.png" in names
    assert all("_left_" in n for n in names if not n.startswith("contact"))
    assert sum(n.endswith("_posterior.png") for n in names) == len(neck)
    for p in paths:
        assert Image.open(p).size == (480, 270)
    sheet = np.asarray(Image.open(tmp_path / "contact_sheet_neck_left.png").convert("RGB")).astype(int)
    # one picture per muscle: the essential colour appears in as many separate grid cells
    ess = essential(sheet)
    assert ess.sum() > 50
    # cancelling stops early
    stop = gallery(model, tmp_path / "c", views=("best",), size=(320, 180), regions=["neck"],
                   cancelled=lambda: True)
    assert stop == []


@pytest.mark.slow
def test_cli_export_defaults_to_16_9_and_rejects_bad_views(model, tmp_path, capsys):
    from viewer.cli import main

    out = tmp_path / "soleus.png"
    assert main(["export", "--muscle", "soleus", "--out", str(out), "--theme", "dark"]) == 0
    assert Image.open(out).size == (1920, 1080)
    assert main(["export", "--all", str(tmp_path / "g"), "--views", "best,sideways"]) == 2
    assert "--views" in capsys.readouterr().err


# -- the dialogs, driven as a user drives them ---------------------------------------
@pytest.mark.gui
@pytest.mark.slow
def test_export_all_dialog_regions_theme_and_contact_sheet(model, qtbot, tmp_path):
    pytest.importorskip("pytestqt")
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    from viewer.gui.export_dialog import ExportAllDialog, export_all

    dlg = ExportAllDialog(model, out_dir=str(tmp_path / "out"))
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    # size: 1280x720 from the presets; theme: dark; both sides; only the "Leg" region; contact sheets
    dlg.preset.setFocus()
    qtbot.keyClicks(dlg.preset, "1280")
    assert (dlg.w.value(), dlg.h.value()) == (1280, 720)
    qtbot.keyClicks(dlg.theme, "Dark")
    qtbot.keyClicks(dlg.side, "Both")
    QTest.mouseClick(dlg.pick_regions, Qt.LeftButton)
    assert dlg.regions.isEnabled() and not dlg.muscles.isEnabled()
    leg = next(dlg.regions.item(i) for i in range(dlg.regions.count()) if dlg.regions.item(i).text() == "Leg")
    dlg.regions.scrollToItem(leg)
    rect = dlg.regions.visualItemRect(leg)
    # click the item's check box (at its left edge)
    QTest.mouseClick(dlg.regions.viewport(), Qt.LeftButton, pos=QPoint(rect.left() + 10, rect.center().y()))
    assert leg.checkState() == Qt.Checked
    QTest.mouseClick(dlg.sheets, Qt.LeftButton)
    QTest.mouseClick(dlg.images, Qt.LeftButton)                  # contact sheets only
    opts = dlg.options()
    assert opts["regions"] == ["leg"] and opts["sides"] == ("right", "left") and opts["theme"] == "dark"
    assert dlg.count() == 2
    written = export_all(None, model, dialog=dlg)
    assert sorted(p.name for p in written) == ["contact_sheet_leg_left.png", "contact_sheet_leg_right.png"]
    img = np.asarray(Image.open(written[0]).convert("RGB"))
    assert img.shape == (720, 1280, 3)
    assert tuple(img[2, 2]) == style.hex_rgb(DARK_BG)            # the dark theme's background


@pytest.mark.slow
@pytest.mark.parametrize("side", ["right", "left"])
def test_medial_view_shows_the_inner_foot_past_the_other_leg(model, exporter, side):
    """Abductor hallucis refers to the inner heel: from the opposite side the other foot
    hides it; the medial view cuts the other half of the body away and shows it, and
    'best' picks that view."""
    p = _pattern(model, "abductor hallucis", side)
    across = "left" if side == "right" else "right"
    size = (600, 450)
    hidden, _, _ = exporter.body(p, across, size)
    inner, view, tps = exporter.body(p, "medial", size)
    n_hidden, n_inner = essential(hidden[..., :3]).sum(), essential(inner[..., :3]).sum()
    assert n_inner > 2000 and n_inner > 4 * n_hidden, (n_inner, n_hidden)
    assert all(t.visible for t in tps)          # the trigger point is not behind the cut leg
    assert exporter._best(p) == "medial"
    exporter.scene.set_half(None)


@pytest.mark.slow
def test_inferior_view_shows_the_sole(model, exporter):
    p = _pattern(model, "flexor digitorum brevis")
    front, _, _ = exporter.body(p, "anterior", (600, 450))
    below, _, _ = exporter.body(p, "inferior", (600, 450))
    assert essential(below[..., :3]).sum() > 1000 > essential(front[..., :3]).sum()
    assert exporter._best(p) == "inferior"


# -- plates: every essential zone part and trigger point in the default image ---------
def plate_shortfalls(model, exporter, pattern, img, panels, *, keep=0.5):
    """What a slide image fails to show, measured on the image itself against the best
    single standard view. ``panels``: (view, Frame, (x0, y0, x1, y1) box in the image).

    An essential-zone vertex counts as shown in a view when it faces the camera, is not
    hidden by the body (ray cast), and lands on an essential-coloured pixel of the
    panel; for each connected part of the essential zone the image must show at least
    ``keep`` of what its best single view shows (parts of >= 10 vertices), the part's
    panel must hold all of it (nothing cut), and every trigger point that some view shows
    must be visible in a panel. Returns a list of failures (empty: all shown)."""
    from scipy.sparse.csgraph import connected_components

    pack = model.pack
    ess, _ = model.zone_weights(pattern)
    idx = np.nonzero(ess >= 0.5)[0]
    adj = exporter._adjacency()[idx][:, idx]
    _, lab = connected_components(adj, directed=False)
    pts, nrm = pack.skin_vertices[idx], pack.skin_normals[idx]
    side = pattern.side
    seen_by = {}

    def facing_visible(view):
        if view not in seen_by:
            d, _ = style.view_vectors(view, side)
            half = style.kept_half(view, side)
            ok = nrm @ -d > 0.2
            if half is not None:
                ok &= pts[:, 0] * half >= 0
            sel = np.nonzero(ok)[0]
            ok[sel] = exporter.visible(pts[sel], d, half=half)
            seen_by[view] = ok
        return seen_by[view]

    views = [v for v in style.VIEWS if v != "superior"]
    best = np.zeros(lab.max() + 1 if len(lab) else 0)
    for v in views:
        best = np.maximum(best, np.bincount(lab[facing_visible(v)], minlength=len(best)))
    ess_px = essential(img[..., :3])
    shown = np.zeros(len(idx), bool)
    inside = {}
    for view, fr, (x0, y0, x1, y1) in panels:
        ok = facing_visible(view)
        xy = fr.to_pixels(pts) + [x0, y0]
        ij = np.round(xy).astype(int)
        box = (ij[:, 0] >= x0) & (ij[:, 0] < x1) & (ij[:, 1] >= y0) & (ij[:, 1] < y1)
        on = np.zeros(len(idx), bool)
        on[box] = ess_px[ij[box, 1], ij[box, 0]]
        shown |= ok & on
        inside[view] = (ok, box)
    out = []
    for k in range(len(best)):
        if best[k] < 10:
            continue
        got = int((shown & (lab == k)).sum())
        if got < keep * best[k]:
            out.append(f"essential part {k}: {got} of {int(best[k])} vertices of its best view shown")
            continue
        # the panel showing most of the part holds all of it
        view = max(inside, key=lambda v: int((inside[v][0] & (lab == k)).sum()))
        ok, box = inside[view]
        part = ok & (lab == k)
        if box[part].mean() < 0.98:
            out.append(f"essential part {k}: cut by the {view} panel's edge ({box[part].mean():.0%} inside)")
    tps = np.array([xyz for _, xyz in pattern.trigger_points]).reshape(-1, 3)
    for j, (label, xyz) in enumerate(pattern.trigger_points):
        somewhere = any(exporter.visible(tps[j:j + 1], style.view_vectors(v, side)[0],
                                         half=style.kept_half(v, side))[0] for v in views)
        in_panel = False
        for view, fr, (x0, y0, x1, y1) in panels:
            x, y = fr.to_pixels(tps[j:j + 1])[0] + [x0, y0]
            d, _ = style.view_vectors(view, side)
            if x0 <= x < x1 and y0 <= y < y1 and \
                    exporter.visible(tps[j:j + 1], d, half=style.kept_half(view, side))[0]:
                in_panel = True
        if somewhere and not in_panel:
            out.append(f"trigger point {label!r} not shown")
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", ["infraspinatus", "gastrocnemius", "iliopsoas"])
def test_default_export_is_a_plate_showing_every_zone_part_and_trigger_point(model, exporter, name):
    """Infraspinatus' front-of-shoulder zone, gastrocnemius' instep and iliopsoas'
    lumbar band were out of sight in the single best view; the default image now shows
    each essential part at >= 50% of its best single view, uncut, and every trigger
    point, with the figure centred on the slide."""
    p = _pattern(model, name)
    img = exporter.render(p, size=(1920, 1080))
    panels = exporter.last_panels
    assert 1 <= len(panels) <= 3
    assert plate_shortfalls(model, exporter, p, img, panels) == []
    # centred: the panels' group sits in the middle of the body box
    plan = L.plan((1920, 1080), slide_decorations(p, [v for v, _, _ in panels]))
    left, right = min(b[0] for _, _, b in panels), max(b[2] for _, _, b in panels)
    assert abs((left + right) / 2 - (plan.body[0] + plan.body[2]) / 2) <= 2


def test_panels_share_the_width_and_grow_only_to_the_body():
    boxes = L.arrange_panels((0, 0, 1800, 800), [(300, 700), (300, 700)], [(500, 1800), (400, 1800)],
                             gap=20, caption=30)
    (a, ea), (b, eb) = boxes
    assert a[3] - a[1] == b[3] - b[1] <= 770                       # one height, room for the captions
    assert ea[0] <= 500 + 1e-6 and eb[0] <= 400 + 1e-6             # never wider than the body
    assert abs((a[0] + b[2]) / 2 - 900) <= 1                       # the group is centred
    assert a[2] <= b[0]                                            # side by side, no overlap


def test_contact_sheet_captions_fit_their_cells():
    from viewer.render.export import fit_caption

    f, rows = fit_caption("Gemelli (superior and inferior)", 20, 160, 2)
    assert len(rows) <= 2 and all(f.getlength(r) <= 160 for r in rows)
    assert "".join(rows).replace(" ", "") == "Gemelli(superiorandinferior)"     # nothing cut off


@pytest.mark.slow
def test_one_view_from_a_fresh_exporter_is_framed_on_the_whole_pattern(model):
    """`export --view posterior` (a new exporter, no pattern shown yet) framed the
    trigger points only, cutting gluteus minimus' zone at the hip."""
    from viewer.render.export import Exporter

    p = _pattern(model, "gluteus minimus")
    with Exporter(model) as ex:
        img = ex.render(p, view="posterior", size=(1280, 720))
        assert [v for v, _, _ in ex.last_panels] == ["posterior"]
        fails = [f for f in plate_shortfalls(model, ex, p, img, ex.last_panels) if "cut" in f or "part" in f]
    assert fails == []
