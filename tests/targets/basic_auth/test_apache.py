"""The Apache variant of the basic-auth target, on real Apache from Debian."""

from __future__ import annotations

from publish import headers as cache_headers
from tests.helpers import cache_cases
from tests.http_client import Client


def test_apache_enforces_the_same_section_map(apache_site, roster, sections, demo_accounts,
                                              demo_build):
    output, _ = demo_build
    _, passwords = demo_accounts
    url, error_log = apache_site
    client = Client(url)
    try:
        people = [roster.parents["ouder-001"], roster.staff["lk-02"], roster.staff["mt-01"],
                  roster.parents["ouder-003"]]
        for section in sections:
            assert client.get(section.prefix)[0] == (401 if section.protected else 200), \
                error_log.read_text()[-2000:]
            for person in people:
                status, _, headers = client.get(section.prefix,
                                                (person.email, passwords[person.id]))
                expected = 200 if not section.protected or person.id in section.readers else 403
                assert status == expected, (person.id, section.prefix, status,
                                            error_log.read_text()[-2000:])
        status, _, headers = client.get("/school/")
        assert "noindex" in headers["X-Robots-Tag"]
        mt = roster.staff["mt-01"]
        paths = cache_cases(output, roster.parents["ouder-001"].family)
        answers = {path: client.get(path, (mt.email, passwords[mt.id])) for path in paths}
        assert answers["/groep/groep-3/"][0] == 200  # read, not refused (uitloggen: 401)
        assert {path: a[2]["Cache-Control"] for path, a in answers.items()} == {
            path: cache_headers.cache_control(path) for path in paths}
        assert client.get("/groep/groep-3/.htaccess")[0] in (401, 403, 404)
        assert client.get("/theme/", None)[0] in (403, 404)
    finally:
        client.close()
