"""Per-section indexes, feeds and home pages, replacing Pelican's site-wide ones.

Each section gets its own paginated index and Atom feed inside its own path,
so no page lists content of a section its readers may not open. Family pages
double as the parents' home page: they link the sections the family may read.
The public part holds only the landing page, help pages, robots.txt and the
error pages; none of it carries personal data.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from pelican.generators import Generator

from .public_pages import render_login_assets

ROBOTS_TXT = "User-agent: *\nDisallow: /\n"


class SectionPagesGenerator(Generator):
    """Writes everything Pelican's own aggregates would have, per section."""

    def generate_context(self) -> None:
        pass

    def generate_output(self, writer) -> None:
        sections = self.settings["SCHOOLPLEIN_SECTIONS"]
        roster = self.settings["SCHOOLPLEIN_ROSTER_OBJ"]
        by_section = defaultdict(list)
        for article in self.context.get("articles", []):
            by_section[article.section.prefix].append(article)
        pages = [p for p in self.context.get("pages", []) if getattr(p, "section", None)]
        groups = [s for s in sections if s.kind == "group"]

        base = dict(self.context, sections=sections, public_pages=pages, groups=groups)
        for section in sections.protected:
            articles = by_section.get(section.prefix, [])
            # Everything a section's pages show besides the build's context goes in as keyword
            # arguments: the incremental writer reuses the pages when none of it changed.
            page = {"section": section}
            if section.kind == "family":
                family = roster.families[section.key]
                kids = [roster.children[c] for c in family.children]
                page.update(
                    family_children=[(c.first_name, roster.groups[c.group].name) for c in kids],
                    family_groups=[sections.get("group", g) for g in sorted({c.group for c in kids})],
                )
                template = "family"
            else:
                template = "section"
            save_as = f"{section.dir}/index.html"
            writer.write_file(
                save_as, self.get_template(template), base,
                paginated={"articles": articles}, template_name="section",
                url=f"{section.dir}/", articles=articles, section_page=section.name, **page,
            )
            if articles:
                writer.write_feed(
                    articles, dict(base, section=section,
                                   SITENAME=f"{self.settings['SITENAME']} – {section.title}"),
                    f"{section.dir}/feed.atom", f"{section.dir}/feed.atom",
                    feed_title=f"{self.settings['SITENAME']} – {section.title}",
                )
        writer.write_file("index.html", self.get_template("landing"), base)
        for status in (401, 404):
            writer.write_file(f"{status}.html", self.get_template(str(status)), base)
        # /login/, /uitloggen/, /mijn/ (CloudFront login) and 403.html: public, no personal data.
        render_login_assets(self.output_path, school_name=self.settings["SITENAME"])
        robots = Path(self.output_path) / "robots.txt"
        robots.write_text(ROBOTS_TXT, encoding="utf-8")
