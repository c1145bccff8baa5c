"""referral-viewer: myofascial trigger points and referred-pain patterns on a 3D body."""

__version__ = "0.1.0"

DISCLAIMER = (
    "Referral patterns are published clinical descriptions for education. "
    "They are not a diagnosis: pain can come from joints, nerves, viscera or "
    "other sources. See a qualified clinician."
)

ATTRIBUTION = (
    "Anatomy: BodyParts3D, (c) The Database Center for Life Science (DBCLS), "
    "licensed CC BY 4.0 (older releases CC BY-SA 2.1 JP). "
    "Muscle meshes derived from Z-Anatomy (CC BY-SA 4.0), based on BodyParts3D (c) DBCLS."
)
