"""Blur instead of drop: which children to make unrecognisable, and the pixels that replace them.

With PHOTO_BLUR on, a child whose consent forbids the page no longer drops
the photo when the build knows where the child's face is: an MWG face region
(in the photo, in a sidecar, or written by the editor's tap). The region is
enlarged by MARGIN on every side (hair, ears, a turned head) and replaced by
a mosaic of CELLS cells along its longer side, each cell the mean of a
strongly blurred copy: at most CELLS x CELLS colours, none of the face's
detail. That happens once, on the decoded image right after orientation and
before any resize (photos.encode), so no rendition and no cache entry ever
holds the original region.

Fail closed, everywhere: a child named without a region (fotos.txt,
PersonInImage), a region that is not a usable rectangle (a point, a circle,
another unit, outside the photo), a region over `blur_max_share` of the
photo (a blurred portrait is still a portrait), a region list without
AppliedToDimensions or whose AppliedToDimensions are not the photo's own
pixel size (cropped, resized or rotated after tagging: a region that is only
a fraction of some other picture; NaN fits nothing), copies of one picture
that do not agree where the child's face is (`copies_agree`), a HEIC (its
container rotates the picture itself, so the frame of a region is ambiguous),
a photo mirrored or upside down by its EXIF orientation (2, 3, 4) or square
and turned by it (5-8), where no field tells
a region drawn on the stored picture from one drawn on the upright picture:
each of these drops the photo, as before.

Coordinates follow MWG 2.0 (5.9, image regions): x and y are the region's
centre, w and h its size, all normalized to the *stored* image, before EXIF
orientation is applied; the orientation is applied to the regions as to the
pixels (exiftool's rotate_regions.config does the same).

This module imports no Pillow at import time: the rules use it on a warm build.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass

VERSION = 1  # bump when the pixels change: it is part of every blurred rendition's cache key
MARGIN = 0.4  # added on each side, as a share of the region's own width and height
CELLS = 4  # mosaic cells along the enlarged region's longer side
FRAME_TOLERANCE = 0.5  # AppliedToDimensions and the photo's pixels: the same size (rounding)
AGREE = 0.02  # two copies' regions of one face: centre and size within 2 % of the photo


@dataclass(frozen=True)
class Region:
    """An MWG rectangle: centre x, y and size w, h, normalized to the stored image."""

    x: float
    y: float
    w: float
    h: float
    applied_to: tuple[float, float] | None = None  # mwg-rs:AppliedToDimensions (w, h)

    def clipped(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) inside the photo; empty when it lies outside."""
        return (max(0.0, self.x - self.w / 2), max(0.0, self.y - self.h / 2),
                min(1.0, self.x + self.w / 2), min(1.0, self.y + self.h / 2))

    @property
    def share(self) -> float:
        """The share of the photo the (clipped) region covers."""
        left, top, right, bottom = self.clipped()
        return max(0.0, right - left) * max(0.0, bottom - top)

    @property
    def usable(self) -> bool:
        values = (self.x, self.y, self.w, self.h)
        return all(math.isfinite(v) for v in values) and self.w > 0 and self.h > 0 and (
            self.share > 0)


def region_of(tag) -> Region | None:
    """The tag's region, or None when it was written by name only."""
    if tag.area is None:
        return None
    return Region(*tag.area, applied_to=getattr(tag, "applied_to", None))


@dataclass(frozen=True)
class Blurred:
    """One child made unrecognisable on one photo (for the private audit)."""

    child: str
    why: str  # Dutch: which consent forbids which page
    regions: tuple[Region, ...]
    where: tuple[str, ...]  # the sources of the regions ("gezichtslabels in de foto", …)


@dataclass(frozen=True)
class Placement:
    """What the rule needs to know about the refused children's regions."""

    blurred: tuple[Blurred, ...] = ()
    unplaced: tuple[str, ...] = ()  # refused children without a usable region
    too_big: tuple[str, ...] = ()  # refused children whose region is a portrait

    @property
    def ok(self) -> bool:
        return not self.unplaced and not self.too_big


def place(refused: Iterable[str], resolutions, why: dict[str, str], max_share: float) -> Placement:
    """Per refused child: every region any source gives it, or why it cannot be blurred.

    A child with one unusable region among usable ones is unplaced: some source
    claims a face where the build cannot put a mosaic.
    """
    blurred, unplaced, too_big = [], [], []
    for child in sorted(refused):
        tags = [r.tag for r in resolutions if r.child_id == child]
        regions = [region_of(t) for t in tags]
        given = [r for r in regions if r is not None]
        if not given or not all(r.usable for r in given):
            unplaced.append(child)
        elif any(r.share > max_share for r in given):
            too_big.append(child)
        else:
            where = tuple(dict.fromkeys(t.source.label for t in tags if t.area is not None))
            blurred.append(Blurred(child, why.get(child, ""), tuple(dict.fromkeys(given)), where))
    return Placement(tuple(blurred), tuple(unplaced), tuple(too_big))


def copies_agree(mine: Iterable[Region], theirs: Iterable[Region]) -> bool:
    """Do two copies of one picture (the same bytes, so the same frame) put a child's faces
    in the same places? Every region of each has one in the other within AGREE, drawn for the
    same AppliedToDimensions; otherwise one of them is wrong, and a mosaic on the wrong place
    leaves the face itself clear on a published copy."""
    mine, theirs = list(mine), list(theirs)

    def near(a: Region, b: Region) -> bool:
        return a.applied_to == b.applied_to and all(
            abs(p - q) <= AGREE for p, q in zip((a.x, a.y, a.w, a.h), (b.x, b.y, b.w, b.h),
                                                strict=True))

    return bool(mine) and bool(theirs) and all(any(near(a, b) for b in theirs) for a in mine) \
        and all(any(near(b, a) for a in mine) for b in theirs)


@dataclass(frozen=True)
class Plan:
    """What the encoder blurs in one source photo; its key names the cache entry."""

    source_hash: str
    regions: tuple[Region, ...]

    @property
    def key(self) -> str:
        """sha256 of the source, the regions and the blur's own settings: a changed region,
        margin or mosaic is a new rendition (never the clear one's cache entry)."""
        spec = {"source": self.source_hash, "version": VERSION, "margin": MARGIN, "cells": CELLS,
                "regions": sorted([r.x, r.y, r.w, r.h, list(r.applied_to or ())]
                                  for r in self.regions)}
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def plan_for(source_hash: str, blurred: Iterable[Blurred]) -> Plan | None:
    regions = tuple(r for b in blurred for r in b.regions)
    return Plan(source_hash, regions) if regions else None


# --- the frame: which pixels a region means -----------------------------------------------

def frame_problem(regions: Iterable[Region], stored: tuple[int, int], orientation: int,
                  fmt: str | None) -> str:
    """Why these regions cannot be placed on this photo ("" when they can), in Dutch."""
    if fmt in ("HEIF", "AVIF"):
        return ("HEIC: het bestand draait de foto zelf, dus de plek van een gezichtsvak is niet "
                "zeker")
    width, height = stored
    if orientation in (2, 3, 4) or (orientation in (5, 6, 7, 8) and width == height):
        # a region drawn on the upright picture instead of the stored one (against MWG 2.0, but
        # not unheard of) would land on another face, and nothing in the file tells the two
        # apart: AppliedToDimensions is the same for both frames
        return ("gespiegelde, omgekeerde of vierkante gedraaide foto (EXIF-oriëntatie "
                f"{orientation}): niet zeker voor welke stand de gezichtsvakken getekend zijn")
    for r in regions:
        if r.applied_to is None:
            # without it nothing tells a photo cropped after tagging from the one tagged
            return ("gezichtsvakken zonder AppliedToDimensions (de maat van de foto waarop ze "
                    "getekend zijn): niet zeker of de foto daarna is bijgesneden of gedraaid")
        aw, ah = r.applied_to
        if not (abs(aw - width) <= FRAME_TOLERANCE and abs(ah - height) <= FRAME_TOLERANCE):
            # a resize keeps the fractions, a crop to the same shape does not: both refused
            return (f"de gezichtsvakken zijn getekend voor {aw:g}x{ah:g} pixels, de foto is "
                    f"{width}x{height}: bijgesneden, verkleind of gedraaid na het labelen")
    return ""


def _oriented(r: Region, orientation: int) -> tuple[float, float, float, float]:
    """The region in the upright picture (EXIF orientation 1-8 applied to the stored frame)."""
    x, y, w, h = r.x, r.y, r.w, r.h
    return {
        1: (x, y, w, h),
        2: (1 - x, y, w, h),  # mirrored left-right
        3: (1 - x, 1 - y, w, h),  # rotated 180
        4: (x, 1 - y, w, h),  # mirrored top-bottom
        5: (y, x, h, w),  # transposed
        6: (1 - y, x, h, w),  # rotated 90 clockwise
        7: (1 - y, 1 - x, h, w),  # transversed
        8: (y, 1 - x, h, w),  # rotated 90 counter-clockwise
    }.get(orientation, (x, y, w, h))


def boxes(regions: Iterable[Region], orientation: int, size: tuple[int, int]
          ) -> list[tuple[int, int, int, int]]:
    """Pixel boxes (left, top, right, bottom) in the upright image: enlarged, rounded outwards,
    clipped to the picture."""
    width, height = size
    out = []
    for r in regions:
        x, y, w, h = _oriented(r, orientation)
        half_w, half_h = w * (1 + 2 * MARGIN) / 2, h * (1 + 2 * MARGIN) / 2
        left = max(0, math.floor((x - half_w) * width))
        top = max(0, math.floor((y - half_h) * height))
        right = min(width, math.ceil((x + half_w) * width))
        bottom = min(height, math.ceil((y + half_h) * height))
        if right > left and bottom > top:
            out.append((left, top, right, bottom))
    return out


def cell_size(box: tuple[int, int, int, int]) -> int:
    left, top, right, bottom = box
    return max(1, math.ceil(max(right - left, bottom - top) / CELLS))


def mosaic(im, box: tuple[int, int, int, int]):
    """The box of `im` as a coarse mosaic of a strongly blurred copy (a new image)."""
    from PIL import Image, ImageFilter

    left, top, right, bottom = box
    cell = cell_size(box)
    pad = 3 * cell  # the blur reaches this far: read around the box, not the whole photo
    around = (max(0, left - pad), max(0, top - pad), min(im.width, right + pad),
              min(im.height, bottom + pad))
    soft = im.crop(around).filter(ImageFilter.GaussianBlur(cell))
    inner = soft.crop((left - around[0], top - around[1], right - around[0], bottom - around[1]))
    coarse = inner.reduce(cell) if cell > 1 else inner  # one mean per cell (partial at the edge)
    return coarse.resize((coarse.width * cell, coarse.height * cell),
                         Image.Resampling.NEAREST).crop((0, 0, right - left, bottom - top))


def apply(im, regions: Iterable[Region], orientation: int):
    """Replace every enlarged region of the upright, decoded image `im` (in place)."""
    for box in boxes(regions, orientation, im.size):
        im.paste(mosaic(im, box), box[:2])
    return im
