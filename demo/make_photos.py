"""Generate synthetic demo photos for one post folder (no real people: shapes and noise).

    python demo/make_photos.py content/groep/groep-3/2026-10-02-kinderboerderij groep-3

Every case the photo rules know gets one file, so a demo build shows each
outcome in the audit: a tagged group photo (MWG face regions in XMP), a photo
with an opted-out child (when the group has one), a portrait, an untagged
photo, a typo in a name, HEIC, CMYK JPEG, PNG with alpha, EXIF orientation,
GPS in EXIF, a photo marked "geen herkenbare kinderen", one where that mark
disagrees with the faces tagged in the photo (dropped), and one whose names
come partly from a digiKam-style sidecar (`zijbestand.jpg.xmp`) and partly
from fotos.txt (published: every source counts). Tags are embedded (XMP), in
a sidecar or written to fotos.txt, like teachers do.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from xml.sax.saxutils import quoteattr

from PIL import Image, ImageDraw, ImageFilter, PngImagePlugin

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plugins.photos.names import fold, short_label  # noqa: E402
from plugins.roster import Child, Consent, load_roster  # noqa: E402

SIZE = (1200, 900)


def xmp_packet(regions: list[str] = (), persons: list[str] = (),
               size: tuple[int, int] = SIZE) -> bytes:
    """An XMP packet with MWG face regions and/or IPTC PersonInImage."""
    items = []
    for i, name in enumerate(regions):
        x = (i + 0.5) / max(1, len(regions))
        items.append(
            "<rdf:li rdf:parseType='Resource'>"
            f"<mwg-rs:Name>{_esc(name)}</mwg-rs:Name><mwg-rs:Type>Face</mwg-rs:Type>"
            f"<mwg-rs:Area stArea:x='{x:.3f}' stArea:y='0.4' stArea:w='0.12' stArea:h='0.18'"
            " stArea:unit='normalized'/></rdf:li>"
        )
    region_xml = (
        "<mwg-rs:Regions rdf:parseType='Resource'>"
        f"<mwg-rs:AppliedToDimensions stDim:w='{size[0]}' stDim:h='{size[1]}' stDim:unit='pixel'/>"
        f"<mwg-rs:RegionList><rdf:Bag>{''.join(items)}</rdf:Bag></mwg-rs:RegionList>"
        "</mwg-rs:Regions>" if regions else ""
    )
    person_xml = (
        "<Iptc4xmpExt:PersonInImage><rdf:Bag>"
        + "".join(f"<rdf:li>{_esc(p)}</rdf:li>" for p in persons)
        + "</rdf:Bag></Iptc4xmpExt:PersonInImage>" if persons else ""
    )
    return (
        "<?xpacket begin='\ufeff' id='W5M0MpCehiHzreSzNTczkc9d'?>"
        "<x:xmpmeta xmlns:x='adobe:ns:meta/'>"
        "<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
        "<rdf:Description rdf:about=''"
        " xmlns:mwg-rs='http://www.metadataworkinggroup.com/schemas/regions/'"
        " xmlns:stArea='http://ns.adobe.com/xmp/sType/Area#'"
        " xmlns:stDim='http://ns.adobe.com/xap/1.0/sType/Dimensions#'"
        " xmlns:Iptc4xmpExt='http://iptc.org/std/Iptc4xmpExt/2008-02-29/'>"
        f"{region_xml}{person_xml}</rdf:Description></rdf:RDF></x:xmpmeta>"
        "<?xpacket end='w'?>"
    ).encode()


def _esc(text: str) -> str:
    return quoteattr(text)[1:-1]


def picture(seed: str, size: tuple[int, int] = SIZE, label: str = "",
            noise: bool = True) -> Image.Image:
    """A soft, colourful scene of shapes: compresses well, looks like something.

    One scene per seed: each post gets its own pictures (the same pixels in
    two posts would be one picture, and the build joins the tags of its copies).
    """
    rnd = random.Random(seed)
    w, h = size
    top = tuple(rnd.randrange(60, 200) for _ in range(3))
    bottom = tuple(rnd.randrange(60, 200) for _ in range(3))
    grad = Image.linear_gradient("L").resize(size)
    im = Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), grad)
    draw = ImageDraw.Draw(im)
    for _ in range(14):
        x, y = rnd.randrange(w), rnd.randrange(h // 3, h)
        r = rnd.randrange(w // 30, w // 8)
        colour = tuple(rnd.randrange(256) for _ in range(3))
        if rnd.random() < 0.5:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        else:
            draw.rectangle((x - r, y - r // 2, x + r, y + r), fill=colour)
    im = im.filter(ImageFilter.GaussianBlur(2))
    if noise:
        im = Image.blend(im, Image.effect_noise(size, 12).convert("RGB"), 0.06)
    draw = ImageDraw.Draw(im)
    draw.text((20, 20), f"Schoolplein demo - geen echte kinderen {label}", fill=(255, 255, 255))
    return im


def with_faces(im: Image.Image, n: int, seed: int) -> Image.Image:
    """Draw a cartoon face (skin, hair, eyes, mouth, freckles) in each of the `n` face regions
    xmp_packet writes, so the blur has something to hide."""
    rnd = random.Random(seed)
    draw = ImageDraw.Draw(im)
    w, h = im.size
    for i in range(n):
        cx, cy = (i + 0.5) / n * w, 0.4 * h
        fw, fh = 0.12 * w / 2, 0.18 * h / 2
        skin = (rnd.randrange(170, 240), rnd.randrange(120, 190), rnd.randrange(90, 160))
        hair = tuple(rnd.randrange(20, 140) for _ in range(3))
        draw.ellipse((cx - fw, cy - fh, cx + fw, cy + fh), fill=skin)
        draw.chord((cx - fw, cy - fh, cx + fw, cy + fh * 0.2), 180, 360, fill=hair)
        for ex in (-0.4, 0.4):
            draw.ellipse((cx + ex * fw - 9, cy + 0.05 * fh - 6, cx + ex * fw + 9,
                          cy + 0.05 * fh + 6), fill=(250, 250, 250))
            draw.ellipse((cx + ex * fw - 4, cy + 0.05 * fh - 4, cx + ex * fw + 4,
                          cy + 0.05 * fh + 4), fill=(30, 30, 40))
        draw.arc((cx - fw * 0.45, cy + fh * 0.2, cx + fw * 0.45, cy + fh * 0.65), 20, 160,
                 fill=(150, 30, 40), width=4)
        for _ in range(12):
            fx, fy = cx + rnd.uniform(-0.5, 0.5) * fw, cy + rnd.uniform(0.1, 0.35) * fh
            draw.point((fx, fy), fill=(130, 80, 50))
    return im


def _pick(children: list[Child], n: int, rnd: random.Random) -> list[Child]:
    return rnd.sample(children, min(n, len(children)))


def tag_name(child: Child, group: list[Child]) -> str:
    """The first name, or 'Sem B.' when the first name is shared in the group."""
    same = [c for c in group if fold(c.first_name) == fold(child.first_name)]
    return child.first_name if len(same) == 1 else short_label(child)


def _typo(name: str) -> str:
    return name[:-1] + ("a" if name[-1] != "a" else "e") if len(name) > 2 else name + "x"


def gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "DemoCam"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (52.0, 5.0, 30.0)  # GPSLatitudeRef, GPSLatitude
    gps[3], gps[4] = "E", (4.0, 53.0, 10.0)
    return exif


def make(folder: Path, group: str, roster_dir: Path) -> list[str]:
    """Write the demo photos and fotos.txt into `folder`; returns the file names."""
    roster = load_roster(roster_dir)
    everyone = list(roster.children_in(group))
    if not everyone:
        raise SystemExit(f"groep '{group}' heeft geen leerlingen in {roster_dir}")
    ok = [c for c in everyone if (c.consent or Consent.SCHOOL) is not Consent.NONE]
    opted_out = [c for c in everyone if c.consent is Consent.NONE]
    rnd = random.Random(group)
    folder.mkdir(parents=True, exist_ok=True)
    names = lambda kids: [tag_name(c, everyone) for c in kids]  # noqa: E731
    sidecar = ["# Wie staat er op welke foto? Eén regel per foto.",
               "# bestand.jpg: Sem B., Zoë, Ömer   of   bestand.jpg: geen herkenbare kinderen"]
    written = []

    def scene(n: int, *args, **kw) -> Image.Image:
        return picture(f"{folder.name}-{n}", *args, **kw)

    def jpeg(name, seed, **kw):
        scene(seed, label=name).save(folder / name, "JPEG", quality=75, **kw)
        written.append(name)

    jpeg("groepsfoto.jpg", 1, xmp=xmp_packet(regions=names(_pick(ok, 4, rnd))))
    if opted_out:  # dropped; with SCHOOLPLEIN_PHOTO_BLUR=1 published with that face a mosaic
        kids = _pick(ok, 3, rnd) + opted_out[:1]
        with_faces(scene(2, label="zonder-toestemming.jpg"), len(kids), 2).save(
            folder / "zonder-toestemming.jpg", "JPEG", quality=75,
            xmp=xmp_packet(regions=names(kids)))
        written.append("zonder-toestemming.jpg")
    jpeg("portret.jpg", 3)
    sidecar.append("portret.jpg: " + ", ".join(names(_pick(ok, 2, rnd))))
    jpeg("ongelabeld.jpg", 4)
    jpeg("onbekende-naam.jpg", 5)
    kids = names(_pick(ok, 3, rnd))
    sidecar.append("onbekende-naam.jpg: " + ", ".join([_typo(kids[0]), *kids[1:]]))
    shared = [c for c in ok if sum(fold(o.first_name) == fold(c.first_name) for o in ok) > 1]
    if shared:  # "Sem" alone fits two children: the build asks "bedoel je Sem B. of Sem K.?"
        jpeg("dubbele-naam.jpg", 12)
        others = [c for c in ok if c not in shared]
        sidecar.append("dubbele-naam.jpg: " + ", ".join(
            [shared[0].first_name, *names(_pick(others, 2, rnd))]))
    jpeg("gedraaid.jpg", 6, exif=_orientation(6))  # stored landscape, shown portrait
    sidecar.append("gedraaid.jpg: " + ", ".join(names(_pick(ok, 3, rnd))))
    jpeg("gps.jpg", 7, exif=gps_exif().tobytes(),
         xmp=xmp_packet(persons=names(_pick(ok, 3, rnd))))
    scene(8, label="cmyk").convert("CMYK").save(folder / "drukwerk-cmyk.jpg", "JPEG",
                                                   quality=75)
    written.append("drukwerk-cmyk.jpg")
    sidecar.append("drukwerk-cmyk.jpg: " + ", ".join(names(_pick(ok, 3, rnd))))
    png = scene(9, (640, 480), "png", noise=False).convert("RGBA")
    alpha = Image.linear_gradient("L").resize(png.size).point(lambda v: 255 if v > 60 else 0)
    png.putalpha(alpha)
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp_packet(persons=names(_pick(ok, 3, rnd)))
                  .decode("utf-8"))
    png.save(folder / "transparant.png", pnginfo=info, optimize=True)
    written.append("transparant.png")
    import pillow_heif

    pillow_heif.register_heif_opener()
    scene(10, label="heic").save(folder / "iphone.heic", quality=60)
    written.append("iphone.heic")
    sidecar.append("iphone.heic: " + ", ".join(names(_pick(ok, 3, rnd))))
    jpeg("schoolplein.jpg", 11)
    sidecar.append("schoolplein.jpg: geen herkenbare kinderen")
    # the photo app tagged two faces, the teacher wrote "no children": the sources disagree
    jpeg("tegenspraak.jpg", 13, xmp=xmp_packet(regions=names(_pick(ok, 2, rnd))))
    sidecar.append("tegenspraak.jpg: geen herkenbare kinderen")
    # digiKam wrote two faces into a sidecar, the teacher added a third in fotos.txt
    kids = _pick(ok, 3, rnd)
    jpeg("zijbestand.jpg", 14)
    (folder / "zijbestand.jpg.xmp").write_bytes(xmp_packet(regions=names(kids[:2])))
    sidecar.append("zijbestand.jpg: " + ", ".join(names(kids[2:])))
    (folder / "fotos.txt").write_text("\n".join(sidecar) + "\n", encoding="utf-8")
    return written


def _orientation(value: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="post folder (with index.md)")
    parser.add_argument("group", help="group slug from roster/groepen.csv, e.g. groep-3")
    parser.add_argument("--roster", type=Path, default=ROOT / "roster")
    args = parser.parse_args(argv)
    files = make(args.folder, args.group, args.roster)
    total = sum((args.folder / f).stat().st_size for f in files)
    print(f"{len(files)} demofoto's in {args.folder} ({total / 1024:.0f} kB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

