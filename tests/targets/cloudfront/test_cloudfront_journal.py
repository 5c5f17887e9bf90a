"""The invalidation journal: durable, cleared only by a batch that covers an entry."""

from __future__ import annotations

from publish.targets.cloudfront.journal import InvalidationJournal, covers


def test_entries_are_cleared_only_by_a_batch_that_covers_them(tmp_path):
    journal = InvalidationJournal.in_folder(tmp_path / "private")
    journal.record(["/groep/groep-3/fotos/a.jpg", "/gezin/abc/fotos/b.webp"], "ingetrokken foto")
    journal.record(["/groep/groep-3/fotos/a.jpg", "/school/index.html"], "gewijzigd")
    assert [(e.path, e.reason) for e in journal.pending()] == [
        ("/groep/groep-3/fotos/a.jpg", "ingetrokken foto"),
        ("/gezin/abc/fotos/b.webp", "ingetrokken foto"),
        ("/school/index.html", "gewijzigd")]
    assert journal.path.stat().st_mode & 0o777 == 0o600  # names family sections: private

    journal.clear(["/school/index.htm", "/groep/groep-3/fotos/a.jpg"])
    assert [e.path for e in journal.pending()] == ["/gezin/abc/fotos/b.webp", "/school/index.html"]
    journal.clear(["/gezin/*"])
    assert [e.path for e in journal.pending()] == ["/school/index.html"]
    journal.clear(["/*"])
    assert journal.pending() == ()


def test_covers():
    assert covers("/groep/groep-3/*", "/groep/groep-3/fotos/a.jpg")
    assert covers("/groep/groep-3/*", "/groep/groep-3/*")
    assert not covers("/groep/groep-3/*", "/groep/groep-30/x")
    assert not covers("/groep/groep-3/index.html", "/groep/groep-3/fotos/a.jpg")
    assert not covers("/groep/groep-3/*", "/*")


def test_an_unreadable_journal_means_invalidate_everything(tmp_path):
    journal = InvalidationJournal(tmp_path / "j.json")
    journal.path.write_text("{half a json", encoding="utf-8")
    assert [e.path for e in journal.pending()] == ["/*"]
