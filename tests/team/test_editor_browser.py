"""A teacher posts from a phone (Playwright, the system Chromium at 390 x 844) on real nginx,
Apache and S3 + CloudFront (moto behind the distribution's Edge): the editor shows each
photo's verdict, the post goes out with `invoke postvak`, and parents read exactly the photos
the rules allow."""

from __future__ import annotations

import pytest

from tests.team.conftest import jpeg


def pick(page, photo: int, *names: str) -> None:
    item = page.locator("ol.photos > li").nth(photo)
    for name in names:
        item.get_by_role("button", name=name, exact=True).click()


def verdict(page, photo: int) -> str:
    return page.locator("ol.photos > li").nth(photo).locator(".verdict").inner_text()


@pytest.mark.parametrize("server", ["school", "apache_school", "cloudfront_school"])
def test_a_teacher_posts_from_the_phone_and_parents_read_it(server, request, demo_roster, phone,
                                                            tmp_path):
    school = request.getfixturevalue(server)
    teacher = demo_roster.staff["lk-02"]
    files = []
    for n in range(3):
        path = tmp_path / f"IMG_{n:04d}.jpg"
        path.write_bytes(jpeg(100 + n, size=(3000, 2250)))  # scaled to 2048 on the phone
        files.append(str(path))
    page = school.open(phone, teacher)
    page.goto(school.base + "/mijn/")
    page.wait_for_url("**/team/lk-02/")
    page.get_by_role("link", name="Nieuw bericht").click()
    page.wait_for_url("**/team/lk-02/nieuw/")
    page.fill("#titel", "Herfst in het bos")
    page.fill("#tekst", "We zochten *paddenstoelen* en vonden er 23.")
    page.get_by_role("button", name="Voorbeeld tonen").click()
    assert "<em>paddenstoelen</em>" in page.inner_html("[data-preview]")
    page.set_input_files("#fotos", files)
    page.wait_for_selector("ol.photos > li:nth-child(3) .chips")
    assert "wordt" not in verdict(page, 0) and "tik aan" in verdict(page, 0)
    pick(page, 0, "Sem B.")
    box = page.locator("ol.photos > li").nth(0).locator("img").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.4)  # a face
    pick(page, 0, "Zoë", "Jayden")
    assert verdict(page, 0) == "wordt geplaatst"
    pick(page, 1, "Sem B.", "Zoë", "Jayden", "Sara")
    assert verdict(page, 1) == "niet geplaatst: Sara heeft geen toestemming"
    pick(page, 2, "Sem K.", "Zoë")
    assert verdict(page, 2) == "niet geplaatst: minder dan 3 kinderen"
    assert page.locator("ol.photos .face").count() == 1
    shown = page.locator("ol.photos .face").evaluate(  # where the editor drew the tapped face
        "e => [parseFloat(e.style.left) / 100, parseFloat(e.style.top) / 100]")
    page.get_by_role("button", name="Plaatsen").dblclick()  # a double tap: one post
    page.wait_for_selector("[data-receipt] p")
    assert "Ontvangen om" in page.inner_text("[data-receipt]")
    if server == "cloudfront_school":  # three photos and a manifest, through the distribution
        puts = {uri: status for method, uri, status in school.edge.log if method == "PUT"}
        assert len(puts) == 4 and set(puts.values()) <= {200, 412}, puts
    done = school.postvak()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 geplaatst" in done.stdout, done.stdout
    (post,) = list((school.tmp / "content/groep/groep-3").glob("*-herfst-in-het-bos"))
    assert len(list(post.glob("foto-*.jpg"))) == 3
    assert "Sem B." in (post / "foto-01.jpg.xmp").read_text()
    from PIL import Image

    with Image.open(post / "foto-01.jpg") as img:
        assert max(img.size) == 2048 and not img.getexif()  # scaled, no metadata
        size = img.size
    from plugins.photos.tags import read_sidecar_tags

    # the tap is a fraction of the photo the phone made (the file that arrived), drawn for
    # its pixel size: what the build checks before it puts a mosaic there
    [tap], _ = read_sidecar_tags(post / "foto-01.jpg.xmp")
    assert tap.applied_to == size
    assert abs(tap.area[0] - shown[0]) < 1e-3 and abs(tap.area[1] - shown[1]) < 1e-3
    assert abs(tap.area[0] - 0.3) < 0.01  # where the test tapped (x: the page may move down)
    url = f"/groep/groep-3/{post.name}/"
    parent = school.open(phone, demo_roster.parents["ouder-001"])
    parent.goto(school.base + url)
    assert parent.locator("h1").inner_text() == "Herfst in het bos"
    assert parent.locator(".gallery ul img").count() == 1  # only the photo the rules allow
    other = school.open(phone, demo_roster.parents["ouder-006"])
    assert other.goto(school.base + url).status == 403
    assert parent.goto(school.base + "/team/lk-02/").status == 403  # staff only
    assert parent.goto(school.base + "/team/lk-02/nieuw/").status == 403
    page.goto(school.base + "/team/lk-02/")
    mine = page.locator("ul.statuses li", has_text="Herfst in het bos")
    assert "geplaatst" in mine.inner_text()
    assert mine.get_by_role("link").get_attribute("href") == url


def test_a_teacher_answers_on_a_family_page_and_the_parents_get_a_mail(school, demo_roster,
                                                                        phone):
    teacher = demo_roster.staff["lk-02"]
    parent = demo_roster.parents["ouder-001"]  # Zoë is in groep 3
    page = phone(school.login(teacher))
    page.goto(f"{school.base}/gezin/{parent.family}/")
    page.wait_for_selector("[data-team-answer]:not([hidden])")
    for forms in page.locator(".screens").all():  # the parents' forms: not for staff
        assert forms.is_hidden()
    assert page.locator("#bericht-tekst").is_hidden() and page.locator("#postvak").is_hidden()
    page.fill("#antwoord-tekst", "Dank voor uw bericht, **morgen** bel ik u.")
    page.get_by_role("button", name="Antwoord versturen").click()
    page.wait_for_selector("#antwoord .receipt p")
    assert "Ontvangen om" in page.inner_text("#antwoord .receipt")
    done = school.postvak()
    assert done.returncode == 0 and "1 geplaatst" in done.stdout, done.stdout + done.stderr
    (answer,) = list((school.tmp / "content/gezin" / parent.family).glob("*-antwoord-*.md"))
    assert f"Author: {teacher.name}" in answer.read_text()
    home = phone(school.login(parent))
    home.goto(f"{school.base}/gezin/{parent.family}/")
    thread = home.locator("ol.thread").inner_text()
    assert "morgen" in thread and teacher.name in thread
    assert home.locator("[data-team-answer]").is_hidden()  # parents keep their own forms
    mails = [p.read_text() for p in (school.tmp / "private/mail").glob("*.eml")]
    told = [m for m in mails if "Nieuw bericht op Mijn gezin" in m]
    assert told and any(parent.email in m for m in told)
    assert not any("morgen bel ik" in m for m in told)  # the text stays on the page
