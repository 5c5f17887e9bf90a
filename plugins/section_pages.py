"""Per-section indexes, feeds and home pages, replacing Pelican's site-wide ones.

Each section gets its own paginated index and Atom feed inside its own path,
so no page lists content of a section its readers may not open. Family pages
double as the parents' home page: they link the sections the family may read,
show the household's conversation with the school (its postvak items, read
from the file the processing exports, and the staff's posts) and hold the
postvak's forms.
The public part holds only the landing page, help pages, robots.txt and the
error pages; none of it carries personal data.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from pelican.generators import Generator

from . import agenda_output, family_threads, signup_pages, team_pages
from .agenda import DAYS
from .notice_prefs import preference, read_prefs
from .public_pages import render_login_assets
from .routing import POSTVAK

ROBOTS_TXT = "User-agent: *\nDisallow: /\n"


class SectionPagesGenerator(Generator):
    """Writes everything Pelican's own aggregates would have, per section."""

    def generate_context(self) -> None:
        # Read before anything is written: a bad agenda stops the build with file and line.
        self.agenda = agenda_output.prepare(self.settings, self.context.get("articles", []),
                                            self.settings["SCHOOLPLEIN_SECTIONS"])
        self.settings[agenda_output.SETTINGS_KEY] = self.agenda

    def generate_output(self, writer) -> None:
        sections = self.settings["SCHOOLPLEIN_SECTIONS"]
        roster = self.settings["SCHOOLPLEIN_ROSTER_OBJ"]
        by_section = defaultdict(list)
        for article in self.context.get("articles", []):
            by_section[article.section.prefix].append(article)
        pages = [p for p in self.context.get("pages", []) if getattr(p, "section", None)]
        groups = [s for s in sections if s.kind == "group"]

        base = dict(self.context, sections=sections, public_pages=pages, groups=groups)
        family_ids = frozenset(s.key for s in sections if s.kind == "family")
        self._team(writer, base, sections, roster)
        titles = {s.name: s.title for s in sections}
        for section in sections.protected:
            if section.kind in ("team", "staff"):
                continue  # their own pages: plugins.team_pages, plugins.signup_pages
            articles = by_section.get(section.prefix, [])
            # Everything a section's pages show besides the build's context goes in as keyword
            # arguments: the incremental writer reuses the pages when none of it changed.
            page = {"section": section, "agenda": self.agenda.upcoming(section, titles)}
            save_as = f"{section.dir}/index.html"
            if section.kind == "family":
                # One page, the whole conversation: a household's thread is short.
                page.update(self._family(section, roster, family_ids, articles))
                writer.write_file(save_as, self.get_template("family"), base,
                                  url=f"{section.dir}/", articles=articles,
                                  section_page=section.name, **page)
            else:
                writer.write_file(
                    save_as, self.get_template("section"), base,
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
        agenda_output.write(self.agenda, Path(self.output_path), sections, self.settings["SITENAME"])
        writer.write_file("index.html", self.get_template("landing"), base)
        writer.write_file("404.html", self.get_template("404"), base)
        # /login/, /uitloggen/, /mijn/, 401.html and 403.html, in the target's variant: public, no
        # personal data.
        render_login_assets(self.output_path, school_name=self.settings["SITENAME"],
                            target=self.settings["SCHOOLPLEIN_TARGET"])
        robots = Path(self.output_path) / "robots.txt"
        robots.write_text(ROBOTS_TXT, encoding="utf-8")

    def _team(self, writer, base, sections, roster) -> None:
        """Each staff member's own team page and editor (/team/<staff-id>/, /…/nieuw/)."""
        articles = self.context.get("articles", [])
        posts = team_pages.PostData(self.settings)  # each post's entry made once, for all pages
        for section in (s for s in sections if s.kind == "team"):
            page = team_pages.team_page(section.key, roster, sections, articles, self.settings,
                                        posts)
            writer.write_file(f"{section.dir}/index.html", self.get_template("team"), base,
                              url=f"{section.dir}/", section=section, team=page)
            writer.write_file(f"{section.dir}/nieuw/index.html", self.get_template("team_editor"),
                              base, url=f"{section.dir}/nieuw/", section=section, team=page,
                              team_json=team_pages.editor_data(page), data_id=team_pages.DATA_ID)
        posts.save()

    def _family(self, section, roster, family_ids, articles) -> dict:
        sections = self.settings["SCHOOLPLEIN_SECTIONS"]
        kids = family_threads.family_children(roster, section.key,
                                              self.settings["PHOTO_CONSENT_DEFAULT"])
        items = family_threads.read_thread(self.settings["SCHOOLPLEIN_PRIVATE"], section.key)
        groups = sorted({roster.children[k.id].group for k in kids})
        prefs = read_prefs(self.settings["SCHOOLPLEIN_PRIVATE"])
        family = roster.families[section.key]
        archived = [s for s in sections if s.kind == "archive" and set(family.parents) & s.readers]
        # Plain values, so the incremental writer can tell when the page is unchanged.
        return dict(
            family_id=section.key,
            family_children=family_threads.plain(kids),
            family_groups=[sections.get("group", g) for g in groups] + archived[::-1],
            recipients=family_threads.plain(family_threads.recipients(roster, section.key)),
            thread=family_threads.plain(
                family_threads.conversation(items, articles, section.key, family_ids)),
            postvak_url=f"/{section.dir}/{POSTVAK}/",
            consent_text={str(k): v for k, v in family_threads.CONSENT_TEXT.items()},
            # The family's own agenda is on the page; the school's and the groups' are merged in
            # the parent's browser (a teacher of one group reads this page too).
            notice_choices=[{"name": roster.parents[p].name, "text": preference(prefs, p).text()}
                            for p in family.parents],
            weekdays=list(DAYS),
            agenda_sources=[f"/{s.dir}/{agenda_output.JSON_NAME}" for s in (
                sections.get("school", "school"), *(sections.get("group", g) for g in groups),
                section)],
            signups=signup_pages.family_view(
                roster, section.key, self.settings.get("SCHOOLPLEIN_SIGNUPS", {}),
                signup_pages.read_state(self.settings["SCHOOLPLEIN_PRIVATE"]),
                self.settings["SCHOOLPLEIN_NOW"]),
        )
