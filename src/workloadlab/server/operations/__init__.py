"""What a user can do, one function per action: its checks, its store writes, its audit events.

Inside the server the imports go one way: routes (HTTP only: parse, call one operation, render)
→ operations → store (SQL only). An operation takes the store (and the supervisor when it
changes what runs), the :class:`~workloadlab.server.audit.Actor`, and the request's typed input
(a model of :mod:`workloadlab.models`); it returns rows. It refuses with the domain errors of
:mod:`workloadlab.server.problems` (``NotFound``, ``Conflict``, ``Forbidden``, ``Invalid``),
which the app's one handler turns into HTTP answers. Each write and its audit event commit in
one transaction. Modules: ``artifacts``, ``workloads``, ``deployments``, ``logs``,
``credentials``.
"""
