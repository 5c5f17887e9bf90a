"""Section pages: pagination and feeds stay inside the section; generated configs are valid."""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET

import pytest

from benchmarks.build import make_school
from plugins.roster import load_roster
from plugins.sections import ROOTS, build_section_map
from plugins.site import build
from publish.accounts import Account
from publish.targets import basic_auth
from publish.targets.basic_auth import local_server


@pytest.fixture(scope="module")
def big_school(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("big")
    roster, content = make_school(tmp, groups=3, posts=75)
    settings = build(output_path=str(tmp / "out"), schoolplein_roster=str(roster),
                     path=str(content), photo_cache_dir=str(tmp / "cache"),
                     photo_audit_dir=str(tmp / "audit"))
    return tmp / "out", settings["SCHOOLPLEIN_SECTIONS"]


def test_pagination_stays_inside_the_section(big_school):
    output, sections = big_school
    group = sections.get("group", "groep-1")
    pages = sorted((output / group.dir / "pagina").glob("*/index.html"))
    assert len(pages) >= 2  # 25 posts, 10 per page
    first = (output / group.dir / "index.html").read_text()
    assert f'href="/{group.dir}/pagina/2/"' in first
    for page in pages:
        for link in re.findall(r'href="(/[^"]*)"', page.read_text()):
            target = sections.for_path(link)
            assert target in (group, sections.get("school", "school")) or not target.protected \
                or link == target.prefix, link


def test_each_section_has_its_own_atom_feed_with_only_its_posts(big_school):
    output, sections = big_school
    for section in sections.protected:
        feed = output / section.dir / "feed.atom"
        if section.kind in ("family", "team", "staff"):  # one page, staff pages: no feed
            continue
        entries = ET.parse(feed).getroot().findall("{http://www.w3.org/2005/Atom}entry")
        assert entries
        for entry in entries:
            link = entry.find("{http://www.w3.org/2005/Atom}link").get("href")
            assert f"/{section.dir}/" in link
    assert not (output / "feeds").exists() and not (output / "tags").exists()
    assert not (output / "archives.html").exists() and not (output / "authors.html").exists()


def test_nginx_accepts_the_generated_config_with_hsts(tmp_path):
    sections = build_section_map(load_roster("roster"), "Kc de Matrix")
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<p>hoi</p>")
    accounts = {"ouder-001": Account("ouder-001", "a@example.nl", "$2b$04$" + "x" * 53, "")}
    deploy = basic_auth.publish(site, tmp_path / "deploy", sections, accounts,
                                "127.0.0.1:9", hsts=True)
    conf = deploy.nginx_conf.read_text()
    assert "Strict-Transport-Security" in conf
    # one password file for every section (one realm), /mijn/ and every section root
    # (unknown groups and families) included
    assert conf.count(f"auth_basic_user_file {deploy.password_file};") == \
        len(sections.protected) + 1 + len(ROOTS)
    run = tmp_path / "run"
    run.mkdir()
    main = run / "nginx.conf"
    main.write_text(basic_auth.nginx_main(deploy.nginx_conf, run))
    result = subprocess.run([local_server.nginx_binary(), "-t", "-c", str(main), "-p", str(run)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    # the password file holds every spelling of the one account; the map grants its sections
    lines = deploy.password_file.read_text().splitlines()
    assert lines == ["A@example.nl:$2b$04$" + "x" * 53, "a@example.nl:$2b$04$" + "x" * 53]
    for section in sections.protected:
        granted = f'"{section.name}:ouder-001" 1;' in conf
        assert granted == ("ouder-001" in section.readers), section.name
    # Apache: one .htaccess per section: the one password file, then the section's group
    current = deploy.current
    for section in sections.protected:
        ht = (current / section.dir / ".htaccess").read_text()
        assert f'AuthUserFile "{deploy.password_file}"' in ht
        assert f"Require group {section.name}" in ht
    assert "Options -Indexes" in (current / ".htaccess").read_text()
