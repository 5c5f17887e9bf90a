"""Admin tasks (`invoke --list`), grouped by module; help texts Dutch first, English after '/'.

    website     build, check, serve, demo
    accounts    accounts
    publishing  publish --target nginx|cloudfront (publish.targets)
    keys        keys, provision, rotate-keys, cloudfront-letters (the CloudFront target)
    inbox       postvak (what parents send: absences, messages, photo consent, sign-ups),
                beeldgebruik, verlof (the directie decides a leave request)
    schoolyear  schooljaar (the yearly rollover), inzage and vergeet (a family's data, AVG)
    notices     meldingen (summaries of what is new), rapport (the staff report)

Every task is registered here and nowhere else; names stay flat (`invoke build`).
"""

from invoke import Collection

from . import accounts, inbox, keys, notices, publishing, schoolyear, website

ns = Collection()
for task in (website.build_site, website.check, website.serve, website.demo, accounts.accounts,
             publishing.publish, keys.keys, keys.provision, keys.rotate_keys,
             keys.cloudfront_letters, inbox.postvak, inbox.beeldgebruik, inbox.verlof,
             notices.meldingen, notices.rapport, schoolyear.schooljaar, schoolyear.inzage,
             schoolyear.vergeet):
    ns.add_task(task)
