"""From a failed check to a verdict that names its cause.

- `findings`: what a check saw, as data (hop, kind, subject, expected, seen), rendered once;
- `diagnose`: the pipeline hop by hop, the first broken hop named;
- `empty_query`: why a query is empty (metric, label or value never seen), pint-style;
- `artifacts`: the folder a failed run leaves (logs, component JSON, queries, diagnosis).
"""
