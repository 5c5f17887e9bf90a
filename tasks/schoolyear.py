"""School-year tasks: the yearly rollover, and a family's data on request (AVG)."""

from __future__ import annotations

from pathlib import Path

from .common import admin_task, settings


@admin_task(help={
    "export": "map met de export van de leerlingenadministratie voor het nieuwe jaar "
              "(groepen.csv, leerlingen.csv, ouders.csv, personeel.csv) / the new year's export; "
              "zonder: een voorstel (iedereen een groep verder) / without: a proposed move-up",
    "toepassen": "schrijf het nieuwe jaar weg (zonder: alleen het overzicht) / write it"})
def schooljaar(c, export=None, toepassen=False):
    """Start het nieuwe schooljaar: eerst het overzicht, dan --toepassen / Roll over the year."""
    from plugins.archive import kept_until, next_year
    from records import rollover

    cfg = settings()
    if export is None:
        year = rollover.current_year(*_roster(cfg))
        export = cfg.private / "schooljaar" / f"voorstel-{next_year(year)}"
        for line in rollover.propose(cfg.roster, export):
            print(line)
    plan = rollover.plan_rollover(cfg.roster, Path(export))
    for line in plan.lines(kept_until(plan.old_year, cfg.retention_months)):
        print(line)
    if not toepassen:
        print("\nEr is nog niets veranderd. Klopt het? Voer dan uit: invoke schooljaar "
              f"--export {export} --toepassen")
        return
    for line in rollover.apply(plan, cfg.roster, cfg.content, cfg.private):
        print(line)
    print("\nVolgende stappen: 'invoke accounts' (inloggegevens voor de nieuwe ouders), "
          "'invoke build' om te controleren, dan 'invoke publish'. Met CloudFront trekt die "
          "publicatie de inloglinks in die meer openen dan dit jaar mag, en schrijft ze nieuwe "
          "brieven.")


def _roster(cfg):
    from plugins.roster import load_roster

    return load_roster(cfg.roster), cfg.roster


@admin_task(help={"uit": "waar de zip komt / where the zip goes (standaard private/inzage/)"})
def inzage(c, gezin, uit=None):
    """Eén zip met alle gegevens van een gezin, met een brief (AVG) / A family's data as a zip."""
    from records import family_data

    from .common import build

    cfg = settings()
    built = build(cfg)  # the photos in it are the ones published now
    path = family_data.export(cfg, gezin.lower(), built["SCHOOLPLEIN_SECTIONS"],
                              Path(uit) if uit else None)
    print(f"Inzage voor gezin {gezin}: {path}\nPrivé: geef het alleen aan de ouders van dit gezin "
          "en verwijder het daarna.")


@admin_task(help={"nu": "ook als het gezin het archief nog mag lezen: het gezin vroeg het zelf / "
                        "also while the family still reads an archive (their own request)"})
def vergeet(c, gezin, nu=False):
    """Wis een vertrokken gezin overal; er blijft één regel zonder persoonsgegevens / Erase a family."""
    from records import family_data

    cfg = settings()
    counts = family_data.forget(cfg, gezin.lower(), now=nu)
    print("Gewist: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print(f"Vastgelegd zonder persoonsgegevens in {cfg.private / family_data.ERASED_LOG}. "
          "Publiceer opnieuw ('invoke publish') om het ook van de server te halen.")
