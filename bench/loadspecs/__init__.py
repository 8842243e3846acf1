"""What the load benchmark puts under load: one module per feature.

A module here defines ``ENDPOINTS`` (a list of ``bench.load.Endpoint``) and, if it needs
data, ``seed(ctx)``. ``seed`` runs once in a process set up for the benchmark node (import
Django and ctip inside it); it calls the feature's services and records ids with
``ctx.add_ids(kind, agency_code, ids)``. ``ENDPOINTS`` are read by the load generator, which
has no Django: keep the module's top level free of Django imports. Example::

    from bench.load import Endpoint

    ENDPOINTS = [
        Endpoint("cases: list", path="/api/v1/cases?limit=20", weight=3),
        Endpoint("cases: detail", path=lambda ctx, user, rng: (
            f"/api/v1/cases/{ctx.pick('case', user, rng)}"), weight=3),
    ]

    def seed(ctx):
        from ctip.cases.services import case_open
        ...
        ctx.add_ids("case", user.agency_code, [str(case.pk) for case in cases])
"""
