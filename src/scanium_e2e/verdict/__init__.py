"""From a failed check to a verdict that names its cause.

- `diagnose`: the pipeline hop by hop, the first broken hop named;
- `empty_query`: why a query is empty (metric, label or value never seen), pint-style;
- `causes`: failures grouped by their first finding's (hop, kind, subject);
- `failure_repr`: a failed test's report, its summary line the cause's sentence (masked);
- `summary`: the verdict at the end of a run (causes and the hop ladder, or what was proved);
- `writers`: the verdict as JSON (`--scanium-verdict-json`) and as a Markdown job summary.

What a check saw, as data, is a finding (scanium_e2e.findings, low in the flow so every
room can produce one); the folder a failed run leaves is written by session/artifacts.py.
"""
