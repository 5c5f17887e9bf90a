"""One new post online: from `invoke publish` to the new page being served with its photos.

    .venv/bin/python benchmarks/online.py [--posts 1300] [--photos 2000] [--new-photos 4]
                                          [--rounds 3] [--targets nginx,cloudfront]

A generated school year (benchmarks/build.py: 16 groups, --posts text posts, --photos
photos in group post folders) is built and published once. Then, each round, a teacher adds
one post folder with --new-photos 12 MP photos (tagged with three children of the group)
and the clock runs from starting `invoke publish --target <t>` as a process until the new
page is served with every one of its photos:

nginx       real nginx (local_server, the release's own generated config) on a free port
            of 127.0.0.1: GET the page with a parent's login until it answers 200 and
            names the photos, then GET each photo rendition (200).
cloudfront  a moto server on 127.0.0.1 (bucket and distribution): GET the page's object
            and each photo object from the bucket. The requests the publish sent are
            counted by method (moto answers in microseconds; a real S3 does not, so the
            count is what carries over to production).

Baseline, in the same run and on the same content: the same publish with the build
cache removed first (every page rendered again, the photo cache kept): what a publish
costs without the incremental build. Reported as medians, wall seconds and the publish
process's CPU seconds; each publish split into its build (`*_build_s`: until output/ is
replaced, the build's last step) and what follows (`*_after_build_s`: secret scan,
release or upload, notices). The background photos are 3 MP by default (--photo-size) so that
setting up 2,000 of them takes minutes; their renditions are the same sizes as a 12 MP
photo's (1600 px and 480 px), which is what a publish handles. One JSON line.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import logging
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.build import BIN, add_photos, make_school, run_process  # noqa: E402
from benchmarks.photos import make_photo  # noqa: E402

BUCKET = "schoolplein-online"
REGION = "eu-central-1"


def environment(work: Path, port: int, moto: str = "", distribution: str = "") -> dict:
    env = dict(os.environ, SCHOOLPLEIN_ROSTER=str(work / "roster"),
               SCHOOLPLEIN_CONTENT=str(work / "content"), SCHOOLPLEIN_OUTPUT=str(work / "output"),
               SCHOOLPLEIN_BUILD_CACHE=str(work / "build-cache"),
               SCHOOLPLEIN_PHOTO_CACHE=str(work / "photo-cache"),
               SCHOOLPLEIN_AUDIT=str(work / "audit"), SCHOOLPLEIN_PRIVATE=str(work / "private"),
               SCHOOLPLEIN_DEPLOY=str(work / "deploy"), SCHOOLPLEIN_LISTEN=f"127.0.0.1:{port}",
               SCHOOLPLEIN_RSYNC_DEST="")
    if moto:
        env.update(AWS_ENDPOINT_URL=moto, SCHOOLPLEIN_S3_BUCKET=BUCKET, AWS_REGION=REGION,
                   CLOUDFRONT_DISTRIBUTION_ID=distribution, AWS_ACCESS_KEY_ID="benchmark",
                   AWS_SECRET_ACCESS_KEY="benchmark", CLOUDFRONT_KVS_ARN="")
    return env


def publish(target: str, env: dict) -> dict:
    """The publish as a process; `build_s`: until its build's output was in place (the
    build renames its staging folder to output/ as its last step: a new inode), the rest
    is the target's part (secret scan, release or upload, notices)."""
    output = Path(env["SCHOOLPLEIN_OUTPUT"])
    before = _inode(output)
    seen: list[float] = []
    stop = threading.Event()
    start = time.perf_counter()

    def watch() -> None:
        while not stop.is_set():
            if _inode(output) not in (before, None):
                seen.append(time.perf_counter() - start)
                return
            time.sleep(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        done = run_process([str(BIN / "invoke"), "publish", "--target", target], env)
    finally:
        stop.set()
        watcher.join()
    done["build_s"] = seen[0] if seen else done["s"]
    return done


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return None


def new_post(content: Path, roster: Path, n: int, photos: int) -> tuple[str, int]:
    """A post folder with `photos` 12 MP photos in groep-1; returns (its URL, photo count)."""
    kids = [line.split(",")[1] for line in (roster / "leerlingen.csv").read_text().splitlines()[1:]
            if line.split(",")[3] == "groep-1"]
    folder = content / "groep" / "groep-1" / f"2027-03-{1 + n % 28:02d}-online-{n}"
    folder.mkdir(parents=True)
    (folder / "index.md").write_text(f"Title: Online {n}\nDate: 2027-03-{1 + n % 28:02d} 10:00\n\n"
                                     "Vandaag in de klas.\n", encoding="utf-8")
    lines = []
    for i in range(photos):
        make_photo(folder / f"nieuw-{i}.jpg", 100 + n * photos + i)
        lines.append(f"nieuw-{i}.jpg: {', '.join(kids[i % 5:i % 5 + 3])}\n")
    (folder / "fotos.txt").write_text("".join(lines), encoding="utf-8")
    return f"/groep/groep-1/{folder.name}/", photos


PHOTO_RE = re.compile(r'/groep/groep-1/fotos/[0-9a-f]{20}-\d+\.(?:jpg|webp)')


def served_nginx(port: int, url: str, photos: int, login: tuple[str, str],
                 timeout: float = 60) -> int:
    """Wait until nginx serves the page naming `photos` photos and every rendition; GETs made."""
    auth = "Basic " + base64.b64encode(f"{login[0]}:{login[1]}".encode()).decode()

    def get(path: str) -> bytes | None:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                         headers={"Authorization": auth})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.read()
        except urllib.error.HTTPError:
            return None

    deadline, requests = time.monotonic() + timeout, 0
    while True:
        page = get(url)
        requests += 1
        found = sorted(set(PHOTO_RE.findall(page.decode()))) if page else []
        if len(found) >= 4 * photos:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} not served with {photos} photos")
        time.sleep(0.01)
    for path in found:
        requests += 1
        if get(path) is None:
            raise RuntimeError(f"{path} not served")
    return requests


def served_s3(s3, url: str, photos: int) -> int:
    page = s3.get_object(Bucket=BUCKET, Key=url.lstrip("/") + "index.html")["Body"].read()
    found = sorted(set(PHOTO_RE.findall(page.decode())))
    if len(found) < 4 * photos:
        raise RuntimeError(f"{url} lists {len(found)} photo files, want {4 * photos}")
    for path in found:
        s3.head_object(Bucket=BUCKET, Key=path.lstrip("/"))
    return 1 + len(found)


class RequestCount(logging.Handler):
    """Counts the requests moto's server logs (werkzeug's access log), by method."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.by_method: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        match = re.search(r'"([A-Z]+) ', record.getMessage())
        if match:
            self.by_method[match[1]] = self.by_method.get(match[1], 0) + 1


def distribution(cloudfront, bucket: str) -> str:
    """A distribution in front of the bucket (moto keeps what the publish invalidates)."""
    origin = {"Id": "site", "DomainName": f"{bucket}.s3.amazonaws.com",
              "S3OriginConfig": {"OriginAccessIdentity": ""}}
    config = {"CallerReference": "online-benchmark", "Comment": "benchmark", "Enabled": True,
              "Origins": {"Quantity": 1, "Items": [origin]},
              "DefaultCacheBehavior": {"TargetOriginId": "site", "ViewerProtocolPolicy":
                                       "https-only", "MinTTL": 0, "ForwardedValues": {
                                           "QueryString": False, "Cookies": {"Forward": "none"}}}}
    return cloudfront.create_distribution(DistributionConfig=config)["Distribution"]["Id"]


def parent_login(work: Path) -> tuple[str, str]:
    """Accounts for everyone; the login of a parent of a child in groep-1."""
    from plugins.roster import load_roster
    from publish.accounts import sync_accounts

    roster = load_roster(work / "roster")
    change = sync_accounts(roster, work / "private", rounds=4, letters=False)
    issued = {i.person_id: i for i in change.issued}
    parent = next(p for p in roster.parents.values()
                  if any(roster.children[c].group == "groep-1" for c in p.children))
    return issued[parent.id].login, issued[parent.id].passphrase


def measure(args) -> dict:
    from publish.targets.basic_auth import local_server
    from publish.targets.basic_auth.releases import Deploy

    work = Path(tempfile.mkdtemp(prefix="sp-online-"))
    work.chmod(0o755)  # the web server's user (www-data) reads the release, as in production
    targets = args.targets.split(",")
    figures: dict[str, list] = {}

    def note(key: str, value) -> None:
        figures.setdefault(key, []).append(value)

    moto = proc = None
    try:
        roster, content = make_school(work, 16, args.posts)
        if args.photos:
            add_photos(content, roster, args.photos, size=tuple(args.photo_size))
        login = parent_login(work)
        port = local_server.free_port()
        env = {"nginx": environment(work, port)}
        if "cloudfront" in targets:
            import boto3
            from moto.server import ThreadedMotoServer

            counter = RequestCount()
            logging.getLogger("werkzeug").addHandler(counter)
            logging.getLogger("werkzeug").setLevel(logging.INFO)
            moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            moto.start()
            endpoint = f"http://127.0.0.1:{moto.get_host_and_port()[1]}"
            keys = {"aws_access_key_id": "benchmark", "aws_secret_access_key": "benchmark"}
            s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **keys)
            s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
            cloudfront = boto3.client("cloudfront", endpoint_url=endpoint, region_name=REGION, **keys)
            env["cloudfront"] = environment(work, port, endpoint, distribution(cloudfront, BUCKET))
        started = time.perf_counter()
        for target in targets:  # the school year online: cold build (photos encoded) and publish
            publish(target, env[target])
        note("setup_s", round(time.perf_counter() - started, 1))
        if "nginx" in targets:
            proc = local_server.start(Deploy(work / "deploy" / "nginx"), port, work / "run")
        for n in range(args.rounds):
            url, photos = new_post(content, roster, n, args.new_photos)
            for target in targets:
                if target == "cloudfront":
                    counter.by_method.clear()
                start = time.perf_counter()
                done = publish(target, env[target])
                published = time.perf_counter()
                if target == "cloudfront":
                    note("cloudfront_requests", dict(counter.by_method))
                gets = (served_nginx(port, url, photos, login) if target == "nginx"
                        else served_s3(s3, url, photos))
                note(f"{target}_s", time.perf_counter() - start)
                note(f"{target}_publish_s", published - start)
                note(f"{target}_publish_cpu_s", done["cpu"])
                note(f"{target}_build_s", done["build_s"])  # of it: the build's part
                note(f"{target}_after_build_s", published - start - done["build_s"])
                note(f"{target}_check_gets", gets)
            # baseline: the same publish, every page rendered again (photo cache kept)
            extra = content / "school" / f"2027-04-{1 + n % 28:02d}-baseline-{n}.md"
            extra.write_text(f"Title: Baseline {n}\nDate: 2027-04-{1 + n % 28:02d} 10:00\n\n.\n",
                             encoding="utf-8")
            for target in targets:
                shutil.rmtree(work / "build-cache", ignore_errors=True)
                start = time.perf_counter()
                done = publish(target, env[target])
                note(f"{target}_full_s", time.perf_counter() - start)
                note(f"{target}_full_cpu_s", done["cpu"])
        files = sum(1 for p in (work / "output").rglob("*") if p.is_file())
    finally:
        if proc is not None:
            local_server.stop(proc)
        if moto is not None:
            moto.stop()
        shutil.rmtree(work, ignore_errors=True)
    result = {"benchmark": "online", "posts": args.posts, "photos": args.photos,
              "photo_size": args.photo_size, "new_photos": args.new_photos,
              "rounds": args.rounds, "cores": os.cpu_count(), "output_files": files,
              "setup_s": figures["setup_s"][0]}
    for key, values in figures.items():
        if key.endswith(("_s", "_gets")) and key != "setup_s":
            result[key] = round(statistics.median(values), 3)
    for target in targets:
        result[f"{target}_over_full"] = round(result[f"{target}_s"] / result[f"{target}_full_s"], 3)
    if "cloudfront" in targets:
        runs = figures["cloudfront_requests"]
        result["cloudfront_requests"] = {m: statistics.median(r.get(m, 0) for r in runs)
                                         for m in sorted({m for r in runs for m in r})}
    result["target_met"] = (result.get("nginx_s", 0) <= 2 and result.get("cloudfront_s", 0) <= 4)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=1300)
    ap.add_argument("--photos", type=int, default=2000)
    ap.add_argument("--photo-size", type=int, nargs=2, default=[2000, 1500],
                    help="background photos' pixels (default 2000 1500; 4000 3000 = 12 MP)")
    ap.add_argument("--new-photos", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--targets", default="nginx,cloudfront")
    args = ap.parse_args()
    with contextlib.redirect_stdout(sys.stderr):
        result = measure(args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
