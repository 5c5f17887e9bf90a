"""Synthetic faces and MWG regions for the blur tests: drawn shapes with texture, no people."""

from __future__ import annotations

import io
import random
from xml.sax.saxutils import quoteattr

from PIL import Image, ImageDraw, ImageFilter

MWG_NS = ("xmlns:mwg-rs='http://www.metadataworkinggroup.com/schemas/regions/'"
          " xmlns:stArea='http://ns.adobe.com/xmp/sType/Area#'"
          " xmlns:stDim='http://ns.adobe.com/xap/1.0/sType/Dimensions#'"
          " xmlns:Iptc4xmpExt='http://iptc.org/std/Iptc4xmpExt/2008-02-29/'")


def draw_face(im: Image.Image, box: tuple[int, int, int, int], seed: int) -> None:
    """A face-like patch: skin, hair strands, eyes, mouth, and fine noise over all of it."""
    rnd = random.Random(seed)
    left, top, right, bottom = box
    w, h = max(2, right - left), max(2, bottom - top)
    patch = Image.new("RGB", (w, h), tuple(rnd.randrange(60, 200) for _ in range(3)))
    d = ImageDraw.Draw(patch)
    d.ellipse((0, 0, w - 1, h - 1), fill=(rnd.randrange(180, 240), rnd.randrange(130, 200),
                                          rnd.randrange(100, 170)))
    for _ in range(max(10, w)):  # hair
        x, y = rnd.uniform(0, w), rnd.uniform(0, h * 0.3)
        d.line((x, y, x + rnd.uniform(-6, 6), y + rnd.uniform(2, 12)),
               fill=tuple(rnd.randrange(0, 120) for _ in range(3)), width=1)
    for ex in (0.3, 0.7):
        d.ellipse((w * ex - w * 0.09, h * 0.33, w * ex + w * 0.09, h * 0.45), fill=(20, 20, 30))
    d.arc((w * 0.25, h * 0.5, w * 0.75, h * 0.82), 20, 160, fill=(150, 20, 30),
          width=max(1, w // 25))
    noise = Image.effect_noise((w, h), 60).convert("RGB")
    patch = Image.blend(patch, noise, 0.35)
    im.paste(patch, (left, top))


def scene(size: tuple[int, int], seed: int) -> Image.Image:
    """A soft background with some shapes (things that are not faces)."""
    rnd = random.Random(seed)
    im = Image.new("RGB", size, tuple(rnd.randrange(40, 220) for _ in range(3)))
    d = ImageDraw.Draw(im)
    w, h = size
    for _ in range(6):
        x, y, r = rnd.randrange(w), rnd.randrange(h), rnd.randrange(5, max(6, w // 5))
        d.rectangle((x - r, y - r, x + r, y + r), fill=tuple(rnd.randrange(256) for _ in range(3)))
    return im.filter(ImageFilter.GaussianBlur(2))


def pixel_box(area, size) -> tuple[int, int, int, int]:
    """An MWG area (centre, size; normalized) as a pixel box of the stored image."""
    x, y, w, h = area
    return (int((x - w / 2) * size[0]), int((y - h / 2) * size[1]),
            int((x + w / 2) * size[0]), int((y + h / 2) * size[1]))


def region_xmp(regions, form: str = "element", dims: tuple[int, int] | None = None,
               unit: str | None = "normalized", persons=()) -> bytes:
    """XMP with MWG face regions `(name, (x, y, w, h))` written in one of the RDF forms photo
    tools use: 'element' (digiKam/exiftool: parseType Resource, Area attributes), 'description'
    (Lightroom: rdf:Description with attributes), 'nested' (every field an element)."""
    def attr(value) -> str:
        return quoteattr(str(value))

    items = []
    for name, (x, y, w, h) in regions:
        unit_attr = f" stArea:unit={attr(unit)}" if unit else ""
        area_attrs = f"stArea:x={attr(x)} stArea:y={attr(y)} stArea:w={attr(w)} stArea:h={attr(h)}"
        if form == "description":
            items.append(f"<rdf:li><rdf:Description mwg-rs:Name={attr(name)} mwg-rs:Type='Face'>"
                         f"<mwg-rs:Area {area_attrs}{unit_attr}/></rdf:Description></rdf:li>")
        elif form == "nested":
            fields = "".join(f"<stArea:{k}>{v}</stArea:{k}>" for k, v in
                             (("x", x), ("y", y), ("w", w), ("h", h), *((("unit", unit),)
                                                                       if unit else ())))
            items.append(f"<rdf:li rdf:parseType='Resource'><mwg-rs:Name>{_esc(name)}"
                         "</mwg-rs:Name><mwg-rs:Type>Face</mwg-rs:Type>"
                         f"<mwg-rs:Area rdf:parseType='Resource'>{fields}</mwg-rs:Area></rdf:li>")
        else:
            items.append(f"<rdf:li rdf:parseType='Resource'><mwg-rs:Name>{_esc(name)}"
                         "</mwg-rs:Name><mwg-rs:Type>Face</mwg-rs:Type>"
                         f"<mwg-rs:Area {area_attrs}{unit_attr}/></rdf:li>")
    applied = (f"<mwg-rs:AppliedToDimensions stDim:w='{dims[0]}' stDim:h='{dims[1]}' "
               "stDim:unit='pixel'/>" if dims else "")
    body = ("<mwg-rs:Regions rdf:parseType='Resource'>" + applied +
            f"<mwg-rs:RegionList><rdf:Bag>{''.join(items)}</rdf:Bag></mwg-rs:RegionList>"
            "</mwg-rs:Regions>") if regions else ""
    if persons:
        body += ("<Iptc4xmpExt:PersonInImage><rdf:Bag>"
                 + "".join(f"<rdf:li>{_esc(p)}</rdf:li>" for p in persons)
                 + "</rdf:Bag></Iptc4xmpExt:PersonInImage>")
    return ("<x:xmpmeta xmlns:x='adobe:ns:meta/'>"
            "<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
            f"<rdf:Description rdf:about='' {MWG_NS}>{body}</rdf:Description></rdf:RDF>"
            "</x:xmpmeta>").encode()


def _esc(text: str) -> str:
    return quoteattr(text)[1:-1]


def orientation_exif(value: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


def save(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **({"quality": 92} if fmt == "JPEG" else {}), **kw)
    return buf.getvalue()
