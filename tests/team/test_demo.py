"""`invoke demo`: the printed teacher login posts from a phone and the demo's rounds publish it."""

from __future__ import annotations

import re
import time

from tests.site.test_serve import demo  # noqa: F401  (the `invoke demo` fixture)
from tests.team.conftest import jpeg


def test_the_demo_teacher_posts_from_a_phone(demo, demo_roster, phone):  # noqa: F811
    tmp, env, port, printed = demo
    logins = dict(re.findall(r"(\S+@\S+)\s+/\s+(\S{4}-\S{4}-\S{4}-\S{4})", "".join(printed)))
    teacher = demo_roster.staff["lk-02"]
    base = f"http://127.0.0.1:{port}"
    page = phone((teacher.email, logins[teacher.email]))
    page.goto(base + "/mijn/")
    page.get_by_role("link", name="Nieuw bericht").click()
    page.fill("#titel", "Demo vanaf de telefoon")
    (tmp / "IMG_1.jpg").write_bytes(jpeg(7))
    page.set_input_files("#fotos", [str(tmp / "IMG_1.jpg")])
    item = page.locator("ol.photos > li").nth(0)
    for name in ("Sem B.", "Zoë", "Jayden"):
        item.get_by_role("button", name=name, exact=True).click()
    assert item.locator(".verdict").inner_text() == "wordt geplaatst"
    page.get_by_role("button", name="Plaatsen").click()
    page.wait_for_selector("[data-receipt] p")
    parent = demo_roster.parents["ouder-001"]
    reader = phone((parent.email, logins[parent.email]))
    deadline = time.monotonic() + 60
    while True:
        reader.goto(base + "/groep/groep-3/")
        if "Demo vanaf de telefoon" in reader.content():
            break
        assert time.monotonic() < deadline, "".join(printed[-20:])
        time.sleep(0.5)
    reader.get_by_role("link", name="Demo vanaf de telefoon").click()
    assert reader.locator(".gallery ul img").count() == 1
    assert any("niet in git vastgelegd" in line for line in printed)  # the demo does not commit
