"""The README's before/after of PHOTO_BLUR, made by the real pipeline from the demo photo.

    python demo/before_after.py        # writes docs/onherkenbaar-voor.jpg and -na.jpg

The crop shows the two right-hand children of zonder-toestemming.jpg (groep 4):
a child with consent, unchanged, and Eliška (beeldgebruik 'geen'), made a mosaic.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plugins.photos.blur import region_of  # noqa: E402
from plugins.photos.encode import encode  # noqa: E402
from plugins.photos.settings import PhotoSettings  # noqa: E402
from plugins.photos.tags import parse_xmp_names  # noqa: E402

PHOTO = ROOT / "content/groep/groep-4/2026-10-09-herfstwandeling/zonder-toestemming.jpg"
BLURRED = "Eliška"


def main() -> int:
    data = PHOTO.read_bytes()
    im = Image.open(io.BytesIO(data))
    tags = parse_xmp_names(im.info["xmp"], PHOTO.name)
    regions = tuple(region_of(t) for t in tags if t.text == BLURRED)
    cfg = PhotoSettings(large_size=1200, workers=1)
    for name, rs in (("voor", ()), ("na", regions)):
        [large] = [b for o, b in encode(data, cfg, rs) if o.role == "large" and o.format == "jpeg"]
        out = Image.open(io.BytesIO(large))
        w, h = out.size
        crop = out.crop((w // 2, int(h * 0.2), w, int(h * 0.62))).resize((480, 302))
        crop.save(ROOT / "docs" / f"onherkenbaar-{name}.jpg", "JPEG", quality=80)
    print("docs/onherkenbaar-voor.jpg, docs/onherkenbaar-na.jpg")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
