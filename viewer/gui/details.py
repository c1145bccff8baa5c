"""Right panel: what is known about the selected muscle, clinical or plain-language."""

from __future__ import annotations

import re
from html import escape

import numpy as np

from PySide6.QtWidgets import QTextBrowser

from viewer import DISCLAIMER

CSS = """
<style>
 body { font-family: sans-serif; color: #222; }
 h2 { margin: 0 0 2px 0; color: #7a1010; }
 h3 { margin: 12px 0 3px 0; color: #333; border-bottom: 1px solid #ddd; }
 .sub { color: #666; }
 .warn { color: #8a5300; background: #fff4e0; padding: 4px; }
 .ess { color: #b30000; font-weight: bold; }
 .spill { color: #b86b00; font-weight: bold; }
 ul { margin-top: 2px; margin-bottom: 2px; }
 li { margin-bottom: 3px; }
</style>
"""


def _list(items) -> str:
    items = [i for i in items if i]
    return "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>" if items else ""


def _section(title: str, body: str) -> str:
    return f"<h3>{escape(title)}</h3>{body}" if body else ""


def welcome_html(patient: bool = False) -> str:
    if patient:
        return CSS + f"""<div style="font-size: 16pt;">
<h2>Where does it hurt?</h2>
<p>Touch or click the painful spot on the body. The muscles that can send pain there are
listed above, the most likely first. Choose one to see where its pain can be felt.</p>
<p class="sub" style="font-size: 12pt;">{escape(DISCLAIMER)}</p></div>"""
    return CSS + f"""<div>
<h2>Where does it hurt?</h2>
<p>Click the painful spot on the body: the muscles whose referred-pain pattern covers it
are listed above, most likely first. Hover or click one to see its pattern.</p>
<p>Or pick a muscle on the left to see where its trigger points send pain.</p>
<p>Use <b>Pain drawing</b> to paint a larger painful area.</p>
<p class="sub">Drag to rotate, wheel to zoom toward the mouse; keys 1–7 for standard views (6 the soles, 7 the inner side of a limb), R to reset.
Ctrl+click picks the muscle under the cursor. Ctrl+Z undoes a mark, a stroke or Clear.
Help &gt; Keyboard shortcuts lists every key.</p>
<p class="sub">{escape(DISCLAIMER)}</p></div>"""


def clinical_html(pattern) -> str:
    m = pattern.muscle
    side = "" if pattern.side == "midline" else f"{escape(pattern.side)} side · "
    head = f"<h2>{escape(m.name)}</h2><div class='sub'>{escape(m.kind_label)} · {side}" \
           f"{escape(m.body_region.replace('_', ' '))}" + \
           (f" · level {escape(m.level)}" if m.level else "") + \
           (f" · segments {escape(', '.join(m.segments))}" if m.segments else "") + \
           (f" · also: {escape(', '.join(m.aliases))}" if m.aliases else "") + "</div>"
    if m.red_flag is not None:
        head += (f"<p style='background:#b00020;color:white;padding:6px'><b>Red flag:</b> "
                 f"{escape(m.red_flag.warning)}<br><b>{escape(m.red_flag.action)}</b></p>")
    if not pattern.has_mesh and m.kind == "muscle":
        head += "<p class='warn'>No mesh in this anatomy pack: the pattern is shown, the muscle is not.</p>"
    tps = "".join(
        f"<li><b>{escape(t.label)}</b>: {escape(t.description)}"
        + (f"<br><span class='sub'>How to find: {escape(t.how_to_find)}</span>" if t.how_to_find else "")
        + "</li>" for t in m.markers)

    def freq(z) -> str:
        return f" <b>({z.frequency * 100:.0f}% of patients)</b>" if z.frequency is not None else ""
    zones = "".join(f"<li><span class='ess'>Essential:</span> {escape(z.description)}{freq(z)}</li>"
                    for z in m.zones.essential)
    zones += "".join(f"<li><span class='spill'>Spillover:</span> {escape(z.description)}{freq(z)}</li>"
                     for z in m.zones.spillover)
    a = m.anatomy
    anatomy = ""
    if a is not None:
        segs = ", ".join(a.innervation.segments)
        anatomy = (f"<table cellspacing=2><tr><td><b>Origin</b></td><td>{escape(a.origin)}</td></tr>"
                   f"<tr><td><b>Insertion</b></td><td>{escape(a.insertion)}</td></tr>"
                   f"<tr><td><b>Action</b></td><td>{escape(a.action)}</td></tr>"
                   f"<tr><td><b>Innervation</b></td><td>{escape(a.innervation.nerve)}"
                   + (f" ({escape(segs)})" if segs else "") + "</td></tr></table>"
                   f"<p class='sub'>{escape(a.source)}</p>")
    t = m.treatment
    treat = _list(t.self_care and [f"Self-care: {x}" for x in t.self_care]) + \
        (f"<p><b>Stretch:</b> {escape(t.stretch)}</p>" if t.stretch else "") + \
        _list(t.clinical and [f"Clinical: {x}" for x in t.clinical])
    return CSS + head + f"<p>{escape(m.description)}</p>" + \
        _section("Anatomy", anatomy) + \
        _section("Trigger points" if m.kind == "muscle" else "Where it is", f"<ul>{tps}</ul>" if tps else "") + \
        _section("Referred pain", f"<ul>{zones}</ul>") + \
        _section("Symptoms", _list(m.symptoms)) + \
        _section("Differential diagnosis", _list(m.differentials)) + \
        _section("Perpetuating factors", _list(m.perpetuating_factors)) + \
        _section("Treatment", treat) + \
        _section("Sources", _list(m.sources))


# Clinical detail a patient is not shown: zone jargon, trigger-point codes, spinal segments,
# millimetres, scores. Patient mode drops any sentence that carries one (tests/test_gui.py
# reads every visible widget's text against the same expression).
CLINICAL_DETAIL = re.compile(r"essential|spillover|score|\bedge \d+ mm|\bTrPs?\b|TrP\d|\b[CTLS]\d{1,2}\b|"
                             r"\bmm\b|Copy lookup|lookup --point", re.IGNORECASE)


def plain(text: str) -> str:
    """The sentences of `text` free of clinical detail (CLINICAL_DETAIL), joined again."""
    sentences = re.split(r"(?<=[.!?])\s+", (text or "").strip())
    return " ".join(s for s in sentences if s and not CLINICAL_DETAIL.search(s))


def felt_regions(model, pattern, most: int = 6) -> list[str]:
    """Plain names of the body areas the pattern covers (its zones' skin regions), the most
    covered first: what "Where it can be felt" says to a patient."""
    if model is None:
        return []
    e, s = model.zone_weights(pattern)
    inside = (e >= 0.5) | (s >= 0.5)
    if not inside.any():
        return []
    labels = np.asarray(model.region_labels)[inside]
    counts = np.bincount(labels, minlength=len(model.regions))
    out = []
    for r in np.argsort(-counts, kind="stable"):
        if counts[r] < 15 or len(out) >= most:
            break
        name = model.regions[int(r)].label
        if name not in out and not CLINICAL_DETAIL.search(name):
            out.append(name)
    return out


SPINE_PART = {"C": "neck", "T": "upper or middle back", "L": "lower back", "S": "base of the spine"}


def plain_name(m) -> str:
    """A source's name for a patient: a muscle's or an organ's own name; for a spinal joint or
    a nerve root, where it is instead of its level code ("C5-C6" means nothing to a patient)."""
    code = re.search(r"\b([CTLS])\d", m.level or m.name)
    if m.kind == "root":
        return f"A nerve root in the {SPINE_PART[code.group(1)]}" if code else "A nerve root"
    if m.kind == "joint" and code:
        return f"A small joint of the spine in the {SPINE_PART[code.group(1)]}"
    name = re.sub(r"\s*\([^)]*\)", "", m.name).strip() if CLINICAL_DETAIL.search(m.name) else m.name
    return name if not CLINICAL_DETAIL.search(name) else m.kind_label.capitalize()


def patient_html(pattern, model=None) -> str:
    m = pattern.muscle
    text = plain(m.patient_description) or plain(m.description)
    where = _list(felt_regions(model, pattern))
    helps = _list([plain(x) for x in m.treatment.self_care]) + \
        (f"<p>{escape(plain(m.treatment.stretch))}</p>" if plain(m.treatment.stretch) else "")
    return CSS + f"""<div style="font-size: 16pt;">
<h2>{escape(plain_name(m))}{"" if pattern.side == "midline" else f' <span class="sub">({escape(pattern.side)} side)</span>'}</h2>
<p>{escape(text)}</p>{_section("Where it can be felt", where)}{_section("What can help", helps)}
<p class="sub" style="font-size: 12pt;">{escape(DISCLAIMER)}</p></div>"""


class DetailsPanel(QTextBrowser):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setOpenExternalLinks(True)
        self.patient = False
        self.pattern = None
        self.model = None          # the window sets it: patient mode names the body areas a pattern covers
        self.show_pattern(None)

    def set_patient_mode(self, on: bool) -> None:
        self.patient = on
        self.show_pattern(self.pattern)

    def show_pattern(self, pattern) -> None:
        self.pattern = pattern
        if pattern is None:
            self.setHtml(welcome_html(self.patient))
        else:
            self.setHtml(patient_html(pattern, self.model) if self.patient else clinical_html(pattern))
