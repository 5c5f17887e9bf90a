"""Account tasks: logins and passphrase letters for parents and staff."""

from __future__ import annotations

from .common import admin_task, roster_and_sections, settings


@admin_task(iterable=["reset"], help={
    "reset": "nieuw wachtwoord voor deze persoon (id of e-mail), mag vaker / reset one person"})
def accounts(c, reset=None):
    """Maak accounts voor nieuwe ouders en medewerkers, verwijder vertrokkenen / Sync accounts."""
    from publish import accounts as store
    from publish.targets.cloudfront.settings import CloudFrontSettings

    from .keys import write_letters

    cfg = settings()
    roster, sections = roster_and_sections(cfg, with_former=True)  # former: archive readers
    change = store.sync_accounts(roster, cfg.private, reset=tuple(reset or ()),
                                 school=cfg.school_name, site_url=cfg.site_url,
                                 homes=sections.homes)
    print(f"{len(change.issued)} nieuwe inloggegevens, {len(change.removed)} accounts verwijderd.")
    if change.letters:
        print(f"Brieven om te printen (privé): {change.letters}\n"
              "Verwijder dit bestand zodra de brieven zijn uitgedeeld.")
    cloudfront = CloudFrontSettings.from_settings(cfg)
    if change.removed:
        print("nginx/Apache: publiceer opnieuw om de toegang van vertrokken mensen in te trekken.")
        if cloudfront.key_pair_id:
            print("CloudFront: hun inloglinks werken niet meer na de volgende "
                  "`invoke publish --target cloudfront` (de andere links blijven geldig).")
    if cloudfront.key_pair_id and cloudfront.private_key_file.exists():
        write_letters(cfg)  # the CloudFront target: personal login links with QR codes
