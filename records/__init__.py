"""What the school keeps over the years: the yearly rollover, retention, a family's own data.

    rollover    `invoke schooljaar`: the next school year from the pupil administration's
                export (or a proposed move-up), shown as a diff, then written
    retention   archives past their retention date: removed before a publish
    leavers     `invoke beeldgebruik` for a child who left: the consent cell of their archive years
    family_data `invoke inzage` (one zip for a family) and `invoke vergeet` (erase a family
                that left)

Imports run tasks -> records -> publish/postvak -> plugins.
"""
