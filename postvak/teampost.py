"""A teacher's post as files under content/: exactly the folder a teacher would commit by hand.

    content/groep/groep-3/2026-11-26-naar-het-bos/
      index.md           Title, Date, Author (the teacher's name), then the Markdown text
      foto-01.jpg ...    the photos as the phone scaled them (long side <= 2048 px)
      fotos.txt          who is on each photo ("foto-01.jpg: Sem B., Zoë, Ömer"): a tag source
                         the build already reads (plugins.photos.tags)
      foto-01.jpg.xmp    MWG face regions, only for photos where faces were tapped
      .gitignore         the photos: they stay out of git (see README, "Foto's van de telefoon")

Git keeps the text and the tags (committed with the teacher as author); the
photos live only in this folder, so a photo the teacher removes is gone from
everywhere it could be published or handed on (a clone, a push, a backup of
the repository) the moment it is deleted here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import quoteattr

from plugins.errors import Problem, SchoolpleinError
from plugins.photos.names import NameIndex, short_label
from plugins.photos.settings import FOTOS_TXT, XMP_SUFFIX
from plugins.photos.tags import NO_CHILDREN_MARK, Source, Tag
from plugins.roster import Child
from plugins.settings import SCHOOL_TZ

TRAILER = "Schoolplein-Inzending"  # in every commit message: a retried commit is found, not redone
GITIGNORE = ".gitignore"
POST_FILE = "index.md"


@dataclass(frozen=True)
class PhotoTagging:
    name: str  # foto-01.jpg in the post folder
    children: tuple[str, ...]  # child ids
    no_children: bool = False
    regions: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    size: tuple[int, int] = (0, 0)  # the uploaded file's pixels: the taps are fractions of it


def slugify(title: str) -> str:
    text = unicodedata.normalize("NFKD", title)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:50].strip("-") or "bericht"


def one_line(text: str) -> str:
    """A metadata value: one line, no control characters (a title cannot add a header)."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def post_text(title: str, when: datetime, author: str, body: str, ident: str,
              extra: list[str] = ()) -> str:
    header = [f"Title: {one_line(title)}", f"Date: {when.astimezone(SCHOOL_TZ):%Y-%m-%d %H:%M}",
              f"Author: {one_line(author)}", *extra, f"Inzending: {ident}"]
    body = body.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    return "\n".join(header) + "\n\n" + body + "\n"


def label_for(child: Child, audience: list[Child]) -> str:
    """How fotos.txt names the child: the shortest label that means only this child here."""
    index = NameIndex(audience)
    for label in (child.first_name, short_label(child), child.full_name, child.id):
        if index.resolve(Tag(label, Source("fotos.txt"))).child_id == child.id:
            return label
    return child.id


def fotos_txt(photos: list[PhotoTagging], audience: list[Child]) -> str:
    kids = {c.id: c for c in audience}
    lines = ["# Wie staat op welke foto (geplaatst vanaf de telefoon; mag met de hand "
             "aangepast worden)"]
    for p in photos:
        names = (NO_CHILDREN_MARK if p.no_children else
                 ", ".join(label_for(kids[c], audience) for c in p.children))
        lines.append(f"{p.name}: {names}")
    return "\n".join(lines) + "\n"


def regions_xmp(photo: PhotoTagging, audience: list[Child]) -> str:
    """An XMP sidecar with one MWG face region per tapped face (x, y: the centre, normalized),
    drawn for the uploaded file's pixel size (AppliedToDimensions): the build trusts a region
    only on a photo of exactly that size, so a later crop or resize drops it instead of
    putting the mosaic in the wrong place."""
    kids = {c.id: c for c in audience}
    items = []
    for child, (x, y, w, h) in sorted(photo.regions.items()):
        items.append(
            "     <rdf:li rdf:parseType=\"Resource\">\n"
            f"      <mwg-rs:Name>{_xml(label_for(kids[child], audience))}</mwg-rs:Name>\n"
            "      <mwg-rs:Type>Face</mwg-rs:Type>\n"
            f"      <mwg-rs:Area stArea:x=\"{x:.4f}\" stArea:y=\"{y:.4f}\" stArea:w=\"{w:.4f}\" "
            f"stArea:h=\"{h:.4f}\" stArea:unit=\"normalized\"/>\n"
            "     </rdf:li>")
    return ("<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n"
            " <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
            "  <rdf:Description rdf:about=\"\"\n"
            "    xmlns:mwg-rs=\"http://www.metadataworkinggroup.com/schemas/regions/\"\n"
            "    xmlns:stArea=\"http://ns.adobe.com/xmp/sType/Area#\"\n"
            "    xmlns:stDim=\"http://ns.adobe.com/xap/1.0/sType/Dimensions#\">\n"
            "   <mwg-rs:Regions rdf:parseType=\"Resource\">\n"
            f"    <mwg-rs:AppliedToDimensions stDim:w=\"{photo.size[0]}\" "
            f"stDim:h=\"{photo.size[1]}\" stDim:unit=\"pixel\"/>\n"
            "    <mwg-rs:RegionList>\n     <rdf:Bag>\n" + "\n".join(items) + "\n     </rdf:Bag>\n"
            "    </mwg-rs:RegionList>\n   </mwg-rs:Regions>\n  </rdf:Description>\n"
            " </rdf:RDF>\n</x:xmpmeta>\n")


def _xml(text: str) -> str:
    return quoteattr(text)[1:-1]


def parse_fotos_txt(text: str) -> dict[str, str]:
    """photo name -> its fotos.txt line's names, as written (to keep them on an edit)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#") and ":" in line:
            name, _, names = line.partition(":")
            found[name.strip()] = names.strip()
    return found


def read_fotos_txt(folder: Path) -> dict[str, str]:
    path = folder / FOTOS_TXT
    return parse_fotos_txt(path.read_text(encoding="utf-8-sig")) if path.is_file() else {}


def write_fotos_txt(folder: Path, lines: dict[str, str]) -> None:
    path = folder / FOTOS_TXT
    if not lines:
        path.unlink(missing_ok=True)
        return
    text = ["# Wie staat op welke foto (geplaatst vanaf de telefoon; mag met de hand "
            "aangepast worden)"] + [f"{n}: {v}" for n, v in lines.items()]
    path.write_text("\n".join(text) + "\n", encoding="utf-8")


def write_gitignore(folder: Path) -> None:
    photos = sorted(p.name for p in folder.iterdir() if p.suffix.lower() == ".jpg")
    path = folder / GITIGNORE
    if not photos:
        path.unlink(missing_ok=True)
        return
    path.write_text("# Foto's van de telefoon staan niet in git (README: Foto's van de telefoon)\n"
                    + "".join(f"/{name}\n" for name in photos), encoding="utf-8")


def remove_photo(folder: Path, name: str) -> None:
    (folder / name).unlink(missing_ok=True)
    for sidecar in (folder / (name + XMP_SUFFIX), folder / (Path(name).stem + XMP_SUFFIX)):
        sidecar.unlink(missing_ok=True)


def next_names(folder: Path, count: int) -> list[str]:
    taken = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
    names, n = [], 1
    while len(names) < count:
        name = f"foto-{n:02d}.jpg"
        if name not in taken:
            names.append(name)
        n += 1
    return names


# --- git --------------------------------------------------------------------------------------

class GitFailed(SchoolpleinError):
    pass


def _git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["git", "-C", str(repo), "-c", "user.name=Schoolplein",
                           "-c", "user.email=schoolplein@localhost", *args],
                          capture_output=True, text=True, timeout=120)
    if check and done.returncode:
        raise GitFailed(Problem(f"git {' '.join(args[:2])}", None,
                                f"git mislukte: {(done.stderr or done.stdout).strip()[:400]}",
                                "los het op in de git-map van content/ (bv. een vergrendeling of "
                                "een pre-commit-hook); de inzending blijft staan en wordt de "
                                "volgende ronde opnieuw geprobeerd"))
    return done


def repo_of(content: Path) -> Path | None:
    done = subprocess.run(["git", "-C", str(content), "rev-parse", "--show-toplevel"],
                          capture_output=True, text=True)
    return Path(done.stdout.strip()) if done.returncode == 0 else None


def committed(repo: Path, ident: str) -> str:
    """The commit that holds submission `ident`, or ''."""
    done = _git(repo, "log", "--all", "--format=%H", f"--grep={TRAILER}: {ident}", "-n", "1",
                check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def commit(repo: Path, paths: list[Path], message: str, author: str, ident: str) -> str:
    """Commit exactly `paths` (other changes in the work tree stay as they are)."""
    rel = [str(p.resolve().relative_to(repo.resolve())) for p in paths]
    _git(repo, "add", "-A", "--", *rel)
    staged = _git(repo, "diff", "--cached", "--quiet", "--", *rel, check=False)
    if staged.returncode == 0:  # nothing to commit (e.g. only untracked photos changed)
        _git(repo, "commit", "--allow-empty", "--author", author, "-m",
             f"{message}\n\n{TRAILER}: {ident}")
    else:
        _git(repo, "commit", "--author", author, "-m", f"{message}\n\n{TRAILER}: {ident}",
             "--", *rel)
    return _git(repo, "rev-parse", "HEAD").stdout.strip()


class FolderBackup:
    """The folder as it was before a change, to put back when the commit fails."""

    def __init__(self, path: Path, work: Path):
        self.path, self.copy = path, work / "vorige"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        self.existed, self.was_file = path.exists(), path.is_file()
        if path.is_dir():
            shutil.copytree(path, self.copy, symlinks=True)
        elif path.is_file():
            self.copy.mkdir()
            shutil.copy2(path, self.copy / path.name)

    def restore(self) -> None:
        if self.path.is_dir():
            shutil.rmtree(self.path)
        else:
            self.path.unlink(missing_ok=True)
        if not self.existed:
            return
        if self.was_file:
            shutil.copy2(self.copy / self.path.name, self.path)
        else:
            shutil.copytree(self.copy, self.path, symlinks=True)
