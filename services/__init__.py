"""The application layer: one module per use case.

Each use case takes a typed request and returns a typed result; it calls the
data layer (`providers`, which keeps the role checks, the audit and the
small-cell suppression) and the domain (`matcher`), and knows nothing of HTML,
SQL text or the web framework.  `wijzer` calls one use case per route and turns
its result into a page or a JSON body.
"""
