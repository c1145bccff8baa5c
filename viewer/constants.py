"""Names and numbers every layer shares, in one place (no imports: the foundation layer).

Colours live with the rest of the look in viewer.render.style; clinical thresholds of the
lookup (IN_ZONE, EDGE_MM) in viewer.referral.
"""

# Sides of the body a pattern can be on: paired sources have a right and a left pattern;
# a midline source (the bladder, the aorta) has one pattern without a side.
SIDES = ("right", "left")
PATTERN_SIDES = SIDES + ("midline",)
OTHER_SIDE = {"right": "left", "left": "right"}

# The standard camera views (keys 1-7 in the window, --view in the CLI, view= in the API).
VIEWS = ("anterior", "posterior", "right", "left", "superior", "inferior", "medial")
# An exported image's view: one of those, or "best" (a plate of the 1-3 views that show the pattern).
VIEW_CHOICES = ("best", *VIEWS)

# Exported image sizes in pixels (width, height): the default is a 16:9 full-HD slide,
# the largest 4K UHD.
DEFAULT_SIZE = (1920, 1080)
MAX_SIZE = (3840, 2160)

# A painted area is the union of discs of this radius around its points (mm): the window's
# brush default and the area lookup's default, about a palm's width across.
DEFAULT_RADIUS_MM = 25.0
