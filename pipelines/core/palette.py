"""The chart palette and font, shared by the dashboard and the funder report."""

# Okabe & Ito (2008), distinguishable with the common colour-vision deficiencies. Yellow is
# last because it is hard to see on white.
OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow
)

FONT_FAMILY = "Source Sans Pro, sans-serif"
