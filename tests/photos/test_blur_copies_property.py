"""Property: copies of one picture blur a child without consent only when they agree.

The pipeline joins every file with the same pixels (photos.posts._join_copies), so
`decide` sees each copy's tags. Random copies: the same file (same sha256) or another
file of the same pixels, each naming the child without consent with a region near or far
from the photo's own, by name only, or not at all. The child is blurred only when every
copy naming her is the same file with her face within photos.blur.AGREE of the photo's
own region and each other's (the same AppliedToDimensions); otherwise no copy is published
(`region_copies`), whichever copy is decided.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.photos.blur import AGREE
from plugins.photos.rules import decide
from plugins.photos.settings import PhotoSettings
from plugins.photos.tags import PERSON, REGION, PhotoTags, Source, Tag
from plugins.roster import Child, Consent, Roster
from plugins.sections import Section

KIDS = {"kind-a": "Anna", "kind-b": "Bram", "kind-c": "Cas", "kind-d": "Daan"}
ROSTER = Roster({}, {k: Child(k, n, "Test", "g", Consent.NONE if k == "kind-d" else None)
                     for k, n in KIDS.items()}, {}, {})
SECTION = Section("group", "g", "/groep/g/", "Groep 3", frozenset(), frozenset(KIDS))
CFG = PhotoSettings(min_children=3, blur=True)
DIMS = (800, 600)
FACE = (0.7, 0.7, 0.1, 0.12)
OTHERS = {"kind-a": (0.2, 0.3, 0.1, 0.12), "kind-b": (0.5, 0.3, 0.1, 0.12),
          "kind-c": (0.3, 0.7, 0.1, 0.12)}

# offsets on a grid of 0.6 AGREE: two of them differ by 0 or 0.6 AGREE (agree) or by at
# least 1.2 AGREE (do not), never by AGREE itself (float rounding at the border)
offsets = st.integers(-8, 8).map(lambda n: n * AGREE * 0.6)


@st.composite
def copies(draw):
    out = []
    for _ in range(draw(st.integers(1, 3))):
        same = draw(st.booleans())
        says = draw(st.sampled_from(["region", "region", "name", "nothing"]))
        shift = tuple(draw(offsets) for _ in range(4))
        dims = DIMS if draw(st.integers(0, 4)) else (DIMS[0] // 2, DIMS[1] // 2)
        out.append((same, says, shift, dims))
    return out


def tags_of(file: str, digest: str, says: str, shift, dims) -> PhotoTags:
    tags = [Tag(KIDS[k], Source(REGION, file), a, DIMS) for k, a in OTHERS.items()]
    if says == "region":
        area = tuple(v + d for v, d in zip(FACE, shift, strict=True))
        tags.append(Tag("Daan", Source(REGION, file), area, dims))
    elif says == "name":
        tags.append(Tag("Daan", Source(PERSON, file)))
    return PhotoTags(file, tuple(tags), digest=digest)


def agree(others) -> bool:
    """The oracle: every copy naming her is the same file with a region drawn for the same
    size, and each two of them (the photo's own at offset 0) within AGREE."""
    naming = [c for c in others if c[1] != "nothing"]
    if not all(same and says == "region" and dims == DIMS for same, says, _, dims in naming):
        return False
    shifts = [(0.0,) * 4] + [shift for _, _, shift, _ in naming]
    return all(abs(p - q) <= AGREE for a in shifts for b in shifts
               for p, q in zip(a, b, strict=True))


@settings(max_examples=200, deadline=None)
@given(copies())
def test_copies_blur_a_child_only_when_every_copy_naming_her_agrees(others):
    mine = tags_of("foto.jpg", "aa" * 32, "region", (0, 0, 0, 0), DIMS)
    theirs = [tags_of(f"kopie-{n}.jpg", "aa" * 32 if same else f"{n:02d}" * 32, *rest)
              for n, (same, *rest) in enumerate(others)]
    decision = decide(mine, ROSTER, SECTION, CFG,
                      copies=[(t, SECTION) for t in theirs])
    if agree(others):
        assert decision.publish and decision.code == "published_blurred", decision.reason
        assert decision.blurred_ids == {"kind-d"}
    else:
        assert not decision.publish and "region_copies" in decision.codes, decision.reason
    # any other copy with her face region of its own gets the same verdict
    every = [mine, *theirs]
    for n, t in enumerate(theirs):
        if others[n][1] != "region":
            continue
        other = decide(t, ROSTER, SECTION, CFG,
                       copies=[(c, SECTION) for c in every if c is not t])
        assert other.publish == decision.publish, (other.reason, decision.reason)
